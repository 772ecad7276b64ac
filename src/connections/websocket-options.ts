/**
 * The WebSocket endpoint: its options (url, protocols, reconnect, heartbeat,
 * send buffer, routing), their defaults and their validation. Every default
 * is a named constant: the README and the tests point at these, not at numbers.
 */
import { SyncError } from '../protocol/sync-error.ts';
import type { ReceiveBufferOptions, SendBufferOptions } from '../protocol/worker-api.ts';
import type { BackoffOptions } from './backoff.ts';
import { resolveConnectTimeout, type Dynamic, type EndpointKind } from './endpoint-common.ts';

export type { ReceiveBufferOptions, SendBufferOptions };

/** A WebSocket endpoint. */
export interface WebSocketEndpoint {
  kind: 'websocket';
  /** `ws:`, `wss:`, `http:` or `https:` URL, or a path relative to the page; or a function returning one. */
  url: Dynamic<string>;
  /** Subprotocols to offer. Default: none. */
  protocols?: Dynamic<string | string[]>;
  /** Milliseconds to wait for `open` (first connect and each reconnect) before failing with `E_TIMEOUT`. Default `DEFAULT_CONNECT_TIMEOUT`. */
  connectTimeout?: number;
  /** Reconnect after a drop while the session needs the socket; `false`: never. Default {@link DEFAULT_RECONNECT}. */
  reconnect?: false | Partial<ReconnectOptions>;
  /** Detect a silent socket by pinging; `true` uses {@link DEFAULT_HEARTBEAT}. Default: off. */
  heartbeat?: boolean | Partial<HeartbeatOptions>;
  /** Limits of what a handler may send ahead of the network. Default {@link DEFAULT_SEND_BUFFER}. */
  sendBuffer?: Partial<SendBufferOptions>;
  /** Bounds of the frames posted to a handler and not yet taken by it. Default {@link DEFAULT_RECEIVE_BUFFER}. */
  receiveBuffer?: Partial<ReceiveBufferOptions>;
  /** Picks which handlers of a shared socket receive each frame. Default: all. */
  route?: FrameRoute;
}

export interface ReconnectOptions extends BackoffOptions {
  /** Attempts after a drop before the connection is `failed`. */
  retries: number;
  /** A connection that stayed open this long (ms) starts the attempt count over. */
  minUptime: number;
}

export interface HeartbeatOptions {
  /** After this many ms without any frame from the server, send `ping`. */
  interval: number;
  /** If nothing arrives within this many ms after a ping, the socket is dead: it is dropped and reconnected. */
  timeout: number;
  /** The ping frame. */
  ping: string;
  /** Frames that answer a ping and are not given to handlers. Default: `'pong'` and an echo of `ping`. */
  isPong?: (frame: string | ArrayBuffer) => boolean;
}

/** Picks which handlers of a shared socket receive a frame: ids, or null/undefined for all. */
export type FrameRoute = (frame: string | ArrayBuffer, handlerIds: readonly string[]) => string | readonly string[] | null | undefined;

/** Defaults of `reconnect`: 8 attempts, 250 ms doubling to at most 10 s, half of each delay random, reset after 5 s up. */
export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = Object.freeze({
  retries: 8,
  minDelay: 250,
  maxDelay: 10_000,
  factor: 2,
  jitter: 0.5,
  minUptime: 5_000,
});

/** Defaults of `heartbeat` (off unless the endpoint sets `heartbeat: true` or an object). */
export const DEFAULT_HEARTBEAT: Readonly<HeartbeatOptions> = Object.freeze({
  interval: 15_000,
  timeout: 5_000,
  ping: 'ping',
});

/** Defaults of `sendBuffer`. */
export const DEFAULT_SEND_BUFFER: Readonly<SendBufferOptions> = Object.freeze({
  highWaterMark: 1 << 20,
  maxBytes: 16 << 20,
  maxQueuedFrames: 4096,
});

/**
 * Defaults of `receiveBuffer`: as many bytes as a handler may have on its way
 * out (`sendBuffer.maxBytes`), and a frame count that bounds what many small
 * frames cost the main thread, each of which costs far more than its payload.
 */
export const DEFAULT_RECEIVE_BUFFER: Readonly<ReceiveBufferOptions> = Object.freeze({
  maxBytes: 16 << 20,
  maxFrames: 16_384,
});

export interface ResolvedSocketOptions {
  reconnect: ReconnectOptions | null;
  heartbeat: HeartbeatOptions | null;
  sendBuffer: SendBufferOptions;
  receiveBuffer: ReceiveBufferOptions;
  route: FrameRoute | null;
}

/** A WebSocket endpoint as the manager keeps it: checked once, every default filled in. */
export interface ResolvedWebSocketEndpoint extends ResolvedSocketOptions {
  kind: 'websocket';
  name: string;
  url: Dynamic<string>;
  /** `null`: offer none. */
  protocols: Dynamic<string | string[]> | null;
  connectTimeout: number;
}

/** The WebSocket row of the endpoint kinds (endpoint-config.ts). */
export const WEBSOCKET_ENDPOINT: EndpointKind<ResolvedWebSocketEndpoint> = {
  keys: ['kind', 'url', 'protocols', 'connectTimeout', 'reconnect', 'heartbeat', 'sendBuffer', 'receiveBuffer', 'route'],
  schemes: ['ws:', 'wss:', 'http:', 'https:'],
  resolve(name, c) {
    const where = `endpoint '${name}'`;
    const connectTimeout = resolveConnectTimeout(where, c.connectTimeout);
    const p = c.protocols;
    if (p !== undefined && typeof p !== 'function' && typeof p !== 'string' && !(Array.isArray(p) && p.every((x) => typeof x === 'string'))) {
      throw new SyncError('E_INVALIDARG', `${where}: protocols must be a string, an array of strings or a function returning one.`);
    }
    return {
      kind: 'websocket', name, url: c.url as Dynamic<string>, protocols: (p as Dynamic<string | string[]> | undefined) ?? null, connectTimeout,
      ...resolveSocketOptions(where, c),
    };
  },
};

/** Validates and fills in the robustness options of a WebSocket endpoint config (reconnect, heartbeat, sendBuffer, route). */
export function resolveSocketOptions(where: string, c: Record<string, unknown>): ResolvedSocketOptions {
  const reconnect = c.reconnect === false ? null : merge<ReconnectOptions>(`${where}: reconnect`, c.reconnect, DEFAULT_RECONNECT, {
    retries: [0, 1_000_000, 'integer'], minDelay: [0, 3_600_000], maxDelay: [0, 3_600_000], factor: [1, 100], jitter: [0, 1], minUptime: [0, 86_400_000],
  });
  if (reconnect && reconnect.maxDelay < reconnect.minDelay) throw new SyncError('E_INVALIDARG', `${where}: reconnect.maxDelay must be ≥ reconnect.minDelay.`);
  let heartbeat: HeartbeatOptions | null = null;
  if (c.heartbeat !== undefined && c.heartbeat !== false) {
    const h = c.heartbeat === true ? {} : c.heartbeat;
    if (typeof h !== 'object' || h === null) throw new SyncError('E_INVALIDARG', `${where}: heartbeat must be true, false or an object like { interval, timeout, ping, isPong }.`);
    const { ping, isPong, ...numbers } = h as Record<string, unknown>;
    const timing = merge<{ interval: number; timeout: number }>(`${where}: heartbeat`, numbers, { interval: DEFAULT_HEARTBEAT.interval, timeout: DEFAULT_HEARTBEAT.timeout }, { interval: [10, 3_600_000], timeout: [10, 3_600_000] });
    if (ping !== undefined && (typeof ping !== 'string' || ping.length === 0)) throw new SyncError('E_INVALIDARG', `${where}: heartbeat.ping must be a non-empty string.`);
    if (isPong !== undefined && typeof isPong !== 'function') throw new SyncError('E_INVALIDARG', `${where}: heartbeat.isPong must be a function (frame) => boolean.`);
    const resolved: HeartbeatOptions = { ...timing, ping: (ping as string | undefined) ?? DEFAULT_HEARTBEAT.ping };
    if (isPong) resolved.isPong = isPong as HeartbeatOptions['isPong'];
    heartbeat = resolved;
  }
  const sendBuffer = merge<SendBufferOptions>(`${where}: sendBuffer`, c.sendBuffer, DEFAULT_SEND_BUFFER, {
    highWaterMark: [1, 1 << 30, 'integer'], maxBytes: [1, 1 << 30, 'integer'], maxQueuedFrames: [0, 1_000_000, 'integer'],
  });
  if (sendBuffer.maxBytes < sendBuffer.highWaterMark) throw new SyncError('E_INVALIDARG', `${where}: sendBuffer.maxBytes must be ≥ sendBuffer.highWaterMark.`);
  const receiveBuffer = merge<ReceiveBufferOptions>(`${where}: receiveBuffer`, c.receiveBuffer, DEFAULT_RECEIVE_BUFFER, {
    maxBytes: [1, 1 << 30, 'integer'], maxFrames: [1, 1_000_000, 'integer'],
  });
  if (c.route !== undefined && typeof c.route !== 'function') throw new SyncError('E_INVALIDARG', `${where}: route must be a function (frame, handlerIds) => handler id(s).`);
  return { reconnect, heartbeat, sendBuffer, receiveBuffer, route: (c.route as FrameRoute | undefined) ?? null };
}

/** A number option's range; `'integer'`: a count, so whole numbers only. */
type Range = readonly [min: number, max: number, whole?: 'integer'];

function merge<T extends object>(where: string, value: unknown, defaults: Readonly<T>, ranges: { [K in keyof T]: Range }): T {
  if (value === undefined || value === true) return { ...defaults };
  if (typeof value !== 'object' || value === null) throw new SyncError('E_INVALIDARG', `${where} must be an object like { ${Object.keys(defaults).join(', ')} }.`);
  const out = { ...defaults } as Record<string, number>;
  for (const [key, n] of Object.entries(value)) {
    // Own keys only: `constructor` or `__proto__` is no option.
    const range = Object.hasOwn(ranges, key) ? (ranges as Record<string, Range>)[key] : undefined;
    if (!range) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}'; known: ${Object.keys(ranges).join(', ')}.`);
    const [min, max, whole] = range;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new SyncError('E_INVALIDARG', `${where}.${key} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(n)}.`);
    }
    out[key] = n;
  }
  return out as T;
}
