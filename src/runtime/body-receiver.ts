/**
 * The handler's side of a streamed response body: chunk messages become a
 * ReadableStream. The stream asks for a chunk only when its reader does
 * (`highWaterMark: 0`), and each chunk read gives the manager credit for as
 * many bytes, so at most the manager's window is ever in flight.
 */
import type { FetchUp } from '../protocol/fetch-messages.ts';

export class BodyReceiver {
  /** The body the handler's Response reads. */
  readonly stream: ReadableStream<Uint8Array>;
  readonly #queue: ArrayBuffer[] = [];
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #ended = false;
  #over = false;
  #wake: (() => void) | null = null;
  readonly #done: () => void;

  /** `post` sends credit and abort for request `id`; `done` runs once, when the body is over (read to its end, failed or cancelled). */
  constructor(id: number, post: (message: FetchUp) => void, done: () => void) {
    this.#done = done;
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      pull: async (c) => {
        while (this.#queue.length === 0 && !this.#ended && !this.#over) await new Promise<void>((resolve) => (this.#wake = resolve));
        if (this.#over) return;
        const data = this.#queue.shift();
        if (data) {
          c.enqueue(new Uint8Array(data));
          post({ type: 'credit', id, bytes: data.byteLength });
          return;
        }
        this.#finish();
        c.close();
      },
      cancel: () => {
        if (this.#over) return;
        this.#finish();
        post({ type: 'abort', id });
      },
    }, { highWaterMark: 0 });
  }

  /** A chunk arrived. */
  chunk(data: ArrayBuffer): void {
    this.#queue.push(data);
    this.#notify();
  }

  /** The manager sent the last chunk. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Errors the body with `reason` at once (abort, network error, end of session). */
  fail(reason: unknown): void {
    if (this.#over) return;
    this.#finish();
    this.#queue.length = 0;
    this.#controller.error(reason);
  }

  #finish(): void {
    this.#over = true;
    this.#done();
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = null;
  }
}
