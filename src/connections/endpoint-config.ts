/**
 * Endpoint configuration: the types an app writes and their validation.
 * Everything here is checked when the manager is built, so a typo fails at
 * start-up with a message that names the endpoint and the field.
 */
import { SyncError } from '../protocol/errors.ts';
import { MAX_ENDPOINT_NAME_LENGTH } from '../protocol/types.ts';
import {
  WEBSOCKET_ROBUSTNESS_KEYS, resolveSocketOptions,
  type FrameRoute, type HeartbeatOptions, type ReconnectOptions, type SendBufferOptions,
} from './websocket-options.ts';
import { FETCH_ROBUSTNESS_KEYS, resolveFetchOptions } from './fetch-options.ts';
import type { FetchRetryOptions } from './retry-policy.ts';

/** A value, or a function computing it (called at every connect, so tokens stay fresh). */
export type Dynamic<T> = T | (() => T | Promise<T>);

/** A WebSocket endpoint. */
export interface WebSocketEndpoint {
  kind: 'websocket';
  /** `ws:`, `wss:`, `http:` or `https:` URL, or a path relative to the page; or a function returning one. */
  url: Dynamic<string>;
  /** Subprotocols to offer. Default: none. */
  protocols?: Dynamic<string | string[]>;
  /** Milliseconds to wait for `open` (first connect and each reconnect) before failing with `E_TIMEOUT`. Default {@link DEFAULT_CONNECT_TIMEOUT}. */
  connectTimeout?: number;
  /** Reconnect after a drop while the session needs the socket; `false`: never. Default {@link DEFAULT_RECONNECT}. */
  reconnect?: false | Partial<ReconnectOptions>;
  /** Detect a silent socket by pinging; `true` uses {@link DEFAULT_HEARTBEAT}. Default: off. */
  heartbeat?: boolean | Partial<HeartbeatOptions>;
  /** Limits of what a handler may send ahead of the network. Default {@link DEFAULT_SEND_BUFFER}. */
  sendBuffer?: Partial<SendBufferOptions>;
  /** Picks which handlers of a shared socket receive each frame. Default: all. */
  route?: FrameRoute;
}

/** A fetch endpoint: a base URL that handlers' paths are resolved against. */
export interface FetchEndpoint {
  kind: 'fetch';
  /** `http:` or `https:` base URL, or a path relative to the page; or a function returning one. */
  url: Dynamic<string>;
  /** Headers added by the manager to every request; handlers never see them. Default: none. */
  headers?: Dynamic<Record<string, string>>;
  /** A path (relative to `url`) fetched with GET when the connection is established; any 2xx means up. Default: none (up when the browser is online). */
  probe?: string;
  /** Milliseconds to wait for the probe before failing with `E_TIMEOUT`. Default {@link DEFAULT_CONNECT_TIMEOUT}. */
  connectTimeout?: number;
  /** Retrying network errors, 429 and 5xx (repeatable requests only); `false`: never. Default {@link DEFAULT_FETCH_RETRY}. */
  retry?: false | Partial<FetchRetryOptions>;
  /** Runs (once at a time) when a request is answered 401; the request is then sent once more, with fresh `headers`. Default: none (the 401 goes to the handler). */
  onUnauthorized?: () => unknown;
  /** With `responseBody: 'auto'`, bodies up to this many bytes cross whole, larger ones stream. Default {@link DEFAULT_WHOLE_BODY_LIMIT}. */
  wholeBodyLimit?: number;
}

export type EndpointConfig = WebSocketEndpoint | FetchEndpoint;

/** Default time to wait for a WebSocket `open` or a fetch probe. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

const NAME = /^[A-Za-z0-9_.:-]+$/;

const KEYS: Record<EndpointConfig['kind'], readonly string[]> = {
  websocket: ['kind', 'url', 'protocols', 'connectTimeout', ...WEBSOCKET_ROBUSTNESS_KEYS],
  fetch: ['kind', 'url', 'headers', 'probe', 'connectTimeout', ...FETCH_ROBUSTNESS_KEYS],
};

/** Checks an endpoint name; the message says which names are allowed. */
export function checkEndpointName(name: string, where: string): void {
  if (name.length === 0 || name.length > MAX_ENDPOINT_NAME_LENGTH || !NAME.test(name)) {
    throw new SyncError('E_INVALIDARG', `${where}: endpoint name ${JSON.stringify(name)} must be 1 to ${MAX_ENDPOINT_NAME_LENGTH} characters of letters, digits, '_', '.', ':' or '-'.`);
  }
}

/** Validates the `endpoints` option and returns it as a Map. */
export function validateEndpoints(endpoints: unknown): Map<string, EndpointConfig> {
  const out = new Map<string, EndpointConfig>();
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

function validateEndpoint(name: string, config: unknown): EndpointConfig {
  const where = `endpoint '${name}'`;
  if (typeof config !== 'object' || config === null) throw new SyncError('E_INVALIDARG', `${where} must be an object like { kind: 'fetch', url: '/api/' }.`);
  const c = config as Record<string, unknown>;
  if (c.kind !== 'websocket' && c.kind !== 'fetch') {
    throw new SyncError('E_INVALIDARG', `${where}: kind must be 'websocket' or 'fetch', not ${JSON.stringify(c.kind)}.`);
  }
  for (const key of Object.keys(c)) {
    if (!KEYS[c.kind].includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}' for a ${c.kind} endpoint; known: ${KEYS[c.kind].join(', ')}.`);
  }
  if (typeof c.url === 'string') checkUrl(where, c.url, c.kind);
  else if (typeof c.url !== 'function') throw new SyncError('E_INVALIDARG', `${where}: url must be a string or a function returning one.`);
  if (c.connectTimeout !== undefined) checkDuration(`${where}: connectTimeout`, c.connectTimeout);
  if (c.kind === 'websocket') {
    const p = c.protocols;
    if (p !== undefined && typeof p !== 'function' && typeof p !== 'string' && !(Array.isArray(p) && p.every((x) => typeof x === 'string'))) {
      throw new SyncError('E_INVALIDARG', `${where}: protocols must be a string, an array of strings or a function returning one.`);
    }
    resolveSocketOptions(where, c);
  } else {
    const h = c.headers;
    if (h !== undefined && typeof h !== 'function') checkHeaders(where, h);
    if (c.probe !== undefined && typeof c.probe !== 'string') throw new SyncError('E_INVALIDARG', `${where}: probe must be a path string relative to url.`);
    resolveFetchOptions(where, c);
  }
  return c as unknown as EndpointConfig;
}

/** Checks a URL of an endpoint; relative URLs are allowed (resolved against the page at connect time). */
export function checkUrl(where: string, url: string, kind: EndpointConfig['kind']): void {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid/');
  } catch (cause) {
    throw new SyncError('E_INVALIDARG', `${where}: url ${JSON.stringify(url)} is not a valid URL.`, { cause });
  }
  const schemes = kind === 'websocket' ? ['ws:', 'wss:', 'http:', 'https:'] : ['http:', 'https:'];
  if (!schemes.includes(parsed.protocol)) {
    throw new SyncError('E_INVALIDARG', `${where}: url ${JSON.stringify(url)} must use ${schemes.join(' or ')}.`);
  }
}

/** Checks a headers record: string names and values. */
export function checkHeaders(where: string, headers: unknown): asserts headers is Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new SyncError('E_INVALIDARG', `${where}: headers must be an object of name → value strings, or a function returning one.`);
  }
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string') throw new SyncError('E_INVALIDARG', `${where}: header '${k}' must be a string, not ${typeof v}.`);
  }
}

/** Checks a time limit in milliseconds. */
export function checkDuration(where: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new SyncError('E_INVALIDARG', `${where} must be a number of milliseconds between 1 and 2147483647, not ${JSON.stringify(value)}.`);
  }
}

/** Evaluates a {@link Dynamic} value. */
export async function evaluate<T>(value: Dynamic<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}
