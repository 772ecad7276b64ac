/** The events a session's connections dispatch on the manager. */
import type { ConnectionKind, ConnectionState } from '../protocol/types.ts';

export type ConnectionEventType = 'connectionopen' | 'connectionclose' | 'connectionstate' | 'connectionerror';

/** What a {@link ConnectionEvent} carries besides its type. */
export interface ConnectionEventInit {
  sessionId: string;
  name: string;
  kind: ConnectionKind;
  handlerId?: string | null;
  code?: number | null;
  error?: Error | null;
  state?: ConnectionState | null;
  dedicated?: boolean;
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
  /** `true`: about the socket of one `endpointWebSocket` instance, not the session's shared connection of that name. */
  readonly dedicated: boolean;
  constructor(type: ConnectionEventType, init: ConnectionEventInit) {
    super(type);
    this.sessionId = init.sessionId;
    this.name = init.name;
    this.kind = init.kind;
    this.handlerId = init.handlerId ?? null;
    this.code = init.code ?? null;
    this.error = init.error ?? null;
    this.state = init.state ?? null;
    this.dedicated = init.dedicated ?? false;
  }
}
