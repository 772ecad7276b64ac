/**
 * The handler's end of a shared WebSocket. It looks like a WebSocket (`send`,
 * `message` and `close` events, `readyState`) plus the connection's `state`
 * (`statechange` events) and an async iterator of messages. While the socket
 * reconnects, frames wait here in a bounded queue and go out in order once it
 * is open again. `await send()` waits while more than the high-water mark is
 * on its way (backpressure); past the hard limit `send()` throws, so memory
 * never grows without bound and nothing is dropped silently. `close()` only
 * detaches this handler: the socket belongs to the session.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { frameSize, isFrame, type Frame, type SocketDown } from '../protocol/socket-messages.ts';
import type { ChannelGrant, SendBufferOptions } from '../protocol/worker-api.ts';
import type { ChannelReadyState, ConnectionState } from '../protocol/types.ts';
import { FrameBatcher } from '../internal/frame-batcher.ts';
import { TickScheduler } from '../internal/tick-scheduler.ts';
import { typedEventTarget } from '../internal/typed-event-target.ts';

/** `statechange`: the connection is `reconnecting`, `open` again, `failed` or `closed`. */
export class ChannelStateEvent extends Event {
  readonly state: ConnectionState;
  constructor(state: ConnectionState) {
    super('statechange');
    this.state = state;
  }
}

/** `close`: the channel ended. `unsent` holds the frames that never reached the socket, oldest first. */
export class ChannelCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly unsent: readonly (string | ArrayBuffer)[];
  constructor(init: { code: number; reason: string; wasClean: boolean; unsent: readonly (string | ArrayBuffer)[] }) {
    super('close');
    this.code = init.code;
    this.reason = init.reason;
    this.wasClean = init.wasClean;
    this.unsent = init.unsent;
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
  #state: ConnectionState;
  #detached = false;
  /** Bytes sent to the manager and not yet acknowledged as gone to the network. */
  #inFlight = 0;
  /** Frames waiting for the socket to be open again. */
  #queue: Frame[] = [];
  #queuedBytes = 0;
  #waiters: (() => void)[] = [];

  /** @internal Made by `ctx.establishConnection()`. */
  constructor(grant: ChannelGrant<MessagePort, 'websocket'>) {
    super();
    this.name = grant.name;
    this.protocol = grant.protocol;
    this.#state = grant.state;
    this.#limits = grant.sendBuffer;
    this.#port = grant.port;
    this.#batcher = new FrameBatcher(grant.port, ticks.schedule);
    grant.port.onmessage = (event: MessageEvent) => this.#receive(event.data as SocketDown);
  }

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
   * or failed, `E_INVALIDARG` for other types.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<void> {
    const state = this.state;
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
      this.#batcher.push(frame);
    } else {
      if (this.#queue.length >= this.#limits.maxQueuedFrames) {
        throw new SyncError('E_OUTOFMEMORY', `The channel to endpoint '${this.name}' is ${state} and already queues ${this.#queue.length} frames (sendBuffer.maxQueuedFrames); this frame was not queued. Wait for the 'open' state, or raise the limit.`);
      }
      this.#queue.push(frame);
      this.#queuedBytes += size;
    }
    return this.bufferedAmount <= this.#limits.highWaterMark ? RESOLVED : new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Detaches this handler from the connection; the shared socket stays open. Idempotent. */
  close(): void {
    if (this.#detached || this.#state === 'closed' || this.#state === 'failed') return;
    this.#batcher.flush();
    this.#port.postMessage({ type: 'detach' });
    this.#detached = true;
    this.#end({ code: 1000, reason: 'channel closed by the handler', wasClean: true, unsent: this.#takeQueue() });
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
    if (isFrame(data)) return this.#dispatch(data);
    if (Array.isArray(data)) {
      for (const frame of data) this.#dispatch(frame);
      return;
    }
    if (typeof data !== 'object' || data === null) return;
    if (data.type === 'ack') {
      this.#inFlight = Math.max(0, this.#inFlight - data.bytes);
      this.#wakeSenders();
    } else if (data.type === 'state') {
      this.#state = data.state;
      if (data.state === 'open') this.#flushQueue();
      this.dispatchEvent(new ChannelStateEvent(data.state));
    } else if (data.type === 'closed') {
      // The state changes first; `close` is the channel's last event.
      this.#state = data.state;
      this.dispatchEvent(new ChannelStateEvent(data.state));
      this.#end({ code: data.code, reason: data.reason, wasClean: data.wasClean, unsent: [...data.unsent, ...this.#takeQueue()] });
    }
  }

  #flushQueue(): void {
    const queue = this.#takeQueue();
    for (const frame of queue) {
      this.#inFlight += frameSize(frame);
      this.#batcher.push(frame);
    }
  }

  #takeQueue(): Frame[] {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    return queue;
  }

  #wakeSenders(): void {
    if (this.bufferedAmount > this.#limits.highWaterMark && this.readyState !== WebSocketChannel.CLOSED) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #dispatch(frame: Frame): void {
    if (this.readyState !== WebSocketChannel.CLOSED) this.dispatchEvent(new MessageEvent('message', { data: frame }));
  }

  #end(init: { code: number; reason: string; wasClean: boolean; unsent: Frame[] }): void {
    this.#port.onmessage = null;
    this.#port.close();
    this.#inFlight = 0;
    this.#wakeSenders();
    this.dispatchEvent(new ChannelCloseEvent(init));
  }
}

function toFrame(data: unknown, name: string): Frame {
  if (typeof data === 'string' || data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) {
    const { buffer, byteOffset, byteLength } = data;
    if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
    return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
  }
  throw new SyncError('E_INVALIDARG', `send() on the channel to endpoint '${name}' takes a string, an ArrayBuffer or a typed array, not ${data === null ? 'null' : typeof data}.`);
}
