/** What the pool records of a connection (plain data: the session result carries it). */
import type { ConnectionKind } from '../protocol/types.ts';

/** A connection the session opened, as its result lists it. */
export interface ConnectionRecord {
  name: string;
  kind: ConnectionKind;
  /** `true`: the socket of one `endpointWebSocket` instance (its handler's alone, never reconnected); `false`: the session's shared connection of that name. */
  dedicated: boolean;
  /** Handlers that established it, in the order they asked. */
  handlers: string[];
  openedAt: number;
  closedAt: number | null;
  /** WebSocket close code seen when it closed (1000 when the manager closed it). */
  closeCode: number | null;
  /** fetch: requests still running when the session ended, aborted then. */
  abortedRequests: number;
  /**
   * WebSocket: frames handlers sent that never reached the socket: held while
   * it reconnected when it ended, or refused by the manager over a channel's
   * `sendBuffer.maxBytes`.
   */
  unsentFrames: number;
  /** WebSocket: frames handed to a socket whose bytes were still in its buffer when it dropped (not known to be delivered). */
  possiblyLostFrames: number;
  /** WebSocket: frames from the server a handler did not get because it did not take them in time (its `receiveBuffer` overflowed). */
  droppedFrames: number;
  /** WebSocket: messages a worker posted on its channel that are not messages of the socket protocol, dropped. */
  invalidMessages: number;
}
