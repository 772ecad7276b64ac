/**
 * The `Response` a fetch channel answers. Reading it whole costs less than
 * with Response's own readers, which in some engines copy a constructed body
 * again in small steps. While the body is untouched and not cloned,
 * `arrayBuffer()`, `bytes()`, `text()` and `json()` take a body that crossed
 * whole as it is (the transferred buffer: no copy), and read a streamed one
 * chunk by chunk into one buffer. They answer what Response's own would, and
 * leave the body used. It also says what a constructed Response cannot:
 * the `url`, `redirected` and `type` of the manager's fetch, and an opaque
 * redirect's status 0. Everything else is Response's own.
 */
import { declaredLength } from '../protocol/fetch-messages.ts';
import { joinChunks } from '../internal/bytes.ts';

/** What the manager's fetch said of a response that a constructed `Response` cannot carry. */
export interface ResponseFacts {
  /** The final URL, as the handler is shown it. */
  readonly url: string;
  readonly redirected: boolean;
  readonly type: ResponseType;
}

export class ChannelResponse extends Response {
  readonly #whole: ArrayBuffer | null;
  readonly #facts: ResponseFacts;
  readonly #init: ResponseInit;
  #cloned = false;

  /**
   * `whole`: the buffer a body that crossed whole came in (`body` is then
   * {@link wholeBody} of it). An opaque redirect (`facts.type`) has status 0,
   * which `Response` refuses to construct: it is made with 200 and says 0.
   */
  constructor(body: ReadableStream<Uint8Array> | null, init: ResponseInit, whole: ArrayBuffer | null, facts: ResponseFacts) {
    const opaque = facts.type === 'opaqueredirect';
    super(opaque ? null : body, opaque ? { status: 200 } : init);
    this.#whole = whole;
    this.#facts = facts;
    this.#init = init;
  }

  override get url(): string {
    return this.#facts.url;
  }

  override get redirected(): boolean {
    return this.#facts.redirected;
  }

  override get type(): ResponseType {
    return this.#facts.type;
  }

  override get status(): number {
    return this.#facts.type === 'opaqueredirect' ? 0 : super.status;
  }

  override get ok(): boolean {
    return this.#facts.type === 'opaqueredirect' ? false : super.ok;
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
    const twin = super.clone();
    return new ChannelResponse(twin.body, { status: this.#init.status, statusText: this.statusText, headers: this.headers }, null, this.#facts);
  }
}

/** A body that crossed whole, as a stream that hands over the buffer itself when read. */
export function wholeBody(buffer: ArrayBuffer): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer));
      controller.close();
    },
  }, { highWaterMark: 0 });
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
  return joinChunks(chunks, size);
}
