/**
 * The handler's end of a fetch endpoint: `fetch(path, init)` answers a real
 * `Response`. The manager makes the request (adding the endpoint's headers,
 * which never enter the worker), retries it by the endpoint's policy, and
 * aborts it when the session ends. Response bodies arrive whole (one
 * transferred ArrayBuffer) or streamed (transferred chunks on the port);
 * either way the handler gets an ordinary `Response` whose `body` streams.
 * This file multiplexes the requests on the channel's port; the Response is
 * channel-response.ts, a streamed body body-receiver.ts.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { fromWire } from '../protocol/wire.ts';
import type { ChannelGrant } from '../protocol/worker-api.ts';
import { NULL_BODY_STATUSES, REQUEST_REDIRECT_MODES, RESPONSE_BODY_MODES, requestProblem, type FetchDown, type FetchRequestMessage, type FetchResponseMessage, type FetchUp, type RequestRedirectMode, type ResponseBodyMode } from '../protocol/fetch-messages.ts';
import { isOneOf } from '../protocol/types.ts';
import { BodyReceiver } from './body-receiver.ts';
import { ChannelResponse, wholeBody } from './channel-response.ts';

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
  /**
   * fetch's flag for a `ReadableStream` body, which must be `'half'` (as
   * fetch requires). The stream is read to its end in the worker and crosses
   * whole, like every request body.
   */
  duplex?: 'half';
}

// Placeholder origin used only to let `Request` normalise the body and headers.
const NORMALISE = 'http://syncmgr.invalid/';

/**
 * @internal How a facade sends a request on the channel: its word on
 * retries (overriding the init's `idempotent`) and the Response's `url` in
 * the handler's terms.
 */
export interface SendOptions {
  idempotent?: boolean | null;
  showUrl?: (response: FetchResponseMessage) => string;
}

/** One request, from `fetch()` until its response (and a streamed body) is complete. */
interface Running {
  signal: AbortSignal | undefined;
  showUrl: ((response: FetchResponseMessage) => string) | undefined;
  onAbort: () => void;
  /** Until the response head arrives. */
  pending: { resolve(response: Response): void; reject(error: unknown): void } | null;
  body: BodyReceiver | null;
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
  constructor(grant: ChannelGrant<MessagePort, 'fetch'>) {
    this.name = grant.name;
    this.#port = grant.port;
    grant.port.onmessage = (event: MessageEvent) => this.#receive(event.data as FetchDown);
  }

  /** `false` once the session closed the connection or the handler detached. */
  get open(): boolean {
    return this.#closed === null;
  }

  /**
   * Requests `path`, relative to the endpoint's base URL (a leading `/` also
   * means the base; absolute URLs, `//host`, `..` and encoded separators are
   * refused with `E_ACCESSDENIED`). `init` is fetch's: method, headers, body (any fetch
   * body type; it crosses whole), signal; plus `responseBody` and
   * `idempotent` ({@link FetchInit}). What fetch would refuse (a body on GET
   * or HEAD, an invalid or forbidden method, an invalid header, a signal that
   * is not an AbortSignal) rejects with `E_INVALIDARG` before anything is
   * sent. A redirect out of the endpoint's base is refused with
   * `E_ACCESSDENIED`; `redirect: 'manual'` answers a redirect as an opaque
   * redirect (status 0), `'error'` fails it with `E_FAIL`. The Response's
   * `url` is the final URL, `redirected` and `type` as the manager's fetch
   * said. Network failures reject with `E_FAIL`
   * (after the endpoint's retries); HTTP error statuses resolve, as with
   * fetch. Aborting the signal aborts the real request, also while its body
   * streams (the body then errors with the signal's reason).
   */
  fetch(path: string, init: FetchInit = {}): Promise<Response> {
    return this.send(path, init, {});
  }

  /** @internal {@link fetch}, with a facade's {@link SendOptions}. */
  async send(path: string, init: FetchInit, how: SendOptions): Promise<Response> {
    if (this.#closed) throw this.#closed;
    const checked = this.#check(path, init);
    const { signal, request, hasBody, stream, responseBody, bad, redirect } = checked;
    const idempotent = how.idempotent !== undefined ? how.idempotent : checked.idempotent;
    signal?.throwIfAborted();
    // Decided by the init, not by `request.body`: an engine without `Request.prototype.body` (Firefox) would make every GET carry an empty body.
    const body = stream ? await readStream(stream, bad) : hasBody ? await request.arrayBuffer() : null;
    signal?.throwIfAborted();
    if (this.#closed) throw this.#closed;
    const id = this.#nextId++;
    const message: FetchRequestMessage = {
      type: 'request', id, path, method: request.method, headers: [...request.headers], body, responseBody, idempotent: idempotent ?? null, redirect,
    };
    return new Promise<Response>((resolve, reject) => {
      const running: Running = {
        signal,
        showUrl: how.showUrl,
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

  /**
   * Checks `fetch(path, init)` before anything is sent, so that what fetch
   * would refuse (a body on GET, an invalid method or header, a forbidden
   * method, a signal that is not one) is an `E_INVALIDARG` naming it.
   */
  #check(path: unknown, init: FetchInit | null | undefined): Checked {
    const bad = (why: string) => new SyncError('E_INVALIDARG', `fetch on endpoint '${this.name}': ${why}.`);
    if (typeof path !== 'string') throw bad(`the path must be a string relative to the endpoint, not ${path === null ? 'null' : typeof path}`);
    if (init === null || init === undefined) init = {};
    if (typeof init !== 'object') throw bad(`init must be an object like fetch's RequestInit, not ${typeof init}`);
    const { responseBody = 'auto', idempotent, duplex, redirect = 'follow', ...rest } = init;
    if (!isOneOf(RESPONSE_BODY_MODES, responseBody)) throw bad(`responseBody must be 'auto', 'whole' or 'stream', not ${show(responseBody)}`);
    if (!isOneOf(REQUEST_REDIRECT_MODES, redirect)) throw bad(`redirect must be 'follow', 'manual' or 'error', not ${show(redirect)}`);
    if (idempotent !== undefined && typeof idempotent !== 'boolean') throw bad(`idempotent must be a boolean, not ${show(idempotent)}`);
    const signal = rest.signal ?? undefined;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw bad(`signal must be an AbortSignal (e.g. ctx.signal or AbortSignal.timeout(ms)), not ${show(signal)}`);
    if (rest.method !== undefined && typeof rest.method !== 'string') throw bad(`method must be a string, not ${typeof rest.method}`);
    let headers: [string, string][];
    try {
      headers = headerPairs(rest.headers);
    } catch (cause) {
      throw bad(`headers must be a Headers, an array of [name, value] pairs or an object of name → value (${(cause as Error)?.message ?? cause})`);
    }
    const hasBody = rest.body !== undefined && rest.body !== null;
    const problem = requestProblem(rest.method ?? 'GET', headers, hasBody);
    if (problem) throw bad(problem);
    // A stream body is read here, never handed to Request: an engine that cannot upload streams
    // may take it for an object to stringify and send "[object ReadableStream]" without an error.
    const stream = typeof ReadableStream === 'function' && rest.body instanceof ReadableStream ? rest.body : null;
    if (stream) {
      if (duplex !== 'half') throw bad(`fetch refuses this init: a ReadableStream body needs duplex: 'half', not ${show(duplex)}`);
      if (stream.locked) throw bad('fetch refuses this init: the ReadableStream body is locked (already being read)');
    }
    let request: Request;
    try {
      request = new Request(NORMALISE, { ...rest, body: stream ? null : rest.body, headers, signal: null });
    } catch (cause) {
      throw bad(`fetch refuses this init: ${(cause as Error)?.message ?? cause}`);
    }
    return { signal, request, hasBody, stream, responseBody, idempotent, redirect, bad };
  }

  /** Detaches this handler; requests still running reject (and are aborted). The endpoint stays up for the others. Idempotent. */
  close(): void {
    this.detach(new SyncError('E_UNEXPECTED', `The channel to endpoint '${this.name}' was closed by the handler.`));
  }

  /** @internal {@link close}, with the reason its running requests reject with. */
  detach(reason: Error): void {
    if (this.#closed) return;
    this.#port.postMessage({ type: 'detach' } satisfies FetchUp);
    this.#end(reason, false);
  }

  #post(message: FetchUp): void {
    if (!this.#closed) this.#port.postMessage(message);
  }

  #receive(message: FetchDown): void {
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
        const wire = NULL_BODY_STATUSES.has(message.status) ? null : message.body;
        if (wire instanceof ArrayBuffer) body = wholeBody(wire);
        else if (wire === 'streamed') {
          const id = message.id;
          running.body = new BodyReceiver(id, (up) => this.#post(up), () => this.#settle(id));
          body = running.body.stream;
        }
        if (!running.body) this.#settle(message.id);
        const init = { status: message.status, statusText: message.statusText, headers: message.headers };
        const facts = { url: running.showUrl ? running.showUrl(message) : message.url, redirected: message.redirected, type: message.responseType };
        pending.resolve(new ChannelResponse(body, init, wire instanceof ArrayBuffer ? wire : null, facts));
        return;
      }
      case 'chunk':
        running.body?.chunk(message.data);
        return;
      case 'end':
        running.body?.end();
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

  /** `closePort`: false right after `detach` was posted, which Firefox would drop from a port closed at once (the manager closes its end on arrival). */
  #end(reason: Error, closePort = true): void {
    this.#closed = reason;
    for (const [id, running] of [...this.#running]) {
      this.#settle(id);
      running.pending?.reject(reason);
      running.body?.fail(reason);
    }
    this.#running.clear();
    this.#port.onmessage = null;
    if (closePort) this.#port.close();
  }
}

/** What `#check` found in `fetch(path, init)`. */
interface Checked {
  signal: AbortSignal | undefined;
  /** The init normalised by `Request` (method, headers, and any body but a stream). */
  request: Request;
  hasBody: boolean;
  /** A `ReadableStream` body, read by {@link readStream}. */
  stream: ReadableStream | null;
  responseBody: ResponseBodyMode;
  idempotent: boolean | undefined;
  redirect: RequestRedirectMode;
  /** Makes the E_INVALIDARG of this channel. */
  bad: (why: string) => SyncError;
}

/** A stream body, read to its end; a chunk that is not bytes is refused as fetch would refuse it. */
async function readStream(stream: ReadableStream, bad: (why: string) => SyncError): Promise<ArrayBuffer> {
  try {
    return await new Response(stream).arrayBuffer();
  } catch (cause) {
    throw bad(`the ReadableStream body could not be read: ${(cause as Error)?.message ?? cause}`);
  }
}

/** fetch's headers init as [name, value] pairs, converted to strings as fetch would; throws for a shape fetch refuses. */
function headerPairs(init: HeadersInit | undefined): [string, string][] {
  if (init === undefined || init === null) return [];
  if (init instanceof Headers) return [...init];
  if (typeof init !== 'object') throw new TypeError(`not ${typeof init}`);
  if (Symbol.iterator in init) {
    return [...(init as Iterable<unknown>)].map((pair) => {
      const entry = typeof pair === 'object' && pair !== null && Symbol.iterator in pair ? [...(pair as Iterable<unknown>)] : null;
      if (!entry || entry.length !== 2) throw new TypeError('each pair must have exactly a name and a value');
      return [String(entry[0]), String(entry[1])];
    });
  }
  return Object.entries(init).map(([name, value]) => [name, String(value)]);
}

/** A value of any type for a message. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  return String(value);
}
