/**
 * What crosses the worker boundary besides channel frames: the ready
 * handshake, the two method maps (the handler's and the manager's) and the
 * lanes they travel in, and the grant of a channel. `P` is the platform's
 * MessagePort: this file uses neither DOM nor worker globals.
 */
import type { Outcome, WireError } from './wire.ts';
import type { ConnectionKind, ConnectionState, InitializeInfo, ItemInfo, ProgressAnswer, ShowErrorInfo } from './types.ts';

/** Version of this protocol; both sides must agree. */
export const PROTOCOL_VERSION = 7;

/**
 * The first message a handler worker posts on its global scope, as soon as
 * `defineHandler()` runs: from then on it serves {@link HandlerApi} in the
 * `handler` lane of its own port. The worker asks for its life lock
 * (locks.ts) a moment later and posts a {@link LockedMessage} once it holds
 * it (or was refused).
 */
export interface ReadyMessage {
  type: 'syncmgr:ready';
  protocol: number;
  /** A Web Lock the worker holds for its whole life, so the manager learns when it dies; `null` without Web Locks. */
  lock: string | null;
  /** The handler implements `prepare()`: without it the manager does not call {@link HandlerApi.prepare}. */
  prepares: boolean;
  /** The handler implements `showError()`: without it the manager does not call {@link HandlerApi.showError}. */
  showsErrors: boolean;
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
 * The two conversations on a handler worker's own port (the `Worker` on the
 * page, its global scope inside), each a Comlink exchange in its own
 * envelope: `handler`, the manager's calls of {@link HandlerApi} and their
 * answers; `coordinator`, the worker's calls of {@link CoordinatorApi} and
 * theirs. Messages of neither kind (the handshake, an app's own) are no lane's.
 */
export type Lane = 'handler' | 'coordinator';

export interface LaneMessage {
  syncmgr: Lane;
  /** A Comlink message. */
  message: unknown;
}

/**
 * What a handler worker exposes to the manager (one worker per handler per session).
 * Every method answers an {@link Outcome}: errors travel as data, never as exceptions.
 */
export interface HandlerApi {
  /** SyncMgr's Initialize: `true` takes part, `false` declines. From now on the worker may call {@link CoordinatorApi}. */
  initialize(info: InitializeInfo): Promise<Outcome<boolean>>;
  /**
   * SyncMgr's EnumSyncMgrItems. The manager sends it right behind
   * `initialize` without waiting for that answer: the worker calls the
   * handler's `items()` only once `initialize` has answered `true`, and
   * answers `null` (without calling it) when it declined or failed.
   */
  items(): Promise<Outcome<ItemInfo[] | null>>;
  /** SyncMgr's PrepareForSync: `false` declines (no synchronize follows). */
  prepare(itemIds: string[]): Promise<Outcome<boolean>>;
  /**
   * SyncMgr's Synchronize: resolves when the work is done. `access` tells the
   * runtime which endpoints the handler may reach, so the facades refuse a
   * wrong name at once (the manager checks again).
   */
  synchronize(itemIds: string[], access: EndpointAccess): Promise<Outcome<void>>;
  /** SyncMgr's SetItemStatus(SKIPPED): aborts the item's signal; its next progress answer is `cancel-item`. */
  skip(itemId: string): Promise<void>;
  /** Aborts the handler's `ctx.signal` (cancel, timeout, end of session). */
  abort(reason: WireError): Promise<void>;
  /**
   * SyncMgr's ShowError, in a worker started for it alone (no initialize, no
   * session): answers the item ids to sync again (ShowErrorCompleted with
   * RETRYSYNC), or `null` for none.
   */
  showError(info: ShowErrorInfo): Promise<Outcome<string[] | null>>;
}

/**
 * What the manager exposes to one handler for one session (SyncMgr's
 * ISyncMgrSynchronizeCallback). Arguments are `unknown` because the manager
 * checks every one of them; the handler's `ctx` gives them their types.
 */
export interface CoordinatorApi<P> {
  /** `kind`: the kind the handler expects (checked before anything opens), or null. */
  establishConnection(name: unknown, kind: unknown): Promise<Outcome<ChannelGrant<P>>>;
  /**
   * A socket of its own for one `endpointWebSocket` instance: `target` is the
   * path and query below the endpoint, `protocols` the instance's. Answers at
   * once with the port; the socket's `open` (or `error` and `closed`) follows on it.
   */
  openSocket(name: unknown, target: unknown, protocols: unknown): Promise<Outcome<EndpointSocketGrant<P>>>;
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

/** Limits of what a handler may send on a WebSocket channel ahead of the network (an endpoint's `sendBuffer`). */
export interface SendBufferOptions {
  /** Above this many bytes sent but not yet on the network, `await channel.send()` waits. */
  highWaterMark: number;
  /** Above this many such bytes (frames queued while reconnecting included), `send()` throws `E_OUTOFMEMORY`. */
  maxBytes: number;
  /** At most this many frames wait while the socket reconnects; one more throws `E_OUTOFMEMORY`. */
  maxQueuedFrames: number;
}

/**
 * Bounds of what the manager posts to a handler's WebSocket channel ahead of
 * the handler (an endpoint's `receiveBuffer`): frames posted to the worker and
 * not yet given to the handler. Past either, the manager closes that
 * handler's channel with `E_OUTOFMEMORY` instead of holding more.
 */
export interface ReceiveBufferOptions {
  maxBytes: number;
  maxFrames: number;
}

/**
 * A connection handed to a handler, by kind: its own end of a channel to the
 * shared connection. `port` is transferred to the worker and carries the
 * kind's messages (socket-messages.ts, fetch-messages.ts).
 */
export interface ChannelGrants<P> {
  websocket: {
    kind: 'websocket';
    /** The endpoint's name (the default endpoint's name when asked for `null`). */
    name: string;
    port: P;
    /** The subprotocol the server chose. */
    protocol: string;
    /** The connection's state when the channel was made. */
    state: ConnectionState;
    sendBuffer: SendBufferOptions;
    /** The runtime acknowledges frames it gave the handler well before these bounds are reached. */
    receiveBuffer: ReceiveBufferOptions;
  };
  fetch: {
    kind: 'fetch';
    name: string;
    port: P;
  };
}

export type ChannelGrant<P, K extends ConnectionKind = ConnectionKind> = ChannelGrants<P>[K];

/** The port of one `endpointWebSocket` instance's socket (endpoint-socket-messages.ts). */
export interface EndpointSocketGrant<P> {
  /** The endpoint's name (the default endpoint's name when asked for `null`). */
  name: string;
  port: P;
}

/** The endpoints a handler may reach in this session, by name: names and kinds only, never URLs or headers. */
export interface EndpointAccess {
  /** What `null` means, or `null` when no default endpoint is configured. */
  defaultEndpoint: string | null;
  /** Every configured endpoint and its kind. */
  endpoints: Record<string, ConnectionKind>;
  /** The names the handler's registration allows; `null`: all of them. */
  allowed: string[] | null;
}

// TYPE GUARDS

export function isReadyMessage(value: unknown): value is ReadyMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ReadyMessage>;
  return v.type === 'syncmgr:ready' && typeof v.protocol === 'number' && (v.lock === null || typeof v.lock === 'string');
}

export function isLaneMessage(value: unknown): value is LaneMessage {
  if (typeof value !== 'object' || value === null) return false;
  const lane = (value as Partial<LaneMessage>).syncmgr;
  return lane === 'handler' || lane === 'coordinator';
}

export function isLockedMessage(value: unknown): value is LockedMessage {
  return typeof value === 'object' && value !== null && (value as Partial<LockedMessage>).type === 'syncmgr:locked' && typeof (value as Partial<LockedMessage>).held === 'boolean';
}
