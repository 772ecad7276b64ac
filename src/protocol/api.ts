/**
 * The two method maps that cross the worker boundary, the ready handshake,
 * and the messages of connection channels. `P` is the platform's MessagePort:
 * this file uses neither DOM nor worker globals.
 */
import type { Outcome, WireError } from './errors.ts';
import type { ConnectionKind, ConnectionState, InitializeInfo, ItemInfo, ProgressAnswer } from './types.ts';

/** Version of this protocol; both sides must agree. */
export const PROTOCOL_VERSION = 2;

/**
 * A handler worker asks for its life lock (see {@link ReadyMessage.lock}) this
 * many ms after `defineHandler()`: a worker that ends sooner never pays for a
 * Web Lock (about a millisecond of work per worker). Until it holds the lock,
 * the manager's `timeouts.ready` limit still runs, so a worker that dies
 * silently before is reported when that limit passes.
 */
export const LIFE_LOCK_DELAY = 100;

/**
 * The first message a handler worker posts on its global scope, as soon as
 * `defineHandler()` runs. The worker asks for its life lock
 * {@link LIFE_LOCK_DELAY} later and posts a {@link LockedMessage} once it
 * holds it (or was refused).
 */
export interface ReadyMessage<P> {
  type: 'syncmgr:ready';
  protocol: number;
  /** Carries {@link HandlerApi} (Comlink); transferred. */
  port: P;
  /** A Web Lock the worker holds for its whole life, so the manager learns when it dies; `null` without Web Locks. */
  lock: string | null;
  /** The handler implements `prepare()`: without it the manager does not call {@link HandlerApi.prepare}. */
  prepares: boolean;
}

/**
 * The worker holds its life lock now (`held`): from here on, the manager's
 * request for the same lock is granted only when the worker is gone. `held:
 * false`: Web Locks refused it. Until this message arrives, the manager's
 * ready time limit runs on.
 */
export interface LockedMessage {
  type: 'syncmgr:locked';
  held: boolean;
}

/**
 * What a handler worker exposes to the manager (one worker per handler per session).
 * Every method answers an {@link Outcome}: errors travel as data, never as exceptions.
 */
export interface HandlerApi<P> {
  /** SyncMgr's Initialize: `true` takes part, `false` declines. `coordinator` carries {@link CoordinatorApi}. */
  initialize(coordinator: P, info: InitializeInfo): Promise<Outcome<boolean>>;
  /**
   * SyncMgr's EnumSyncMgrItems. The manager sends it right behind
   * `initialize` without waiting for that answer: the worker calls the
   * handler's `items()` only once `initialize` has answered `true`, and
   * answers `null` (without calling it) when it declined or failed.
   */
  items(): Promise<Outcome<ItemInfo[] | null>>;
  /** SyncMgr's PrepareForSync: `false` declines (no synchronize follows). */
  prepare(itemIds: string[]): Promise<Outcome<boolean>>;
  /** SyncMgr's Synchronize: resolves when the work is done. */
  synchronize(itemIds: string[]): Promise<Outcome<void>>;
  /** SyncMgr's SetItemStatus(SKIPPED): aborts the item's signal; its next progress answer is `cancel-item`. */
  skip(itemId: string): Promise<void>;
  /** Aborts the handler's `ctx.signal` (cancel, timeout, end of session). */
  abort(reason: WireError): Promise<void>;
}

/**
 * What the manager exposes to one handler for one session (SyncMgr's
 * ISyncMgrSynchronizeCallback). Arguments are `unknown` because the manager
 * checks every one of them; the handler's `ctx` gives them their types.
 */
export interface CoordinatorApi<P> {
  /** `kind`: the kind the handler expects (checked before anything opens), or null. */
  establishConnection(name: unknown, kind: unknown): Promise<Outcome<ChannelGrant<P>>>;
  progress(itemId: unknown, update: unknown): Promise<Outcome<ProgressAnswer>>;
  logError(level: unknown, text: unknown, options: unknown): Promise<Outcome<string>>;
  deleteLogError(errorId: unknown): Promise<Outcome<number>>;
  /** `ctx.store`: the handler's own persistent keys; the manager adds the handler's namespace. */
  storeGet(key: unknown): Promise<Outcome<unknown>>;
  storeSet(key: unknown, value: unknown): Promise<Outcome<void>>;
  /** Answers whether the key existed. */
  storeDelete(key: unknown): Promise<Outcome<boolean>>;
  storeKeys(prefix: unknown): Promise<Outcome<string[]>>;
  storeEntries(prefix: unknown): Promise<Outcome<[string, unknown][]>>;
}

/** A connection handed to a handler: its own end of a channel to the shared connection. */
export interface ChannelGrant<P> {
  /** The endpoint's name (the default endpoint's name when asked for `null`). */
  name: string;
  kind: ConnectionKind;
  /** Transferred to the worker; carries {@link SocketDown}/{@link SocketUp} or {@link FetchDown}/{@link FetchUp}. */
  port: P;
  /** WebSocket: the subprotocol the server chose. */
  protocol: string;
  /** The connection's state when the channel was made. */
  state: ConnectionState;
  /** WebSocket: limits of what the handler may send ahead of the network. */
  sendBuffer: { highWaterMark: number; maxBytes: number; maxQueuedFrames: number };
}

// ---- WebSocket channel messages ----
// Frames travel bare (a string or an ArrayBuffer, or an array of them when
// several are coalesced into one postMessage); control messages are objects.

/** One WebSocket frame's payload. */
export type Frame = string | ArrayBuffer;

/** Manager → worker on a WebSocket channel. */
export type SocketDown = Frame | Frame[] | SocketClosed | SocketStateMessage | SocketAck;

/** Worker → manager on a WebSocket channel. */
export type SocketUp = Frame | Frame[] | ChannelDetach;

export interface SocketClosed {
  type: 'closed';
  /** `failed`: reconnecting gave up; `closed`: the session ended (or the socket closed with reconnect off). */
  state: 'failed' | 'closed';
  code: number;
  reason: string;
  wasClean: boolean;
  /** Frames of this channel the manager held while reconnecting and could not send. */
  unsent: Frame[];
}

/** The connection changed state (`open` after a reconnect: send what you queued). */
export interface SocketStateMessage {
  type: 'state';
  state: ConnectionState;
}

/** This many bytes of the channel's frames have left the socket's buffer. */
export interface SocketAck {
  type: 'ack';
  bytes: number;
}

export interface ChannelDetach {
  type: 'detach';
}

// ---- fetch channel messages ----

export interface FetchRequestMessage {
  type: 'request';
  id: number;
  /** Relative to the endpoint's base URL; checked by the manager. */
  path: string;
  method: string;
  headers: [string, string][];
  /** The request body, whole (no engine streams request bodies over HTTP/1.1); transferred. */
  body: ArrayBuffer | null;
  /** How the handler wants the response body. */
  responseBody: ResponseBodyMode;
  /** The handler's word on repeating the request: `true` opts in, `false` out, `null` leaves it to the method and an Idempotency-Key. */
  idempotent: boolean | null;
}

/** `whole`: one transferred ArrayBuffer; `stream`: chunks as they arrive; `auto`: whole when small, else streamed. */
export type ResponseBodyMode = 'auto' | 'whole' | 'stream';

/** Worker → manager: abort request `id` (its signal aborted, or its body was cancelled). */
export interface FetchAbortMessage {
  type: 'abort';
  id: number;
}

/** Worker → manager: the handler read `bytes` more of a pumped body; the manager may post that much more. */
export interface FetchCreditMessage {
  type: 'credit';
  id: number;
  bytes: number;
}

/**
 * The response head and how its body comes: `null` (none), an ArrayBuffer
 * (whole, transferred), a transferred ReadableStream `S` of Uint8Array chunks
 * (which errors with a {@link WireError} as its reason), or `pumped`: then
 * {@link FetchChunkMessage}s follow, ended by a {@link FetchEndMessage} or a
 * {@link FetchBodyErrorMessage}.
 */
export interface FetchResponseMessage<S = unknown> {
  type: 'response';
  id: number;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | { kind: 'stream'; stream: S } | { kind: 'pumped' } | null;
}

/** One chunk of a pumped body; its buffer is transferred. */
export interface FetchChunkMessage {
  type: 'chunk';
  id: number;
  data: ArrayBuffer;
}

/** A pumped body is complete. */
export interface FetchEndMessage {
  type: 'end';
  id: number;
}

/** A pumped body failed after its head was sent (network error, abort, end of session). */
export interface FetchBodyErrorMessage {
  type: 'body-error';
  id: number;
  error: WireError;
}

export interface FetchErrorMessage {
  type: 'error';
  id: number;
  error: WireError;
}

export interface FetchClosedMessage {
  type: 'closed';
  reason: WireError;
}

export type FetchUp = FetchRequestMessage | FetchAbortMessage | FetchCreditMessage | ChannelDetach;
export type FetchDown<S = unknown> =
  | FetchResponseMessage<S> | FetchChunkMessage | FetchEndMessage | FetchBodyErrorMessage | FetchErrorMessage | FetchClosedMessage;

// TYPE GUARDS

export function isReadyMessage(value: unknown): value is ReadyMessage<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ReadyMessage<unknown>>;
  return v.type === 'syncmgr:ready' && typeof v.protocol === 'number' && v.port !== undefined && (v.lock === null || typeof v.lock === 'string');
}

export function isLockedMessage(value: unknown): value is LockedMessage {
  return typeof value === 'object' && value !== null && (value as Partial<LockedMessage>).type === 'syncmgr:locked' && typeof (value as Partial<LockedMessage>).held === 'boolean';
}

export function isFrame(value: unknown): value is Frame {
  return typeof value === 'string' || value instanceof ArrayBuffer;
}
