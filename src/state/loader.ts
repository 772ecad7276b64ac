/**
 * Loading the stored state: the store is brought to the current schema, the
 * manager's rows are read and turned back into the in-memory picture, and a
 * journal left by a session that never ended becomes an `interrupted` session
 * in the history.
 *
 * Stored data is checked like any other input: a row that does not fit its
 * shape is dropped and counted, never trusted.
 */
import { isTerminal, type ItemStatus } from '../protocol/types.ts';
import type { StateStore } from '../storage/state-store.ts';
import type { LogEntry } from './log-book.ts';
import { liveJournal, type LiveJournal } from './journal.ts';
import { migrate } from './migrations.ts';
import { interruptedEntry } from './own-entries.ts';
import {
  KEYS, STATE_SCHEMA_VERSION, isChoices, isItemRecord, isLogEntry, isSessionJournal, isSessionSummary, seqOf,
  type HandlerSummary, type ItemRecord, type SessionSummary, type StoredError,
} from './records.ts';

/** A session summary with its sequence number (the end of its key). */
export interface NumberedSession {
  seq: number;
  summary: SessionSummary;
}

/** The in-memory picture as the stored rows tell it. */
export interface RestoredState {
  /** Per handler, the user's choices by item id. */
  choices: Map<string, Map<string, boolean>>;
  /** Per handler, its item records by item id. */
  items: Map<string, Map<string, ItemRecord>>;
  /** Log entries with their sequence numbers, in no particular order. */
  log: [seq: number, entry: LogEntry][];
  /** Oldest first. */
  sessions: NumberedSession[];
  /** The journal of a session that was running when the state was last written. */
  journal: LiveJournal | null;
  /** How many rows could not be read (and were ignored). */
  dropped: number;
}

/** Migrates the store to the schema this code reads, then reads every manager row. */
export async function readStoredRows(store: StateStore): Promise<[string, unknown][]> {
  await migrate(store, STATE_SCHEMA_VERSION);
  return store.entries(KEYS.managerPrefix);
}

/** Turns stored rows into the in-memory picture; rows that do not fit are counted in `dropped`. */
export function restoreState(rows: readonly [string, unknown][]): RestoredState {
  const state: RestoredState = { choices: new Map(), items: new Map(), log: [], sessions: [], journal: null, dropped: 0 };
  for (const [key, value] of rows) {
    if (key === KEYS.meta) continue;
    if (key === KEYS.journal && isSessionJournal(value)) {
      state.journal = liveJournal(value);
    } else if (key.startsWith(KEYS.choicesPrefix) && isChoices(value)) {
      state.choices.set(key.slice(KEYS.choicesPrefix.length), new Map(value));
    } else if (key.startsWith(KEYS.itemsPrefix) && Array.isArray(value) && value.every(isItemRecord)) {
      state.items.set(key.slice(KEYS.itemsPrefix.length), new Map(value.map((r) => [r.id, r])));
    } else if (key.startsWith(KEYS.logPrefix) && seqOf(key, KEYS.logPrefix) !== null && isLogEntry(value)) {
      state.log.push([seqOf(key, KEYS.logPrefix)!, value]);
    } else if (key.startsWith(KEYS.sessionPrefix) && seqOf(key, KEYS.sessionPrefix) !== null && isSessionSummary(value)) {
      state.sessions.push({ seq: seqOf(key, KEYS.sessionPrefix)!, summary: value });
    } else {
      state.dropped++;
    }
  }
  state.sessions.sort((a, b) => a.seq - b.seq);
  return state;
}

// ---- recovery of an interrupted session ----

/** What an interrupted session leaves behind. */
export interface Interruption {
  /** Its history entry, outcome `interrupted`. */
  summary: SessionSummary;
  /** The warning for the log, naming the items that were stopped. */
  entry: LogEntry;
  /** The handlers whose item records changed (to be written). */
  changed: string[];
}

const INTERRUPTED_ERROR: StoredError = { name: 'SyncError', code: 'E_ABORT', message: 'The session was interrupted: the page was closed, reloaded or crashed before it ended.' };

/**
 * Ends the session of a journal found at load (its lock not held): an item
 * keeps the last status the journal has for it if that status is final, and
 * is `stopped` otherwise. The item records in `items` take that status as of
 * the journal's last update; they are changed in place.
 */
export function interrupt(journal: LiveJournal, items: ReadonlyMap<string, Map<string, ItemRecord>>, handlerNames: ReadonlyMap<string, string>): Interruption {
  const stopped: string[] = [];
  const changed: string[] = [];
  const handlers = [...journal.handlers].map(([handlerId, statuses]): HandlerSummary => {
    const records = items.get(handlerId);
    const summaryItems = [...statuses].map(([itemId, last]) => {
      const status: ItemStatus = isTerminal(last) ? last : 'stopped';
      if (status === 'stopped') stopped.push(`${handlerId}/${itemId}`);
      const record = records?.get(itemId);
      if (record) {
        record.status = status;
        record.lastSync = journal.updatedAt;
        if (status === 'succeeded') {
          record.lastSuccess = journal.updatedAt;
          record.lastError = null;
        }
      }
      return { id: itemId, name: record?.name ?? itemId, status };
    });
    if (records) changed.push(handlerId);
    return { id: handlerId, name: handlerNames.get(handlerId) ?? handlerId, outcome: 'interrupted', error: INTERRUPTED_ERROR, items: summaryItems };
  });
  return {
    summary: { id: journal.sessionId, trigger: journal.trigger, outcome: 'interrupted', startedAt: journal.startedAt, endedAt: journal.updatedAt, handlers, connections: [] },
    entry: interruptedEntry(journal, stopped),
    changed,
  };
}
