/**
 * SyncMgr's ShowError for one log entry: the handler's worker is started
 * for this call alone (no session, no connections), its `showError()` is
 * called with the entry, and the worker is ended; the answer is the items to
 * sync again. A handler without `showError()` answers for it: the entry's
 * item, or every item the user chose when the entry names none. The worker's
 * start and the call get the handler's own time limits.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { unwrap } from '../protocol/wire.ts';
import type { ShowErrorInfo } from '../protocol/types.ts';
import type { LogEntry } from '../state/log-book.ts';
import { startHandlerWorker } from './handler-worker.ts';
import type { ResolvedHandler } from './options.ts';

/** What to sync again: these items, the handler's choices (`'choices'`), or nothing (`null`). */
export type RetryAnswer = string[] | 'choices' | null;

export async function askHandler(handler: ResolvedHandler, entry: LogEntry & { handlerId: string }): Promise<RetryAnswer> {
  const stop = new AbortController();
  const limit = setTimeout(() => stop.abort(new SyncError('E_TIMEOUT', `Handler '${handler.id}': showError() did not answer within ${handler.timeouts.handler} ms; its worker was terminated.`)), handler.timeouts.handler);
  const aborted = new Promise<never>((_, reject) => stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true }));
  aborted.catch(() => {});
  let end = () => {};
  try {
    const worker = await startHandlerWorker(handler, stop.signal);
    end = () => worker.terminate();
    if (!worker.showsErrors) return entry.itemId !== null ? [entry.itemId] : 'choices';
    const info: ShowErrorInfo = {
      handlerId: handler.id, errorId: entry.errorId, level: entry.level, text: entry.text, itemId: entry.itemId, code: entry.code ?? null,
    };
    const died = worker.died.then((error) => Promise.reject(error));
    died.catch(() => {});
    return unwrap(await Promise.race([worker.api.showError(info), died, aborted]));
  } finally {
    clearTimeout(limit);
    stop.abort();
    end();
  }
}
