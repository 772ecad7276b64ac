/**
 * The contract every kind of connection keeps towards the pool: hand out
 * channels, close once. Policy (naming, sharing, when to close) is the pool's.
 */
import type { ChannelGrant } from '../protocol/worker-api.ts';
import type { ConnectionKind, ConnectionState } from '../protocol/types.ts';
import type { ConnectionRecord } from './connection-record.ts';


/** What a connection reports when it closes. */
export type ConnectionCloseInfo = Pick<ConnectionRecord, 'closeCode' | 'abortedRequests'> & Partial<Pick<ConnectionRecord, SocketCounts>>;

/** What only a WebSocket counts. */
export type SocketCounts = 'unsentFrames' | 'possiblyLostFrames' | 'droppedFrames' | 'invalidMessages';

export interface Connection {
  readonly name: string;
  readonly kind: ConnectionKind;
  /** `false` once it closed, by the manager or by the other side. */
  readonly alive: boolean;
  /** A new channel for one handler: the grant, whose port is to be transferred to its worker. */
  attach(handlerId: string): ChannelGrant<MessagePort>;
  /**
   * The handler finished: stop delivering to its channels (what it sent still
   * goes out). `answered`: its worker answered synchronize(), so each of its
   * channels posts a last `detach` after its last frames, which closing waits for.
   */
  detachHandler?(handlerId: string, answered: boolean): void;
  /**
   * Closes the connection and every channel; idempotent. Resolves when it is
   * closed (WebSocket: closing handshake done or `timeout` passed).
   */
  close(timeout: number): Promise<ConnectionCloseInfo>;
}

/** What a connection tells its pool while it is open. */
export interface ConnectionObserver {
  /** Its state changed (a WebSocket reconnecting, open again, failed or closed). */
  state(state: ConnectionState): void;
  /** It ended for good without the pool closing it (reconnect off or given up). */
  ended(info: ConnectionCloseInfo): void;
  /** Something went wrong that did not end it (a `route` that threw, a handler's channel overflowing or posting junk). */
  error(error: Error): void;
}
