/**
 * The raw baseline of the session-overhead case: a module worker that says
 * it is ready and answers every message with the same message. No library.
 */
self.onmessage = (event: MessageEvent) => self.postMessage(event.data);
self.postMessage('ready');
