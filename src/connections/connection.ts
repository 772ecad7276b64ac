/**
 * The contract every kind of connection keeps towards the pool: hand out
 * channels, close once. Policy (naming, sharing, when to close) is the pool's.
 */
import type { ConnectionKind, ConnectionState } from '../protocol/types.ts';
import type { SendBufferOptions } from './websocket-options.ts';

export interface Connection {
  readonly name: string;
  readonly kind: ConnectionKind;
  /** The subprotocol the server chose (WebSocket), else `''`. */
  readonly protocol: string;
  /** `false` once it closed, by the manager or by the other side. */
  readonly alive: boolean;
  /** Its state, for connections that can be in other states than open or closed. */
  readonly state?: ConnectionState;
  /** WebSocket: what a handler may send ahead of the network. */
  readonly sendBuffer?: SendBufferOptions;
  /** A new channel for one handler; the returned port is to be transferred to its worker. */
  attach(handlerId: string): MessagePort;
  /** The handler finished: stop delivering to its channels (what it sent still goes out). */
  detachHandler?(handlerId: string): void;
  /**
   * Closes the connection and every channel; idempotent. Resolves when it is
   * closed (WebSocket: closing handshake done or `timeout` passed).
   */
  close(timeout: number): Promise<ConnectionCloseInfo>;
}

export interface ConnectionCloseInfo {
  closeCode: number | null;
  abortedRequests: number;
  /** WebSocket: frames handlers sent that never reached the socket (it was reconnecting when the session ended). */
  unsentFrames?: number;
}
