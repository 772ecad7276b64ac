/**
 * A reference for the session-overhead case: a module worker that loads the
 * handler runtime (syncmgr/handler and comlink, as a handler's worker does)
 * but does not call defineHandler(); it says it is ready and answers every
 * message with the same message, as raw-worker.ts does. The difference to
 * raw-worker.ts is the cost of loading the runtime; the difference to a
 * session is the manager's own.
 */
import { defineHandler } from '../../src/handler.ts';

if (typeof defineHandler !== 'function') throw new Error('the handler runtime did not load');
self.onmessage = (event: MessageEvent) => self.postMessage(event.data);
self.postMessage('ready');
