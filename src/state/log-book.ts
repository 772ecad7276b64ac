/**
 * The leveled log (SyncMgr's error tab): entries added by handlers through
 * `ctx.logError` and by the manager, deletable by handler and id, bounded by
 * {@link MAX_LOG_ENTRIES} with the eviction rule of {@link LogBook.trim}.
 */
import type { LogLevel } from '../protocol/types.ts';
import type { SyncErrorCode } from '../protocol/sync-error.ts';

export interface LogEntry {
  /** The handler's errorId (or a generated one); unique per handler. */
  errorId: string;
  level: LogLevel;
  text: string;
  /** The handler that logged it; `null` for the manager's own entries (storage fallback, interrupted session). */
  handlerId: string | null;
  itemId: string | null;
  /** The user can act on it (SyncMgr's ENABLEJUMPTEXT). */
  actionable: boolean;
  /** Epoch milliseconds. */
  time: number;
  sessionId: string | null;
  /** On the manager's entries about a failure: the error's code (`null` when it had none). Absent on a handler's own entries. */
  code?: SyncErrorCode | null;
}

/** The log keeps at most this many entries; see {@link LogBook.trim} for which go first. */
export const MAX_LOG_ENTRIES = 500;

/** Told of every change: the entry now stored under `seq`, or `undefined` when it was removed. */
export type LogObserver = (seq: number, entry: LogEntry | undefined) => void;

/** Which entries go first when the log is full: information, then warnings, then errors. */
const EVICTION_ORDER: readonly LogLevel[] = ['information', 'warning', 'error'];

export class LogBook {
  /** In insertion order; `seq` is the entry's stable number (its storage key). */
  #entries: { seq: number; entry: LogEntry }[] = [];
  #next = 1;
  readonly #observe: LogObserver;

  constructor(observe: LogObserver = () => {}) {
    this.#observe = observe;
  }

  /** Adds an entry; one with the same handler and errorId is replaced in place. Returns the replaced entry, if any. */
  add(entry: LogEntry): LogEntry | undefined {
    const i = this.#entries.findIndex((e) => e.entry.handlerId === entry.handlerId && e.entry.errorId === entry.errorId);
    if (i < 0) {
      const seq = this.#next++;
      this.#entries.push({ seq, entry });
      this.#observe(seq, entry);
      return undefined;
    }
    const old = this.#entries[i]!;
    this.#entries[i] = { seq: old.seq, entry };
    this.#observe(old.seq, entry);
    return old.entry;
  }

  /** Deletes the entries of a handler that `match` accepts. */
  deleteWhere(handlerId: string, match: (entry: LogEntry) => boolean): LogEntry[] {
    return this.#remove((e) => e.handlerId === handlerId && match(e));
  }

  /** Deletes one entry of a handler (`null`: the manager's) by errorId, or all of its entries when `errorId` is undefined. */
  delete(handlerId: string | null, errorId?: string): LogEntry[] {
    return this.#remove((e) => e.handlerId === handlerId && (errorId === undefined || e.errorId === errorId));
  }

  /**
   * Evicts entries until at most `max` remain: the oldest information entry
   * goes first; warnings only when no information entry is left, errors last.
   * Returns the evicted entries.
   */
  trim(max = MAX_LOG_ENTRIES): LogEntry[] {
    const evicted: LogEntry[] = [];
    while (this.#entries.length > max) {
      let i = -1;
      for (const level of EVICTION_ORDER) {
        i = this.#entries.findIndex((e) => e.entry.level === level);
        if (i >= 0) break;
      }
      const [gone] = this.#entries.splice(Math.max(i, 0), 1);
      this.#observe(gone!.seq, undefined);
      evicted.push(gone!.entry);
    }
    return evicted;
  }

  list(): LogEntry[] {
    return this.#entries.map((e) => ({ ...e.entry }));
  }

  get size(): number {
    return this.#entries.length;
  }

  clear(): LogEntry[] {
    return this.#remove(() => true);
  }

  /** The entries with their sequence numbers, oldest first. */
  records(): [seq: number, entry: LogEntry][] {
    return this.#entries.map((e) => [e.seq, e.entry]);
  }

  /** Replaces the whole log with stored entries (not reported to the observer). */
  restore(records: Iterable<[seq: number, entry: LogEntry]>): void {
    this.#entries = [...records].sort((a, b) => a[0] - b[0]).map(([seq, entry]) => ({ seq, entry }));
    this.#next = Math.max(0, ...this.#entries.map((e) => e.seq)) + 1;
  }

  #remove(hit: (entry: LogEntry) => boolean): LogEntry[] {
    const removed: LogEntry[] = [];
    this.#entries = this.#entries.filter((e) => {
      if (!hit(e.entry)) return true;
      removed.push(e.entry);
      this.#observe(e.seq, undefined);
      return false;
    });
    return removed;
  }
}
