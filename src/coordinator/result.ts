/** What a session reports: per handler, per item, and every connection it opened; and how its history records it. */
import type { ItemStatus, Trigger } from '../protocol/types.ts';
import type { ConnectionRecord } from '../connections/connection-record.ts';
import { toStoredError, type HandlerOutcome, type SessionOutcome, type SessionSummary } from '../state/records.ts';
import type { HandlerPhase } from './handler-phase.ts';

export type { ConnectionRecord, HandlerOutcome, SessionOutcome };

/** An item as the manager last saw it. */
export interface ItemSnapshot {
  id: string;
  name: string;
  status: ItemStatus;
  text: string;
  value: number;
  max: number;
}

/** One handler's part of a session. */
export interface HandlerResult {
  id: string;
  name: string;
  outcome: HandlerOutcome;
  /** The phase it was in when it finished (`initializing` for a decline in initialize, …). */
  endedIn: HandlerPhase;
  /** Why it failed, crashed, timed out or was cancelled; `null` otherwise. */
  error: Error | null;
  /** The items it synchronized (the selection), in the handler's order. */
  items: ItemSnapshot[];
  startedAt: number;
  endedAt: number;
}

export interface SessionResult {
  id: string;
  trigger: Trigger;
  outcome: SessionOutcome;
  startedAt: number;
  endedAt: number;
  handlers: HandlerResult[];
  connections: ConnectionRecord[];
}

/** `failed` when any handler failed, crashed or timed out; `cancelled` when cancelled; else `succeeded`. */
export function sessionOutcome(cancelled: boolean, handlers: readonly HandlerResult[]): SessionOutcome {
  if (cancelled) return 'cancelled';
  return handlers.some((h) => h.outcome === 'failed' || h.outcome === 'crashed' || h.outcome === 'timed-out') ? 'failed' : 'succeeded';
}

/** The session as its history keeps it (`manager.sessions()`). */
export function summarize(result: SessionResult): SessionSummary {
  return {
    id: result.id,
    trigger: result.trigger,
    outcome: result.outcome,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    handlers: result.handlers.map((h) => ({
      id: h.id, name: h.name, outcome: h.outcome, error: h.error ? toStoredError(h.error) : null,
      items: h.items.map((i) => ({ id: i.id, name: i.name, status: i.status })),
    })),
    connections: result.connections.map((c) => ({ name: c.name, kind: c.kind, closeCode: c.closeCode })),
  };
}
