/**
 * What the bench page and the bench workers say to each other on the worker's
 * global port (the manager never uses it after the ready handshake). Types
 * only: this file is checked by the page and the worker projects, so it names
 * neither DOM nor worker globals (`P` is a MessagePort on either side).
 */

/** How a handler reaches the WebSocket server. */
export type SocketVia =
  /** The handler's channel from `ctx.establishConnection()` (the manager relays). */
  | 'channel'
  /** A WebSocket the worker opened itself: the raw platform baseline. */
  | 'direct'
  /** A hand-written relay: a WebSocket on the main thread bridged to a MessagePort, ArrayBuffers transferred both ways. */
  | 'relay'
  /** An `endpointWebSocket(name)` instance: a dedicated socket the manager opens and relays over a MessagePort (case 10). */
  | 'facade';

/** How a handler fetches, and how it reads the body. */
export type FetchVia =
  /** `fetch()` inside the worker, `arrayBuffer()`: the raw platform baseline. */
  | 'direct-whole'
  /** `fetch()` inside the worker, the body read chunk by chunk. */
  | 'direct-chunks'
  /** The fetch channel with the default `responseBody: 'auto'`, then `arrayBuffer()`. */
  | 'channel-auto-whole'
  /** The fetch channel with `responseBody: 'whole'`, then `arrayBuffer()`. */
  | 'channel-whole'
  /** The fetch channel with `responseBody: 'stream'`, the body read chunk by chunk. */
  | 'channel-stream-chunks';

/** What the bench handler does in its session, from the session's cookie. */
export type BenchCookie =
  /** `synchronize()` returns at once (session overhead). */
  | { mode: 'empty' }
  /** `synchronize()` answers commands from the page until `finish` (every other case). */
  | { mode: 'serve' }
  /** `synchronize()` establishes a WebSocket and a fetch channel, uses each once and returns (leak check). */
  | { mode: 'leak'; socket: string; api: string };

export type Command<P> =
  | { op: 'establish'; name: string; kind: 'websocket' | 'fetch' }
  | { op: 'open-direct'; url: string }
  | { op: 'open-facade'; name: string; path: string }
  | { op: 'attach-relay'; port: P }
  | { op: 'rtt'; via: SocketVia; count: number; size: number }
  | { op: 'down'; via: SocketVia; count: number; size: number }
  | { op: 'up'; via: SocketVia; count: number; size: number }
  | { op: 'fetch'; via: FetchVia; path: string; bytes: number }
  | { op: 'progress'; count: number }
  | { op: 'flood'; via: 'channel' | 'direct'; count: number; size: number; busyMs: number }
  | { op: 'finish' };

/** Page → worker. */
export interface CommandMessage<P> {
  type: 'bench:command';
  id: number;
  command: Command<P>;
}

/** Worker → page. */
export type WorkerMessage =
  | { type: 'bench:serving'; handlerId: string }
  | { type: 'bench:reply'; id: number; ok: true; value: unknown }
  | { type: 'bench:reply'; id: number; ok: false; error: string };

/** Answer of `rtt`: one sample per round trip, in milliseconds. */
export type RttResult = number[];
/** Answer of `down`, `up`, `establish`, `open-direct`, `open-facade`, `progress`: milliseconds. */
export type TimeResult = number;
/** Answer of `fetch`. */
export interface FetchResult {
  ms: number;
  bytes: number;
  chunks: number;
}

/**
 * Answer of `flood` (bench/flood-memory.ts). Times are epoch ms (Date.now()),
 * so the driver can place its own samples against the busy period.
 */
export interface FloodResult {
  /** The synchronous loop ran from busyStart to busyEnd; it starts once the first frame arrived. */
  busyStart: number;
  busyEnd: number;
  /** Frames the handler got before the loop (normally 1), and in all once it drained or its channel closed. */
  receivedBeforeBusy: number;
  received: number;
  /** When the last frame was dispatched (or the channel closed). */
  drainedAt: number;
  /** Close code of the handler's channel, when it closed (4001: its receiveBuffer overflowed); else null. */
  closeCode: number | null;
}

/** The raw progress baseline's worker: page → worker, then worker → page. */
export type RawProgressMessage<P> =
  | { type: 'go'; port: P; count: number }
  | { type: 'done'; ms: number };
