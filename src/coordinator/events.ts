/**
 * Events of the {@link SyncManager}. Each carries its data as fields.
 */
import type { ConnectionKind, ConnectionState, ItemStatus } from '../protocol/types.ts';
import type { LogEntry } from './log-book.ts';
import type { ItemSnapshot, SessionResult } from './result.ts';
import type { SlotOutcome, SlotPhase } from './slot-phase.ts';
import type { SyncSession } from './session.ts';

/** `sessionstart`, `sessionend` (with `result`). */
export class SessionEvent extends Event {
  readonly session: SyncSession;
  readonly result: SessionResult | null;
  constructor(type: 'sessionstart' | 'sessionend', session: SyncSession, result: SessionResult | null = null) {
    super(type);
    this.session = session;
    this.result = result;
  }
}

/** `handlerstate`: a handler entered a phase, or finished with an outcome. */
export class HandlerStateEvent extends Event {
  readonly sessionId: string;
  readonly handlerId: string;
  readonly phase: SlotPhase;
  readonly outcome: SlotOutcome | null;
  readonly error: Error | null;
  constructor(sessionId: string, handlerId: string, phase: SlotPhase, outcome: SlotOutcome | null, error: Error | null) {
    super('handlerstate');
    this.sessionId = sessionId;
    this.handlerId = handlerId;
    this.phase = phase;
    this.outcome = outcome;
    this.error = error;
  }
}

/** `progress` (any change of an item) and `itemstatus` (its status changed). */
export class ItemEvent extends Event {
  readonly sessionId: string;
  readonly handlerId: string;
  readonly item: ItemSnapshot;
  readonly previousStatus: ItemStatus;
  constructor(type: 'progress' | 'itemstatus', sessionId: string, handlerId: string, item: ItemSnapshot, previousStatus: ItemStatus) {
    super(type);
    this.sessionId = sessionId;
    this.handlerId = handlerId;
    this.item = item;
    this.previousStatus = previousStatus;
  }
}

/** `log`: entries were added or deleted. */
export class LogEvent extends Event {
  readonly action: 'add' | 'delete';
  readonly entries: readonly LogEntry[];
  constructor(action: 'add' | 'delete', entries: readonly LogEntry[]) {
    super('log');
    this.action = action;
    this.entries = entries;
  }
}

/**
 * `statechange`: stored state changed. `part` says what: `loaded` (the state
 * was read from storage: render everything), `items` (the items or choices of
 * `handlerId`), `sessions` (the history). Log changes are `log` events.
 */
export class StateChangeEvent extends Event {
  readonly part: 'loaded' | 'items' | 'sessions';
  readonly handlerId: string | null;
  constructor(part: 'loaded' | 'items' | 'sessions', handlerId: string | null = null) {
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

/**
 * `connectionopen`, `connectionclose`, `connectionstate` (a WebSocket is
 * reconnecting, open again, failed or closed) and `connectionerror` (an attempt
 * failed, or something went wrong on an open connection).
 */
export class ConnectionEvent extends Event {
  readonly sessionId: string;
  readonly name: string;
  readonly kind: ConnectionKind;
  /** The handler whose call opened it (open, error). */
  readonly handlerId: string | null;
  /** WebSocket close code (close). */
  readonly code: number | null;
  /** Why the attempt failed (error). */
  readonly error: Error | null;
  /** The new state (state). */
  readonly state: ConnectionState | null;
  constructor(type: 'connectionopen' | 'connectionclose' | 'connectionstate' | 'connectionerror', init: { sessionId: string; name: string; kind: ConnectionKind; handlerId?: string | null; code?: number | null; error?: Error | null; state?: ConnectionState | null }) {
    super(type);
    this.sessionId = init.sessionId;
    this.name = init.name;
    this.kind = init.kind;
    this.handlerId = init.handlerId ?? null;
    this.code = init.code ?? null;
    this.error = init.error ?? null;
    this.state = init.state ?? null;
  }
}

export interface SyncManagerEventMap {
  sessionstart: SessionEvent;
  sessionend: SessionEvent;
  handlerstate: HandlerStateEvent;
  progress: ItemEvent;
  itemstatus: ItemEvent;
  log: LogEvent;
  statechange: StateChangeEvent;
  storagefallback: StorageFallbackEvent;
  connectionopen: ConnectionEvent;
  connectionclose: ConnectionEvent;
  connectionstate: ConnectionEvent;
  connectionerror: ConnectionEvent;
}
