/** What a session reports: per handler, per item, and every connection it opened. */
import type { ConnectionKind, ItemStatus, Trigger } from '../protocol/types.ts';
import type { SlotOutcome, SlotPhase } from './slot-phase.ts';

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
  outcome: SlotOutcome;
  /** The phase it was in when it finished (`initializing` for a decline in initialize, …). */
  endedIn: SlotPhase;
  /** Why it failed, crashed, timed out or was cancelled; `null` otherwise. */
  error: Error | null;
  /** The items it synchronized (the selection), in the handler's order. */
  items: ItemSnapshot[];
  startedAt: number;
  endedAt: number;
}

/** A connection the session opened. */
export interface ConnectionRecord {
  name: string;
  kind: ConnectionKind;
  /** Handlers that established it, in the order they asked. */
  handlers: string[];
  openedAt: number;
  closedAt: number | null;
  /** WebSocket close code seen when it closed (1000 when the manager closed it). */
  closeCode: number | null;
  /** fetch: requests still running when the session ended, aborted then. */
  abortedRequests: number;
  /** WebSocket: frames handlers sent that never reached the socket (it was reconnecting when the session ended). */
  unsentFrames: number;
}

/** How a session ended as a whole. */
export type SessionOutcome = 'succeeded' | 'failed' | 'cancelled';

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
