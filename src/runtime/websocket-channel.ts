/**
 * The handler's end of a shared WebSocket: looks like a WebSocket (`send`,
 * `message` and `close` events, `readyState`) plus an async iterator of
 * messages. `close()` only detaches this handler; the socket itself belongs to
 * the session and closes when every handler has finished.
 */
import { SyncError } from '../protocol/errors.ts';
import { isFrame, type Frame, type SocketDown } from '../protocol/api.ts';
import type { ChannelReadyState } from '../protocol/types.ts';
import { FrameBatcher } from '../internal/frame-batcher.ts';
import { typedEventTarget } from '../internal/typed-event-target.ts';

export interface WebSocketChannelEventMap {
  message: MessageEvent<string | ArrayBuffer>;
  close: CloseEvent;
}

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
  #readyState: ChannelReadyState = WebSocketChannel.OPEN;
  readonly #port: MessagePort;
  readonly #batcher: FrameBatcher;

  /** @internal Made by `ctx.establishConnection()`. */
  constructor(name: string, protocol: string, port: MessagePort) {
    super();
    this.name = name;
    this.protocol = protocol;
    this.#port = port;
    this.#batcher = new FrameBatcher(port, (fn) => queueMicrotask(fn));
    port.onmessage = (event: MessageEvent) => this.#receive(event.data as SocketDown);
  }

  get readyState(): ChannelReadyState {
    return this.#readyState;
  }

  /**
   * Sends a frame. An ArrayBuffer (or a view covering a whole ArrayBuffer) is
   * transferred, not copied: it is detached afterwards. Throws `E_UNEXPECTED`
   * once the channel is closed, `E_INVALIDARG` for other types.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#readyState !== WebSocketChannel.OPEN) {
      throw new SyncError('E_UNEXPECTED', `The channel to endpoint '${this.name}' is closed; the frame was not sent.`);
    }
    this.#batcher.push(toFrame(data, this.name));
  }

  /** Detaches this handler from the connection; the shared socket stays open. Idempotent. */
  close(): void {
    if (this.#readyState === WebSocketChannel.CLOSED) return;
    this.#batcher.flush();
    this.#port.postMessage({ type: 'detach' });
    this.#end(1000, 'channel closed by the handler', true);
  }

  /** Messages from now on, until the channel closes. */
  async *messages(): AsyncGenerator<string | ArrayBuffer, void, undefined> {
    const queue: (string | ArrayBuffer)[] = [];
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
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (this.#readyState === WebSocketChannel.CLOSED) return;
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
    if (typeof data === 'object' && data !== null && data.type === 'closed') this.#end(data.code, data.reason, data.wasClean);
  }

  #dispatch(frame: Frame): void {
    if (this.#readyState === WebSocketChannel.OPEN) this.dispatchEvent(new MessageEvent('message', { data: frame }));
  }

  #end(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === WebSocketChannel.CLOSED) return;
    this.#readyState = WebSocketChannel.CLOSED;
    this.#port.onmessage = null;
    this.#port.close();
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
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
