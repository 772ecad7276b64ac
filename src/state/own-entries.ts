/**
 * The log entries the manager's state writes itself (handlerId `null`): a
 * storage fallback, stored records it could not read, a session interrupted
 * by a closed or crashed page. Their errorIds are fixed (the interrupted
 * one per session), so the log replaces an entry of the same kind instead of
 * piling them up, and an app can find or delete them.
 */
import type { LogEntry } from './log-book.ts';
import type { SessionJournal } from './records.ts';

/** The errorIds of the manager's own log entries (handlerId `null`). */
export const FALLBACK_ERROR_ID = 'syncmgr:storage-fallback';
export const INTERRUPTED_ERROR_ID_PREFIX = 'syncmgr:interrupted:';
const UNREADABLE_ERROR_ID = 'syncmgr:unreadable-records';
const UNSTORABLE_ERROR_ID = 'syncmgr:unstorable-values';

/** The store failed and the state moved to memory; `text` is the fallback report's message. */
export function fallbackEntry(text: string): LogEntry {
  return managerEntry(FALLBACK_ERROR_ID, 'warning', text);
}

/** `dropped` stored records did not fit their shape and were ignored at load. */
export function unreadableRecordsEntry(dropped: number): LogEntry {
  return managerEntry(UNREADABLE_ERROR_ID, 'warning', `${dropped} stored record(s) could not be read and were ignored (damaged, or written by another program).`);
}

/** The store refused to clone the values of `keys`: they live in memory only; everything else is written as before. */
export function unstorableEntry(keys: readonly string[]): LogEntry {
  const shown = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
  return managerEntry(UNSTORABLE_ERROR_ID, 'error', `The state store could not store the value(s) of ${shown} (DataCloneError); they are kept in memory only and will not survive a reload. The rest of the state is written as before.`);
}

/** The session of `journal` never ended; `stopped` names its unfinished items as `handlerId/itemId`. */
export function interruptedEntry(journal: Pick<SessionJournal, 'sessionId' | 'startedAt' | 'trigger'>, stopped: readonly string[]): LogEntry {
  const which = stopped.length ? `${stopped.length} item(s) were stopped: ${stopped.join(', ')}.` : 'No item had started.';
  return {
    ...managerEntry(INTERRUPTED_ERROR_ID_PREFIX + journal.sessionId, 'warning', `The sync session started at ${new Date(journal.startedAt).toISOString()} (trigger '${journal.trigger}') was interrupted: the page was closed, reloaded or crashed before it ended. ${which}`),
    sessionId: journal.sessionId,
  };
}

function managerEntry(errorId: string, level: LogEntry['level'], text: string): LogEntry {
  return { errorId, level, text, handlerId: null, itemId: null, actionable: false, time: Date.now(), sessionId: null };
}
