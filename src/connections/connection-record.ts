/** What the pool records of a connection (plain data: the session result carries it). */
import type { ConnectionKind } from '../protocol/types.ts';

/** A connection the session opened, as its result lists it. */
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
