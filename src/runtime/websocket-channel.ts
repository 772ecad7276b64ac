/**
 * The handler's end of a shared WebSocket. It has some of a WebSocket's shape (`send`,
 * `message` and `close` events, `readyState`) plus the connection's `state`
 * (`statechange` events) and an async iterator of messages. While the socket
 * reconnects, frames wait here in a bounded queue and go out in order once it
 * is open again. `await send()` waits while more than the high-water mark is
 * on its way (backpressure); past the hard limit `send()` throws, so memory
 * never grows without bound and nothing is dropped silently. `close()` only
 * detaches this handler: the socket belongs to the session. When the
 * handler's work ends the channel ends too: what it queued is handed to the
 * manager first, and later sends are refused.
 *
 * Frames from the server are acknowledged to the manager as they are
 * dispatched (lazily, well before the endpoint's `receiveBuffer` is reached),
 * which is what lets the manager bound what waits for a busy handler.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { frameSize, isFrame, type Frame, type SocketDown, type SocketUp } from '../protocol/socket-messages.ts';
import type { ChannelGrant, ReceiveBufferOptions, SendBufferOptions } from '../protocol/worker-api.ts';
import { fromWire } from '../protocol/wire.ts';
import type { ChannelReadyState, ConnectionState } from '../protocol/types.ts';
import { FrameBatcher } from '../internal/frame-batcher.ts';
import { TickScheduler } from '../internal/tick-scheduler.ts';
import { typedEventTarget } from '../internal/typed-event-target.ts';

const NONE: readonly Frame[] = Object.freeze([]);

/**
 * `statechange`: the connection is `reconnecting`, `open` again, `failed` or
 * `closed`. With `reconnecting` after a drop, `possiblyLost` holds this
 * channel's frames whose bytes were still in the dropped socket's buffer,
 * oldest first: not known to have reached the server (and not sent again).
 */
export class ChannelStateEvent extends Event {
  readonly state: ConnectionState;
  readonly possiblyLost: readonly (string | ArrayBuffer)[];
  constructor(state: ConnectionState, possiblyLost: readonly (string | ArrayBuffer)[] = NONE) {
    super('statechange');
    this.state = state;
    this.possiblyLost = possiblyLost;
  }
}

export interface ChannelCloseInit {
  code: number;
  reason: string;
  wasClean: boolean;
  unsent: readonly (string | ArrayBuffer)[];
  possiblyLost?: readonly (string | ArrayBuffer)[];
  error?: Error | null;
  dropped?: number;
}

/**
 * `close`: the channel ended. `unsent` holds the frames that never reached the
 * socket, oldest first; `possiblyLost` those whose bytes were still in the
 * socket's buffer when it dropped. `error` says why a channel closed while
 * the socket stays open (`E_OUTOFMEMORY`: the handler did not take its frames
 * in time), and `dropped` how many frames from the server it did not get.
 */
export class ChannelCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly unsent: readonly (string | ArrayBuffer)[];
  readonly possiblyLost: readonly (string | ArrayBuffer)[];
  readonly error: Error | null;
  readonly dropped: number;
  constructor(init: ChannelCloseInit) {
    super('close');
    this.code = init.code;
    this.reason = init.reason;
    this.wasClean = init.wasClean;
    this.unsent = init.unsent;
    this.possiblyLost = init.possiblyLost ?? NONE;
    this.error = init.error ?? null;
    this.dropped = init.dropped ?? 0;
  }
}

export interface WebSocketChannelEventMap {
  message: MessageEvent<string | ArrayBuffer>;
  statechange: ChannelStateEvent;
  close: ChannelCloseEvent;
}

const RESOLVED = Promise.resolve();
/** Task ticks for every channel's batcher in this worker (the worker lives as long as its channels). */
const ticks = new TickScheduler();
/** Frames from the server are acknowledged at the latest this long after they were dispatched. */
const RECEIVED_ACK_MS = 50;
/**
 * ArrayBuffers `send()` has taken, on any channel of this worker: each is
 * transferred when its batch is posted, and one transferred twice would make
 * the whole batch fail.
 */
const taken = new WeakSet<ArrayBuffer>();

export class WebSocketChannel extends typedEventTarget<WebSocketChannelEventMap>() {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly kind = 'websocket';
  /** The endpoint's name. */
  readonly name: string;
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** Binary frames always arrive as ArrayBuffers. */
  readonly binaryType = 'arraybuffer';
  readonly #port: MessagePort;
  readonly #batcher: FrameBatcher;
  readonly #limits: SendBufferOptions;
  readonly #receiveLimits: ReceiveBufferOptions;
  #state: ConnectionState;
  #detached = false;
  /** The handler whose work ended (its channel ended with it), or null. */
  #finishedFor: string | null = null;
  /** Frames (and bytes) dispatched and not yet acknowledged to the manager. */
  #receivedFrames = 0;
  #receivedBytes = 0;
  #receivedTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes sent to the manager and not yet acknowledged as gone to the network. */
  #inFlight = 0;
  /** Frames waiting for the socket to be open again. */
  #queue: Frame[] = [];
  #queuedBytes = 0;
  /** The queue's length as last told to the manager (SocketQueued), and whether a report is due this microtask. */
  #queuedReported = 0;
  #queuedReportDue = false;
  #waiters: (() => void)[] = [];
  /**
   * What reached the port before the handler could listen; `null` once it
   * has been dispatched. Deno dispatches the messages a port already holds
   * within the microtasks that hand the channel over, before the handler's
   * `await ctx.establishConnection()` resumes: dispatched then, they would
   * reach no listener. Held until the next task, they reach every listener
   * added before the handler's next await, in every engine.
   */
  #early: SocketDown[] | null = [];
  #ended = false;

  /** @internal Made by `ctx.establishConnection()`. */
  constructor(grant: ChannelGrant<MessagePort, 'websocket'>) {
    super();
    this.name = grant.name;
    this.protocol = grant.protocol;
    this.#state = grant.state;
    this.#limits = grant.sendBuffer;
    this.#receiveLimits = grant.receiveBuffer;
    this.#port = grant.port;
    this.#batcher = new FrameBatcher(grant.port, ticks.schedule);
    grant.port.onmessage = (event: MessageEvent) => {
      if (this.#early) this.#early.push(event.data as SocketDown);
      else this.#receive(event.data as SocketDown);
    };
    ticks.schedule(this.#receiveEarly);
  }

  readonly #receiveEarly = (): void => {
    const early = this.#early ?? [];
    this.#early = null;
    // A channel closed meanwhile (by its handler, or by a `closed` message here) takes nothing more.
    for (const data of early) if (!this.#ended) this.#receive(data);
  };

  /** The shared connection's state: `open`, `reconnecting`, `failed` or `closed` (also `closed` once detached). */
  get state(): ConnectionState {
    return this.#detached ? 'closed' : this.#state;
  }

  /** As a WebSocket's: OPEN when open, CONNECTING while reconnecting, CLOSED at the end. */
  get readyState(): ChannelReadyState {
    const state = this.state;
    return state === 'open' ? 1 : state === 'connecting' || state === 'reconnecting' ? 0 : 3;
  }

  /** Bytes sent (or queued) and not yet on the network. */
  get bufferedAmount(): number {
    return this.#inFlight + this.#queuedBytes;
  }

  /**
   * Sends a frame, or queues it while the socket reconnects. An ArrayBuffer
   * (or a view covering a whole ArrayBuffer) is transferred, not copied: it is
   * detached afterwards. Resolves at once, or, when more than
   * `sendBuffer.highWaterMark` bytes are on their way, once they drained.
   *
   * Throws `E_OUTOFMEMORY` when the frame would pass `sendBuffer.maxBytes` or
   * `sendBuffer.maxQueuedFrames`, `E_UNEXPECTED` once the channel is closed
   * or failed or the handler's work has ended, `E_INVALIDARG` for other types,
   * a detached ArrayBuffer or one already sent.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<void> {
    const state = this.state;
    if (this.#finishedFor !== null) {
      throw new SyncError('E_UNEXPECTED', `send() on the channel to endpoint '${this.name}': handler '${this.#finishedFor}' has finished (its synchronize() returned), so the frame was not sent. Send before synchronize() returns, and await what must go out.`);
    }
    if (state === 'closed' || state === 'failed') {
      throw new SyncError('E_UNEXPECTED', `The channel to endpoint '${this.name}' is ${state}; the frame was not sent.`);
    }
    const frame = toFrame(data, this.name);
    const size = frameSize(frame);
    if (this.bufferedAmount + size > this.#limits.maxBytes) {
      throw new SyncError('E_OUTOFMEMORY', `The channel to endpoint '${this.name}' already holds ${this.bufferedAmount} bytes not yet sent; this frame of ${size} would pass sendBuffer.maxBytes (${this.#limits.maxBytes}). Await send() to follow the network, or raise the limit.`);
    }
    if (state === 'open') {
      this.#inFlight += size;
      this.#take(frame);
      this.#batcher.push(frame);
    } else {
      if (this.#queue.length >= this.#limits.maxQueuedFrames) {
        throw new SyncError('E_OUTOFMEMORY', `The channel to endpoint '${this.name}' is ${state} and already queues ${this.#queue.length} frames (sendBuffer.maxQueuedFrames); this frame was not queued. Wait for the 'open' state, or raise the limit.`);
      }
      this.#take(frame);
      this.#queue.push(frame);
      this.#queuedBytes += size;
      this.#reportQueuedSoon();
    }
    return this.bufferedAmount <= this.#limits.highWaterMark ? RESOLVED : new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * @internal The handler's work ended: what waits for a reconnect is handed
   * to the manager (which sends it after the reconnect), the channel detaches
   * after everything it posted, and `send()` is refused from now on.
   */
  finish(handlerId: string): void {
    if (this.#finishedFor !== null) return;
    this.#finishedFor = handlerId;
    if (this.#detached || this.#state === 'closed' || this.#state === 'failed') return;
    for (const frame of this.#takeQueue()) {
      this.#inFlight += frameSize(frame);
      this.#batcher.push(frame);
    }
    this.#batcher.flush();
    this.#port.postMessage({ type: 'detach' });
    this.#detached = true;
    this.#end({ code: 1000, reason: 'the handler finished', wasClean: true, unsent: [] }, false);
  }

  /** Detaches this handler from the connection; the shared socket stays open. Idempotent. */
  close(): void {
    if (this.#detached || this.#state === 'closed' || this.#state === 'failed') return;
    this.#batcher.flush();
    this.#port.postMessage({ type: 'detach' });
    this.#detached = true;
    this.#end({ code: 1000, reason: 'channel closed by the handler', wasClean: true, unsent: this.#returnQueue() }, false);
  }

  /** Messages from now on, until the channel closes. */
  async *messages(): AsyncGenerator<string | ArrayBuffer, void, undefined> {
    const queue: (string | ArrayBuffer)[] = [];
    let head = 0;
    let wake: (() => void) | null = null;
    const onMessage = (event: MessageEvent<string | ArrayBuffer>) => {
      queue.push(event.data);
      wake?.();
    };
    const onClose = () => wake?.();
    this.addEventListener('message', onMessage);
    this.addEventListener('close', onClose);
    try {
      while (true) {
        if (head < queue.length) {
          const frame = queue[head]!;
          queue[head++] = '';
          if (head > 1024 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
          yield frame;
          continue;
        }
        if (this.readyState === WebSocketChannel.CLOSED) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      this.removeEventListener('message', onMessage);
      this.removeEventListener('close', onClose);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<string | ArrayBuffer, void, undefined> {
    return this.messages();
  }

  #receive(data: SocketDown): void {
    if (isFrame(data)) {
      this.#dispatch(data);
      return this.#received();
    }
    if (Array.isArray(data)) {
      for (const frame of data) this.#dispatch(frame);
      return this.#received();
    }
    if (typeof data !== 'object' || data === null) return;
    if (data.type === 'ack') {
      this.#inFlight = Math.max(0, this.#inFlight - data.bytes);
      this.#wakeSenders();
    } else if (data.type === 'state') {
      this.#state = data.state;
      if (data.state === 'open') this.#flushQueue();
      this.dispatchEvent(new ChannelStateEvent(data.state, data.possiblyLost));
    } else if (data.type === 'closed') {
      // The state changes first; `close` is the channel's last event.
      this.#state = data.state;
      this.dispatchEvent(new ChannelStateEvent(data.state));
      this.#end({
        code: data.code, reason: data.reason, wasClean: data.wasClean, unsent: [...data.unsent, ...this.#returnQueue()],
        possiblyLost: data.possiblyLost, error: data.error && fromWire(data.error), dropped: data.dropped,
      });
    }
    // `refused`: the manager refused frames over the send limit, which this channel never passes.
  }

  /** Acknowledges dispatched frames: at once past a quarter of the receive buffer, else a moment later. */
  #received(): void {
    const { maxFrames, maxBytes } = this.#receiveLimits;
    if (this.#receivedFrames >= Math.max(1, maxFrames >> 2) || this.#receivedBytes >= Math.max(1, maxBytes >> 2)) this.#sendReceived();
    else this.#receivedTimer ??= setTimeout(this.#sendReceived, RECEIVED_ACK_MS);
  }

  readonly #sendReceived = (): void => {
    clearTimeout(this.#receivedTimer);
    this.#receivedTimer = undefined;
    if (this.#receivedFrames === 0 || this.#detached) return;
    this.#port.postMessage({ type: 'received', frames: this.#receivedFrames, bytes: this.#receivedBytes });
    this.#receivedFrames = 0;
    this.#receivedBytes = 0;
  };

  /** Marks an ArrayBuffer as taken by send() (toFrame refused one taken before). */
  #take(frame: Frame): void {
    if (typeof frame !== 'string') taken.add(frame);
  }

  #flushQueue(): void {
    const queue = this.#takeQueue();
    for (const frame of queue) {
      this.#inFlight += frameSize(frame);
      this.#batcher.push(frame);
    }
    // The frames go out before the manager hears the queue is empty, so it never counts them twice or not at all.
    if (this.#queuedReported > 0) {
      this.#batcher.flush();
      this.#reportQueued();
    }
  }

  /** Tells the manager the queue's length once this burst of send() calls is over. */
  #reportQueuedSoon(): void {
    if (this.#queuedReportDue) return;
    this.#queuedReportDue = true;
    queueMicrotask(() => {
      this.#queuedReportDue = false;
      this.#reportQueued();
    });
  }

  #reportQueued(): void {
    const frames = this.#queue.length;
    if (frames === this.#queuedReported || this.#detached || this.#ended) return;
    this.#queuedReported = frames;
    this.#port.postMessage({ type: 'queued', frames } satisfies SocketUp);
  }

  #takeQueue(): Frame[] {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    return queue;
  }

  /** The queue, given back to the handler: its ArrayBuffers were never transferred and may be sent again. */
  #returnQueue(): Frame[] {
    const queue = this.#takeQueue();
    for (const frame of queue) if (typeof frame !== 'string') taken.delete(frame);
    return queue;
  }

  #wakeSenders(): void {
    if (this.bufferedAmount > this.#limits.highWaterMark && this.readyState !== WebSocketChannel.CLOSED) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #dispatch(frame: Frame): void {
    this.#receivedFrames += 1;
    this.#receivedBytes += frameSize(frame);
    if (this.readyState !== WebSocketChannel.CLOSED) this.dispatchEvent(new MessageEvent('message', { data: frame }));
  }

  /**
   * `closePort`: false right after this end posted `detach`, which Firefox
   * would drop from a port closed at once; the manager closes its end when
   * the detach arrives, and this one is collected.
   */
  #end(init: ChannelCloseInit, closePort = true): void {
    this.#ended = true;
    clearTimeout(this.#receivedTimer);
    this.#receivedTimer = undefined;
    this.#port.onmessage = null;
    if (closePort) this.#port.close();
    this.#inFlight = 0;
    this.#wakeSenders();
    this.dispatchEvent(new ChannelCloseEvent(init));
  }
}

function toFrame(data: unknown, name: string): Frame {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return checkBuffer(data, name);
  if (ArrayBuffer.isView(data)) {
    const { buffer } = data;
    if (buffer instanceof ArrayBuffer && (taken.has(buffer) || data.byteLength === buffer.byteLength)) return checkBuffer(buffer, name);
    if (buffer instanceof ArrayBuffer) checkDetached(buffer, name);
    const { byteOffset, byteLength } = data;
    return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
  }
  throw new SyncError('E_INVALIDARG', `send(data) on the channel to endpoint '${name}' takes a string, an ArrayBuffer or a typed array, not ${describe(data)}.`);
}

function checkBuffer(buffer: ArrayBuffer, name: string): ArrayBuffer {
  // Taken by an earlier send(), whether or not its batch has been posted (and the buffer detached) yet.
  if (taken.has(buffer)) {
    throw new SyncError('E_INVALIDARG', `send(data) on the channel to endpoint '${name}': this ArrayBuffer was already sent (a sent ArrayBuffer is transferred); send a copy (buffer.slice(0)) to send the same bytes again.`);
  }
  checkDetached(buffer, name);
  return buffer;
}

function checkDetached(buffer: ArrayBuffer, name: string): void {
  if ((buffer as { detached?: boolean }).detached === true) {
    throw new SyncError('E_INVALIDARG', `send(data) on the channel to endpoint '${name}': this ArrayBuffer is detached (it was transferred, by an earlier send() or a postMessage); send a copy made before it was transferred.`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
