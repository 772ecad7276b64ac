/**
 * The two method maps that cross the worker boundary, the ready handshake,
 * and the messages of connection channels. `P` is the platform's MessagePort:
 * this file uses neither DOM nor worker globals.
 */
import type { Outcome, WireError } from './errors.ts';
import type { ConnectionKind, InitializeInfo, ItemInfo, ProgressAnswer } from './types.ts';

/** Version of this protocol; both sides must agree. */
export const PROTOCOL_VERSION = 1;

/** The first and only message a handler worker posts on its global scope. */
export interface ReadyMessage<P> {
  type: 'syncmgr:ready';
  protocol: number;
  /** Carries {@link HandlerApi} (Comlink); transferred. */
  port: P;
  /** A Web Lock the worker holds for its whole life, so the manager learns when it dies; `null` without Web Locks. */
  lock: string | null;
}

/**
 * What a handler worker exposes to the manager (one worker per handler per session).
 * Every method answers an {@link Outcome}: errors travel as data, never as exceptions.
 */
export interface HandlerApi<P> {
  /** SyncMgr's Initialize: `true` takes part, `false` declines. `coordinator` carries {@link CoordinatorApi}. */
  initialize(coordinator: P, info: InitializeInfo): Promise<Outcome<boolean>>;
  /** SyncMgr's EnumSyncMgrItems. */
  items(): Promise<Outcome<ItemInfo[]>>;
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
  establishConnection(name: unknown): Promise<Outcome<ChannelGrant<P>>>;
  progress(itemId: unknown, update: unknown): Promise<Outcome<ProgressAnswer>>;
  logError(level: unknown, text: unknown, options: unknown): Promise<Outcome<string>>;
  deleteLogError(errorId: unknown): Promise<Outcome<number>>;
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
}

// ---- WebSocket channel messages ----
// Frames travel bare (a string or an ArrayBuffer, or an array of them when
// several are coalesced into one postMessage); control messages are objects.

/** One WebSocket frame's payload. */
export type Frame = string | ArrayBuffer;

/** Manager → worker on a WebSocket channel. */
export type SocketDown = Frame | Frame[] | SocketClosed;

/** Worker → manager on a WebSocket channel. */
export type SocketUp = Frame | Frame[] | ChannelDetach;

export interface SocketClosed {
  type: 'closed';
  code: number;
  reason: string;
  wasClean: boolean;
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
  body: ArrayBuffer | null;
}

export interface FetchAbortMessage {
  type: 'abort';
  id: number;
}

export interface FetchResponseMessage {
  type: 'response';
  id: number;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
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

export type FetchUp = FetchRequestMessage | FetchAbortMessage | ChannelDetach;
export type FetchDown = FetchResponseMessage | FetchErrorMessage | FetchClosedMessage;

// TYPE GUARDS

export function isReadyMessage(value: unknown): value is ReadyMessage<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ReadyMessage<unknown>>;
  return v.type === 'syncmgr:ready' && typeof v.protocol === 'number' && v.port !== undefined && (v.lock === null || typeof v.lock === 'string');
}

export function isFrame(value: unknown): value is Frame {
  return typeof value === 'string' || value instanceof ArrayBuffer;
}
