/**
 * The handler's end of a fetch endpoint: `fetch(path, init)` answers a real
 * `Response`. The manager makes the request (adding the endpoint's headers,
 * which never enter the worker) and aborts it when the session ends.
 */
import { SyncError, fromWire } from '../protocol/errors.ts';
import type { FetchDown, FetchRequestMessage } from '../protocol/api.ts';

// Placeholder origin used only to let `Request` normalise the body and headers.
const NORMALISE = 'http://syncmgr.invalid/';
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

interface Pending {
  resolve(response: Response): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class FetchChannel {
  readonly kind = 'fetch';
  /** The endpoint's name. */
  readonly name: string;
  readonly #port: MessagePort;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | null = null;

  /** @internal Made by `ctx.establishConnection()`. */
  constructor(name: string, port: MessagePort) {
    this.name = name;
    this.#port = port;
    port.onmessage = (event: MessageEvent) => this.#receive(event.data as FetchDown);
  }

  /** `false` once the session closed the connection or the handler detached. */
  get open(): boolean {
    return this.#closed === null;
  }

  /**
   * Requests `path`, relative to the endpoint's base URL (a leading `/` also
   * means the base; absolute URLs, `//host` and `..` are refused with
   * `E_ACCESSDENIED`). `init` is fetch's: method, headers, body (any fetch
   * body type), signal. Network failures reject with `E_FAIL`; HTTP error
   * statuses resolve, as with fetch. The body arrives whole, as one
   * transferred ArrayBuffer.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.#closed) throw this.#closed;
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const request = new Request(NORMALISE, { ...init, signal: null });
    const body = request.body === null ? null : await request.arrayBuffer();
    signal?.throwIfAborted();
    if (this.#closed) throw this.#closed;
    const id = this.#nextId++;
    const message: FetchRequestMessage = { type: 'request', id, path, method: request.method, headers: [...request.headers], body };
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => this.#port.postMessage({ type: 'abort', id });
      this.#pending.set(id, { resolve, reject, signal, onAbort });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#port.postMessage(message, body ? [body] : []);
    });
  }

  /** Detaches this handler; requests still running reject. The endpoint stays up for the others. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#port.postMessage({ type: 'detach' });
    this.#end(new SyncError('E_UNEXPECTED', `The channel to endpoint '${this.name}' was closed by the handler.`));
  }

  #receive(message: FetchDown): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'closed') return this.#end(fromWire(message.reason));
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    pending.signal?.removeEventListener('abort', pending.onAbort);
    if (message.type === 'error') {
      // Aborted by the handler's own signal: reject with its reason, as fetch does.
      pending.reject(pending.signal?.aborted ? pending.signal.reason : fromWire(message.error));
      return;
    }
    const body = NULL_BODY.has(message.status) ? null : message.body;
    pending.resolve(new Response(body, { status: message.status, statusText: message.statusText, headers: message.headers }));
  }

  #end(reason: Error): void {
    this.#closed = reason;
    for (const pending of this.#pending.values()) {
      pending.signal?.removeEventListener('abort', pending.onAbort);
      pending.reject(reason);
    }
    this.#pending.clear();
    this.#port.onmessage = null;
    this.#port.close();
  }
}
