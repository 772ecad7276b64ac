/**
 * How one response body crosses from the main thread to the handler's
 * worker: whole, as one transferred ArrayBuffer, or streamed, as transferred
 * ArrayBuffer chunks on the channel's port, at most
 * {@link STREAM_WINDOW_BYTES} ahead of what the handler has read. The main
 * thread reads the next chunk from the network only when that credit allows,
 * and holds at most the rest of one read (see BodySender), so a slow handler
 * slows the download instead of filling the main thread's memory, and
 * `arrayBuffer()` is never called on a streamed response.
 *
 * (Transferring the ReadableStream itself, where an engine can, is not done:
 * the streams spec structured-clones every chunk of a transferred stream, so
 * the main thread would copy the whole body; see the README.)
 */
import { SyncError } from '../protocol/sync-error.ts';
import { toWire } from '../protocol/wire.ts';
import { declaredLength, type FetchDown, type ResponseBodyMode } from '../protocol/fetch-messages.ts';
import { joinChunks, ownBuffer } from '../internal/bytes.ts';
import { STREAM_WINDOW_BYTES } from './fetch-options.ts';
import { causeMessage } from './connect-helpers.ts';
import { expectedLength, lengthChecked, shortBody } from './body-length.ts';

/** Posts a message on the channel's port (and transfers `transfer`); a no-op once the handler detached. */
export type Reply = (down: FetchDown, transfer?: Transferable[]) => void;

/** Whole, read on the main thread; or the reader to stream from, after what was read of it while finding out it is large. */
export type BodyPlan = { whole: ArrayBuffer } | { whole: null; reader: ReadableStreamDefaultReader<Uint8Array>; prefix: Uint8Array[] };

/**
 * Decides how the body crosses (see fetch-options.ts): `whole` reads it on
 * the main thread; otherwise the reader, after any prefix read while finding
 * out that a body of unknown length is larger than `limit`.
 */
export async function planBody(response: Response, mode: ResponseBodyMode, limit: number): Promise<BodyPlan> {
  const length = declaredLength(response.headers);
  // A body cut short must fail, also in an engine that ends it as if complete (body-length.ts).
  const expected = expectedLength(response);
  if (mode === 'whole' || (mode === 'auto' && length !== null && length <= limit)) {
    const whole = await response.arrayBuffer();
    if (expected !== null && whole.byteLength < expected) throw shortBody(whole.byteLength, expected);
    return { whole };
  }
  const reader = (expected === null ? response.body! : lengthChecked(response.body!, expected)).getReader();
  const prefix: Uint8Array[] = [];
  if (mode === 'auto' && length === null) {
    let size = 0;
    while (size <= limit) {
      const { done, value } = await reader.read();
      if (done) return { whole: joinChunks(prefix, size) };
      prefix.push(value);
      size += value.byteLength;
    }
  }
  return { whole: null, reader, prefix };
}

/**
 * Streams one response body as chunk messages, owning its credit (what it
 * may still post before the handler reads more) and its end: an `end`
 * message, or a `body-error` with the network's error or the abort reason.
 *
 * Never more than {@link STREAM_WINDOW_BYTES} is posted and not yet read by
 * the handler, whatever the engine's body reader hands out at once (some
 * engines hand out more than the window in one read). A chunk that fits the
 * window crosses whole, its buffer transferred, once the credit covers it;
 * a larger one crosses in pieces, each a copy of at most the credit there
 * is, as the credit arrives.
 */
export class BodySender {
  readonly #name: string;
  readonly #id: number;
  readonly #reply: Reply;
  readonly #signal: AbortSignal;
  #credit = STREAM_WINDOW_BYTES;
  #wake: (() => void) | null = null;

  /** `signal`: the request's; aborting it ends the body with its reason. */
  constructor(name: string, id: number, reply: Reply, signal: AbortSignal) {
    this.#name = name;
    this.#id = id;
    this.#reply = reply;
    this.#signal = signal;
  }

  /** The handler read `bytes` more: that much more may be posted. */
  credit(bytes: number): void {
    this.#credit += bytes;
    this.#wake?.();
  }

  /** Posts `prefix`, then the rest of `reader`, within the credit. Resolves when the body has ended, whichever way; never rejects. */
  async send(reader: ReadableStreamDefaultReader<Uint8Array>, prefix: Uint8Array[]): Promise<void> {
    const signal = this.#signal;
    const onAbort = () => this.#wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (prefix.length > 0) await this.#post(prefix.shift()!); // posted: not held until the body ends
      for (;;) {
        await this.#creditOf(1);
        const { done, value } = await reader.read();
        if (done) break;
        await this.#post(value);
      }
      this.#reply({ type: 'end', id: this.#id });
    } catch (cause) {
      const error = signal.aborted ? signal.reason : new SyncError('E_FAIL', `Endpoint '${this.#name}': the response body failed: ${causeMessage(cause)}.`, { cause });
      reader.cancel(error).catch(() => {});
      this.#reply({ type: 'body-error', id: this.#id, error: toWire(error) });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Posts one chunk within the credit: whole when it fits the window, else in pieces. Rejects with the abort reason. */
  async #post(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength <= STREAM_WINDOW_BYTES) {
      await this.#creditOf(chunk.byteLength);
      this.#send(ownBuffer(chunk));
      return;
    }
    for (let offset = 0; offset < chunk.byteLength;) {
      await this.#creditOf(1);
      const end = Math.min(chunk.byteLength, offset + this.#credit);
      this.#send(chunk.slice(offset, end).buffer);
      offset = end;
    }
  }

  #send(data: ArrayBuffer): void {
    this.#credit -= data.byteLength;
    this.#reply({ type: 'chunk', id: this.#id, data }, [data]);
  }

  /** Resolves once the credit is at least `bytes`; rejects with the abort reason. */
  async #creditOf(bytes: number): Promise<void> {
    while (this.#credit < bytes) {
      this.#signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
    this.#signal.throwIfAborted();
  }
}
