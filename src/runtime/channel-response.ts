/**
 * The `Response` a fetch channel answers. Reading it whole costs less than
 * with Response's own readers, which in some engines copy a constructed body
 * again in small steps. While the body is untouched and not cloned,
 * `arrayBuffer()`, `bytes()`, `text()` and `json()` take a body that crossed
 * whole as it is (the transferred buffer: no copy), and read a streamed one
 * chunk by chunk into one buffer. They answer what Response's own would, and
 * leave the body used. Everything else is Response's own.
 */
import { declaredLength } from '../protocol/fetch-messages.ts';
import { joinChunks } from '../internal/bytes.ts';

export class ChannelResponse extends Response {
  readonly #whole: ArrayBuffer | null;
  #cloned = false;

  /** `whole`: the buffer a body that crossed whole came in (`body` is then {@link wholeBody} of it). */
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
