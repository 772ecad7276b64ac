/**
 * The leveled log (SyncMgr's error tab): entries added by handlers through
 * `ctx.logError` and by the manager, deletable by handler and id.
 */
import type { LogLevel } from '../protocol/types.ts';

export interface LogEntry {
  /** The handler's errorId (or a generated one); unique per handler. */
  errorId: string;
  level: LogLevel;
  text: string;
  handlerId: string;
  itemId: string | null;
  /** The user can act on it (SyncMgr's ENABLEJUMPTEXT). */
  actionable: boolean;
  /** Epoch milliseconds. */
  time: number;
  sessionId: string | null;
}

export class LogBook {
  #entries: LogEntry[] = [];

  /** Adds an entry; one with the same handler and errorId is replaced. Returns the replaced entry, if any. */
  add(entry: LogEntry): LogEntry | undefined {
    const i = this.#entries.findIndex((e) => e.handlerId === entry.handlerId && e.errorId === entry.errorId);
    if (i < 0) {
      this.#entries.push(entry);
      return undefined;
    }
    const [old] = this.#entries.splice(i, 1, entry);
    return old;
  }

  /** Deletes one entry of a handler by errorId, or all of its entries when `errorId` is undefined. */
  delete(handlerId: string, errorId?: string): LogEntry[] {
    const removed: LogEntry[] = [];
    this.#entries = this.#entries.filter((e) => {
      const hit = e.handlerId === handlerId && (errorId === undefined || e.errorId === errorId);
      if (hit) removed.push(e);
      return !hit;
    });
    return removed;
  }

  list(): LogEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  clear(): LogEntry[] {
    const all = this.#entries;
    this.#entries = [];
    return all;
  }
}
