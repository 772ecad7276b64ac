/**
 * Events of the manager's state, dispatched on the manager (see
 * `SyncManagerEventMap`). Each carries its data as fields.
 */
import type { LogEntry } from './log-book.ts';

/** What a `log` event did. */
export type LogAction = 'add' | 'delete';

/** `log`: entries were added or deleted (a delete also when the bound evicts). */
export class LogEvent extends Event {
  readonly action: LogAction;
  readonly entries: readonly LogEntry[];
  constructor(action: LogAction, entries: readonly LogEntry[]) {
    super('log');
    this.action = action;
    this.entries = entries;
  }
}

/** Which part of the stored state a `statechange` event is about. */
export type StatePart = 'loaded' | 'items' | 'sessions';

/**
 * `statechange`: stored state changed. `part` says what: `loaded` (the state
 * was read from storage: render everything), `items` (the items or choices of
 * `handlerId`), `sessions` (the history). Log changes are `log` events.
 */
export class StateChangeEvent extends Event {
  readonly part: StatePart;
  readonly handlerId: string | null;
  constructor(part: StatePart, handlerId: string | null = null) {
    super('statechange');
    this.part = part;
    this.handlerId = handlerId;
  }
}

/** `storagefallback`: the state store failed; state is kept in memory from now on. Dispatched at most once per manager. */
export class StorageFallbackEvent extends Event {
  /** `E_FAIL` (the store threw) or its cause `E_TIMEOUT` (it did not answer); `cause` holds the store's own error. */
  readonly error: Error;
  constructor(error: Error) {
    super('storagefallback');
    this.error = error;
  }
}
