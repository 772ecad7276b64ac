/**
 * Endpoint configuration: the types an app writes, and their validation
 * through the table of endpoint kinds. Everything is checked and resolved
 * once, when the manager is built, so a typo fails at start-up with a message
 * that names the endpoint and the field, and connections never read the raw
 * config again.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { CONNECTION_KINDS, MAX_ENDPOINT_NAME_LENGTH, isOneOf, type ConnectionKind } from '../protocol/types.ts';
import { checkUrl, type EndpointKind } from './endpoint-common.ts';
import { WEBSOCKET_ENDPOINT, type ResolvedWebSocketEndpoint, type WebSocketEndpoint } from './websocket-options.ts';
import { FETCH_ENDPOINT, type FetchEndpoint, type ResolvedFetchEndpoint } from './fetch-options.ts';

export type { FetchEndpoint, WebSocketEndpoint };

/** What an app configures, by kind. */
export interface EndpointConfigs {
  websocket: WebSocketEndpoint;
  fetch: FetchEndpoint;
}
export type EndpointConfig = EndpointConfigs[ConnectionKind];

/** An endpoint as the manager keeps it, by kind: checked, every default filled in. */
export interface ResolvedEndpoints {
  websocket: ResolvedWebSocketEndpoint;
  fetch: ResolvedFetchEndpoint;
}
export type ResolvedEndpoint<K extends ConnectionKind = ConnectionKind> = ResolvedEndpoints[K];

/** One row per kind: its options and how they are resolved. (How a kind opens: connection-kinds.ts; its worker-side channel: runtime/channel-kinds.ts.) */
const ENDPOINT_KINDS: { readonly [K in ConnectionKind]: EndpointKind<ResolvedEndpoints[K]> } = {
  websocket: WEBSOCKET_ENDPOINT,
  fetch: FETCH_ENDPOINT,
};

const NAME = /^[A-Za-z0-9_.:-]+$/;

/** Checks an endpoint name; the message says which names are allowed. */
export function checkEndpointName(name: string, where: string): void {
  if (name.length === 0 || name.length > MAX_ENDPOINT_NAME_LENGTH || !NAME.test(name)) {
    throw new SyncError('E_INVALIDARG', `${where}: endpoint name ${JSON.stringify(name)} must be 1 to ${MAX_ENDPOINT_NAME_LENGTH} characters of letters, digits, '_', '.', ':' or '-'.`);
  }
}

/** Validates the `endpoints` option and resolves each endpoint. */
export function validateEndpoints(endpoints: unknown): Map<string, ResolvedEndpoint> {
  const out = new Map<string, ResolvedEndpoint>();
  if (endpoints === undefined) return out;
  if (typeof endpoints !== 'object' || endpoints === null || Array.isArray(endpoints)) {
    throw new SyncError('E_INVALIDARG', 'SyncManager option `endpoints` must be an object mapping names to { kind, url, … }.');
  }
  for (const [name, config] of Object.entries(endpoints)) {
    checkEndpointName(name, 'SyncManager option `endpoints`');
    out.set(name, validateEndpoint(name, config));
  }
  return out;
}

function validateEndpoint(name: string, config: unknown): ResolvedEndpoint {
  const where = `endpoint '${name}'`;
  if (typeof config !== 'object' || config === null) throw new SyncError('E_INVALIDARG', `${where} must be an object like { kind: 'fetch', url: '/api/' }.`);
  const c = config as Record<string, unknown>;
  if (!isOneOf(CONNECTION_KINDS, c.kind)) {
    throw new SyncError('E_INVALIDARG', `${where}: kind must be ${CONNECTION_KINDS.map((k) => `'${k}'`).join(' or ')}, not ${JSON.stringify(c.kind)}.`);
  }
  const kind: EndpointKind<ResolvedEndpoint> = ENDPOINT_KINDS[c.kind];
  for (const key of Object.keys(c)) {
    if (!kind.keys.includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}' for a ${c.kind} endpoint; known: ${kind.keys.join(', ')}.`);
  }
  if (typeof c.url === 'string') checkUrl(where, c.url, kind.schemes);
  else if (typeof c.url !== 'function') throw new SyncError('E_INVALIDARG', `${where}: url must be a string or a function returning one.`);
  return kind.resolve(name, c);
}
