/**
 * The handler's end of a fetch endpoint: `fetch(path, init)` answers a real
 * `Response`. The manager makes the request (adding the endpoint's headers,
 * which never enter the worker), retries it by the endpoint's policy, and
 * aborts it when the session ends. Response bodies arrive whole (one
 * transferred ArrayBuffer) or streamed (a transferred ReadableStream, or
 * transferred chunks on the port where streams cannot be transferred); either
 * way the handler gets an ordinary `Response` whose `body` streams.
 */
import { SyncError, fromWire, isWireError } from '../protocol/errors.ts';
import type { FetchDown, FetchRequestMessage, FetchUp, ResponseBodyMode } from '../protocol/api.ts';

export type { ResponseBodyMode };

/** fetch's `RequestInit`, plus what the manager needs to know. */
export interface FetchInit extends RequestInit {
  /**
   * How the response body crosses from the manager: `'whole'` (one
   * transferred buffer: fastest when you read it all, e.g. `res.json()`),
   * `'stream'` (chunks as they arrive: for large bodies you consume
   * progressively), `'auto'` (default: whole when small, streamed when large
   * or of unknown length beyond the endpoint's `wholeBodyLimit`).
   */
  responseBody?: ResponseBodyMode;
  /**
   * Whether the manager may send the request again after a network error,
   * 429 or 5xx: `true` opts a POST or PATCH in (as an `Idempotency-Key`
   * header does), `false` opts any method out. Default: idempotent methods only.
   */
  idempotent?: boolean;
}

// Placeholder origin used only to let `Request` normalise the body and headers.
const NORMALISE = 'http://syncmgr.invalid/';
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const MODES: readonly string[] = ['auto', 'whole', 'stream'];

/**
 * The Response a handler gets. Reading it whole costs less than with
 * Response's own readers, which in Chromium copy a constructed body in small
 * steps (8 MiB: 20–35 ms for `new Response(buffer).arrayBuffer()`, which made
 * a whole body take 2.1× a worker's own fetch; bench/ case 4). While the body
 * is untouched and not cloned, `arrayBuffer()`, `bytes()`, `text()` and
 * `json()` take a body that crossed whole as it is (the transferred buffer:
 * no copy), and read a streamed one chunk by chunk into one buffer. They
 * answer what Response's own would, and leave the body used. Everything else
 * is Response's own.
 */
class ChannelResponse extends Response {
  readonly #whole: ArrayBuffer | null;
  #cloned = false;

  constructor(body: ReadableStream<Uint8Array> | null, init: ResponseInit, whole: ArrayBuffer | null) {
    super(body, init);
    this.#whole = whole;
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const body = this.body;
    if (this.#cloned || body === null || this.bodyUsed || body.locked) return super.arrayBuffer();
    if (this.#whole) {
      // Cancelling marks the body used, as reading it would; it never enqueued the buffer.
      void body.cancel();
      return this.#whole;
    }
    return readAll(body, declaredLength(this.headers));
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  override clone(): Response {
    this.#cloned = true;
    return super.clone();
  }
}

/** A body that crossed whole, as a stream that hands over the buffer itself when read. */
function wholeBody(buffer: ArrayBuffer): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer));
      controller.close();
    },
  }, { highWaterMark: 0 });
}

/** The body's length when the headers say it: a Content-Length and no content coding. */
function declaredLength(headers: Headers): number | null {
  const coding = headers.get('content-encoding');
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
  const value = headers.get('content-length');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

/**
 * Reads a stream to its end into one buffer. With the length known, each chunk
 * is copied into place as it arrives, so the copying (and the first touch of
 * a large buffer's pages) overlaps the transfer instead of following it; a
 * single chunk that fills its buffer is not copied at all.
 */
async function readAll(stream: ReadableStream<Uint8Array>, length: number | null): Promise<ArrayBuffer> {
  const reader = stream.getReader();
  let out: Uint8Array<ArrayBuffer> | null = null;
  try {
    if (length !== null) out = new Uint8Array(length);
  } catch {
    // A length too large to allocate at once: join at the end, as without a length.
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && size + value.byteLength <= out.byteLength && (size > 0 || value.byteLength < out.byteLength)) {
      out.set(value, size);
    } else {
      // No length, a body longer than announced, or one chunk that is the whole body: keep the chunks, join at the end.
      if (out && size > 0) chunks.push(out.subarray(0, size));
      out = null;
      chunks.push(value);
    }
    size += value.byteLength;
  }
  if (out) return size === out.byteLength ? out.buffer : out.slice(0, size).buffer;
  const only = chunks.length === 1 ? chunks[0]! : null;
  if (only && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength && only.buffer instanceof ArrayBuffer) return only.buffer;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined.buffer;
}

/** A streamed body being received. */
interface BodySink {
  readonly stream: ReadableStream<Uint8Array>;
  /** Errors the body with `reason` at once (abort, end of session). */
  fail(reason: unknown): void;
  chunk?(data: ArrayBuffer): void;
  end?(): void;
}

/** One request, from `fetch()` until its response (and a streamed body) is complete. */
interface Running {
  signal: AbortSignal | undefined;
  onAbort: () => void;
  /** Until the response head arrives. */
  pending: { resolve(response: Response): void; reject(error: unknown): void } | null;
  body: BodySink | null;
}

export class FetchChannel {
  readonly kind = 'fetch';
  /** The endpoint's name. */
  readonly name: string;
  readonly #port: MessagePort;
  readonly #running = new Map<number, Running>();
  #nextId = 1;
  #closed: Error | null = null;

  /** @internal Made by `ctx.establishConnection()`. */
  constructor(name: string, port: MessagePort) {
    this.name = name;
    this.#port = port;
    port.onmessage = (event: MessageEvent) => this.#receive(event.data as FetchDown<ReadableStream<Uint8Array>>);
  }

  /** `false` once the session closed the connection or the handler detached. */
  get open(): boolean {
    return this.#closed === null;
  }

  /**
   * Requests `path`, relative to the endpoint's base URL (a leading `/` also
   * means the base; absolute URLs, `//host` and `..` are refused with
   * `E_ACCESSDENIED`). `init` is fetch's: method, headers, body (any fetch
   * body type; it crosses whole), signal; plus `responseBody` and
   * `idempotent` ({@link FetchInit}). Network failures reject with `E_FAIL`
   * (after the endpoint's retries); HTTP error statuses resolve, as with
   * fetch. Aborting the signal aborts the real request, also while its body
   * streams (the body then errors with the signal's reason).
   */
  async fetch(path: string, init: FetchInit = {}): Promise<Response> {
    if (this.#closed) throw this.#closed;
    const { responseBody = 'auto', idempotent, ...rest } = init;
    if (!MODES.includes(responseBody)) {
      throw new SyncError('E_INVALIDARG', `fetch on endpoint '${this.name}': responseBody must be 'auto', 'whole' or 'stream', not ${JSON.stringify(responseBody)}.`);
    }
    if (idempotent !== undefined && typeof idempotent !== 'boolean') {
      throw new SyncError('E_INVALIDARG', `fetch on endpoint '${this.name}': idempotent must be a boolean, not ${JSON.stringify(idempotent)}.`);
    }
    const signal = rest.signal ?? undefined;
    signal?.throwIfAborted();
    const request = new Request(NORMALISE, { ...rest, signal: null });
    const body = request.body === null ? null : await request.arrayBuffer();
    signal?.throwIfAborted();
    if (this.#closed) throw this.#closed;
    const id = this.#nextId++;
    const message: FetchRequestMessage = {
      type: 'request', id, path, method: request.method, headers: [...request.headers], body, responseBody, idempotent: idempotent ?? null,
    };
    return new Promise<Response>((resolve, reject) => {
      const running: Running = {
        signal,
        pending: { resolve, reject },
        body: null,
        onAbort: () => {
          this.#post({ type: 'abort', id });
          // While the body streams, it errors at once with the signal's reason, as fetch's does.
          if (running.body) running.body.fail(signal!.reason);
        },
      };
      this.#running.set(id, running);
      signal?.addEventListener('abort', running.onAbort, { once: true });
      this.#port.postMessage(message, body ? [body] : []);
    });
  }

  /** Detaches this handler; requests still running reject (and are aborted). The endpoint stays up for the others. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#port.postMessage({ type: 'detach' } satisfies FetchUp);
    this.#end(new SyncError('E_UNEXPECTED', `The channel to endpoint '${this.name}' was closed by the handler.`));
  }

  #post(message: FetchUp): void {
    if (!this.#closed) this.#port.postMessage(message);
  }

  #receive(message: FetchDown<ReadableStream<Uint8Array>>): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'closed') return this.#end(fromWire(message.reason));
    const running = this.#running.get(message.id);
    if (!running) return;
    switch (message.type) {
      case 'error': {
        this.#settle(message.id);
        // Aborted by the handler's own signal: reject with its reason, as fetch does.
        running.pending?.reject(running.signal?.aborted ? running.signal.reason : fromWire(message.error));
        return;
      }
      case 'response': {
        const pending = running.pending;
        if (!pending) return;
        running.pending = null;
        let body: ReadableStream<Uint8Array> | null = null;
        const wire = NULL_BODY.has(message.status) ? null : message.body;
        if (wire instanceof ArrayBuffer) body = wholeBody(wire);
        else if (wire?.kind === 'stream') body = (running.body = this.#transferredBody(message.id, wire.stream)).stream;
        else if (wire?.kind === 'pumped') body = (running.body = this.#pumpedBody(message.id)).stream;
        if (!running.body) this.#settle(message.id);
        const init = { status: message.status, statusText: message.statusText, headers: message.headers };
        pending.resolve(new ChannelResponse(body, init, wire instanceof ArrayBuffer ? wire : null));
        return;
      }
      case 'chunk':
        running.body?.chunk?.(message.data);
        return;
      case 'end':
        running.body?.end?.();
        return;
      case 'body-error':
        running.body?.fail(running.signal?.aborted ? running.signal.reason : fromWire(message.error));
        return;
    }
  }

  /** The request is over: forget it and stop listening to its signal. */
  #settle(id: number): void {
    const running = this.#running.get(id);
    if (!running) return;
    this.#running.delete(id);
    running.signal?.removeEventListener('abort', running.onAbort);
  }

  /**
   * A body that came as a transferred stream. It is re-wrapped so that the
   * manager's error (a WireError, since errors lose their code when cloned)
   * becomes a SyncError again, and so that an abort or the end of the session
   * errors it at once.
   */
  #transferredBody(id: number, raw: ReadableStream<Uint8Array>): BodySink {
    const reader = raw.getReader();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let over = false;
    const finish = () => {
      over = true;
      this.#settle(id);
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      pull: async (c) => {
        try {
          const { done, value } = await reader.read();
          if (over) return;
          if (done) {
            finish();
            c.close();
          } else c.enqueue(value);
        } catch (error) {
          if (over) return;
          finish();
          c.error(isWireError(error) ? fromWire(error) : error);
        }
      },
      cancel: (reason) => {
        // Cancelling the transferred stream reaches the manager, which aborts the request.
        finish();
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
    return {
      stream,
      fail: (reason) => {
        if (over) return;
        finish();
        controller.error(reason);
        reader.cancel(reason).catch(() => {});
      },
    };
  }

  /**
   * A body that comes as chunk messages. The stream asks for a chunk only when
   * its reader does (`highWaterMark: 0`), and each chunk read gives the
   * manager credit for as many bytes, so at most the manager's window is ever
   * in flight.
   */
  #pumpedBody(id: number): BodySink {
    const queue: ArrayBuffer[] = [];
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let ended = false;
    let over = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    const finish = () => {
      over = true;
      this.#settle(id);
      notify();
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      pull: async (c) => {
        while (queue.length === 0 && !ended && !over) await new Promise<void>((resolve) => (wake = resolve));
        if (over) return;
        const data = queue.shift();
        if (data) {
          c.enqueue(new Uint8Array(data));
          this.#post({ type: 'credit', id, bytes: data.byteLength });
          return;
        }
        finish();
        c.close();
      },
      cancel: () => {
        if (over) return;
        finish();
        this.#post({ type: 'abort', id });
      },
    }, { highWaterMark: 0 });
    return {
      stream,
      chunk: (data) => {
        queue.push(data);
        notify();
      },
      end: () => {
        ended = true;
        notify();
      },
      fail: (reason) => {
        if (over) return;
        finish();
        queue.length = 0;
        controller.error(reason);
      },
    };
  }

  #end(reason: Error): void {
    this.#closed = reason;
    for (const [id, running] of [...this.#running]) {
      this.#settle(id);
      running.pending?.reject(reason);
      running.body?.fail(reason);
    }
    this.#running.clear();
    this.#port.onmessage = null;
    this.#port.close();
  }
}
