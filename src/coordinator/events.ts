/**
 * Events of the {@link SyncManager}: those of sessions, handlers and items,
 * declared here; those of the state (state/events.ts) and of connections
 * (connections/connection-event.ts), declared where they are dispatched.
 * Each carries its data as fields.
 */
import type { ItemStatus } from '../protocol/types.ts';
import type { ConnectionEvent } from '../connections/connection-event.ts';
import type { LogEvent, StateChangeEvent, StorageFallbackEvent } from '../state/events.ts';
import type { HandlerOutcome } from '../state/records.ts';
import type { HandlerPhase } from './handler-phase.ts';
import type { ItemSnapshot, SessionResult } from './result.ts';
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
  readonly phase: HandlerPhase;
  readonly outcome: HandlerOutcome | null;
  readonly error: Error | null;
  constructor(sessionId: string, handlerId: string, phase: HandlerPhase, outcome: HandlerOutcome | null, error: Error | null) {
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
