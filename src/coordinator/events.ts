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
  connectionopen: ConnectionEvent;
  connectionclose: ConnectionEvent;
  connectionstate: ConnectionEvent;
  connectionerror: ConnectionEvent;
}
