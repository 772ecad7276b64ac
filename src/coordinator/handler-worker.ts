/**
 * Starts a handler's worker and watches it: the ready handshake (with a time
 * limit), crash detection, and a clean end. A worker that throws an uncaught
 * error, posts an unreadable message, or disappears (`self.close()`, killed)
 * is reported through `died`, so no call into it can hang.
 */
import type * as Comlink from 'comlink';
import { SyncError } from '../protocol/sync-error.ts';
import { hasWebLocks, watchLifeLock } from '../protocol/locks.ts';
import { PROTOCOL_VERSION, isLockedMessage, isReadyMessage, type HandlerApi } from '../protocol/worker-api.ts';
import type { ResolvedHandler, WorkerLike } from './options.ts';
import { deferred } from '../internal/deferred.ts';
import { lane, type LaneEndpoint, type LaneTarget } from '../internal/lane.ts';
import { wrapGated } from './comlink-gate.ts';

/** A handler's worker that made its ready handshake. */
export interface HandlerWorker {
  /** The handler's API, in the `handler` lane of the worker's port, behind the gate. */
  readonly api: Comlink.Remote<HandlerApi>;
  /** The `coordinator` lane of the worker's port, where the manager serves the worker's calls (behind the gate). */
  readonly coordinator: LaneEndpoint;
  /** The handler implements `prepare()`. */
  readonly prepares: boolean;
  /** The handler implements `showError()`. */
  readonly showsErrors: boolean;
  /** Resolves (never rejects) with the reason when the worker crashes or disappears. */
  readonly died: Promise<SyncError>;
  /** Closes both lanes, stops watching and terminates the worker; idempotent. */
  terminate(): void;
}

/**
 * Spawns the worker and waits for its ready handshake. Rejects with `E_FAIL`
 * (factory threw, script failed, wrong protocol), `E_TIMEOUT` (no handshake
 * within `timeouts.ready`) or the signal's reason; the worker is then terminated.
 */
export async function startHandlerWorker(handler: ResolvedHandler, signal: AbortSignal): Promise<HandlerWorker> {
  const who = `Handler '${handler.id}'`;
  let worker: WorkerLike;
  try {
    worker = handler.worker();
  } catch (cause) {
    throw new SyncError('E_FAIL', `${who}: its worker factory threw: ${(cause as Error)?.message ?? cause}.`, { cause });
  }
  if (!worker || typeof worker.terminate !== 'function' || typeof worker.addEventListener !== 'function' || typeof worker.postMessage !== 'function') {
    throw new SyncError('E_FAIL', `${who}: its worker factory must return a Worker, e.g. new Worker(new URL('./handler.ts', import.meta.url), { type: 'module' }).`);
  }
  const died = deferred<SyncError>();
  const watch = new AbortController();
  let ended = false;
  const onError = (event: ErrorEvent) => {
    // Reported as the handler's outcome, so not also as an uncaught error of the page.
    event.preventDefault();
    const where = event.filename ? ` (${event.filename}:${event.lineno})` : '';
    const detail = event.message || 'its script failed to load or threw while starting';
    died.resolve(new SyncError('E_FAIL', `${who}: its worker crashed: ${detail}${where}.`, { cause: event.error ?? undefined }));
  };
  const onMessageError = () => died.resolve(new SyncError('E_FAIL', `${who}: its worker sent a message that could not be read.`));
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onMessageError);

  const target = worker as unknown as LaneTarget;
  const handlerLane = lane(target, 'handler');
  const coordinator = lane(target, 'coordinator');
  let onLocked: ((event: MessageEvent) => void) | undefined;
  const terminate = () => {
    if (ended) return;
    ended = true;
    // Settles `died` for whoever still waits on it: the manager ended the worker, it did not crash.
    died.resolve(new SyncError('E_ABORT', `${who}: its worker was terminated by the manager.`));
    watch.abort();
    worker.removeEventListener('error', onError);
    worker.removeEventListener('messageerror', onMessageError);
    if (onLocked) worker.removeEventListener('message', onLocked);
    // Not releaseProxy(): it asks the worker to release its end and waits for an answer that a
    // terminated worker never sends (a promise left pending). Closing our end is all that is needed.
    handlerLane.close();
    coordinator.close();
    worker.terminate();
  };

  let prepares = true;
  let showsErrors = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onMessage: ((event: MessageEvent) => void) | undefined;
  const onAbort = () => died.resolve(SyncError.is(signal.reason) ? signal.reason : new SyncError('E_ABORT', `${who}: start aborted.`));
  // Rejects when the worker dies before its handshake; handled here so a later death is not an unhandled rejection.
  const diedEarly = died.promise.then((e) => Promise.reject(e));
  diedEarly.catch(() => {});
  try {
    const ready = await Promise.race([
      new Promise<{ lock: string | null; prepares: boolean; showsErrors: boolean }>((resolve, reject) => {
        onMessage = (event: MessageEvent) => {
          const data: unknown = event.data;
          if (!isReadyMessage(data)) return;
          if (data.protocol !== PROTOCOL_VERSION) {
            reject(new SyncError('E_FAIL', `${who}: its worker speaks protocol ${data.protocol}, the manager ${PROTOCOL_VERSION}; build both from the same syncmgr version.`));
          } else {
            resolve({ lock: data.lock, prepares: data.prepares !== false, showsErrors: data.showsErrors === true });
          }
        };
        worker.addEventListener('message', onMessage);
        timer = setTimeout(() => reject(new SyncError('E_TIMEOUT', `${who}: its worker did not call defineHandler() within ${handler.timeouts.ready} ms; check that the worker module imports 'syncmgr/handler' and calls defineHandler().`)), handler.timeouts.ready);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
      diedEarly,
    ]);
    prepares = ready.prepares;
    showsErrors = ready.showsErrors;
    const lock = ready.lock;
    if (lock !== null && hasWebLocks()) {
      // The worker asks for its lock LIFE_LOCK_DELAY after defineHandler(), or when initialize() is
      // called (prepare() and synchronize() wait for the grant); the timer and the grant need its thread
      // free, and synchronous work at its start (compiling a large WASM module, say) holds them up
      // for as long as it runs. A busy worker and one that ended before holding its lock look the
      // same from here, so there is no deadline for the lock: until it is held, the handler's own
      // time limit bounds the wait.
      onLocked = (event: MessageEvent) => {
        if (!isLockedMessage(event.data)) return;
        worker.removeEventListener('message', onLocked!);
        onLocked = undefined;
        if (event.data.held) watchLifeLock(lock, watch.signal, () => died.resolve(new SyncError('E_FAIL', `${who}: its worker ended unexpectedly (it called close() or was killed).`)));
      };
      worker.addEventListener('message', onLocked);
    }
  } catch (error) {
    terminate();
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    if (onMessage) worker.removeEventListener('message', onMessage);
  }
  return { api: wrapGated<HandlerApi>(handlerLane), coordinator, prepares, showsErrors, died: died.promise, terminate };
}
