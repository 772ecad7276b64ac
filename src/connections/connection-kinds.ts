/**
 * How each kind of connection opens, one row per kind. The kinds' options
 * are resolved by endpoint-config.ts, their worker-side channels made by
 * runtime/channel-kinds.ts; all three tables are keyed by `ConnectionKind`,
 * so a new kind is a compile error until each has its row.
 */
import type { ConnectionKind } from '../protocol/types.ts';
import type { Connection, ConnectionObserver } from './connection.ts';
import type { ResolvedEndpoint } from './endpoint-config.ts';
import { FetchConnection } from './fetch-connection.ts';
import { WebSocketConnection } from './websocket-connection.ts';

/** Opens a connection of one kind; resolves once it is up (see the rules of establishConnection). */
type Opener<K extends ConnectionKind> = (endpoint: ResolvedEndpoint<K>, signal: AbortSignal, observer: ConnectionObserver) => Promise<Connection>;

const OPENERS: { readonly [K in ConnectionKind]: Opener<K> } = {
  websocket: (endpoint, signal, observer) => WebSocketConnection.open(endpoint, signal, observer),
  fetch: (endpoint, signal) => FetchConnection.open(endpoint, signal),
};

/** Opens `endpoint` by its kind's row. */
export function openConnection<K extends ConnectionKind>(endpoint: ResolvedEndpoint<K>, signal: AbortSignal, observer: ConnectionObserver): Promise<Connection> {
  const open: Opener<K> = OPENERS[endpoint.kind as K];
  return open(endpoint, signal, observer);
}
