/**
 * A fetch endpoint owned by the manager. Handlers send requests over their
 * channel; the manager resolves the path inside the endpoint, adds the
 * endpoint's headers (evaluated per attempt; they never enter the worker),
 * makes the request, retries it by the endpoint's policy (retry-policy.ts),
 * re-authorises once on 401 (`onUnauthorized`), and sends the response back.
 *
 * Response bodies (whole or streamed: see fetch-options.ts): whole, as one
 * transferred ArrayBuffer; or streamed, as ArrayBuffer chunks posted on the
 * channel's port, each transferred (never copied), at most
 * {@link STREAM_WINDOW_BYTES} ahead of what the handler has read. The main
 * thread reads the next chunk only when that credit allows, so a slow handler
 * slows the network instead of filling the main thread's memory, and
 * `arrayBuffer()` is never called on a streamed response.
 *
 * Why not transfer the ReadableStream itself, where the engine can (Chromium,
 * Firefox; WebKit cannot)? It works, and is kept (`setStreamTransport
 * ('transfer')`, guarded by the feature test), but measured in Chromium it is
 * the worse transport: a transferred stream structured-clones every chunk
 * (the streams spec transfers the stream, not its chunks), so the main thread
 * copies the whole body and keeps the originals as garbage until a GC (+20 MiB
 * of ArrayBuffer memory in the main isolate for a 20 MiB download, +0 with the
 * pump), and it was slower (20 MiB: ~65 ms against ~51 ms to the last byte).
 * See test/browser/fetch-stream.test.ts and the README.
 *
 * Every request still running when the connection closes, body included, is
 * aborted; so are the requests of a handler that detaches.
 */
import { SyncError, toWire } from '../protocol/errors.ts';
import type { FetchDown, FetchRequestMessage, FetchUp, ResponseBodyMode } from '../protocol/api.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import { DEFAULT_CONNECT_TIMEOUT, checkHeaders, evaluate, type FetchEndpoint } from './endpoint-config.ts';
import { RESPONSE_BODY_MODES, STREAM_WINDOW_BYTES, resolveFetchOptions, type ResolvedFetchOptions } from './fetch-options.ts';
import { asBaseUrl, resolveInside } from './path.ts';
import { checkOnline, describeUrl, linkSignals } from './connect-helpers.ts';
import { nextRetry, type AttemptOutcome } from './retry-policy.ts';

// Statuses whose Response must have a null body.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type Down = FetchDown<ReadableStream<Uint8Array>>;
type Head = Omit<Extract<Down, { type: 'response' }>, 'body'>;
type Reply = (down: Down, transfer?: Transferable[]) => void;

/** How streamed bodies cross: transferred chunks on the port, or a transferred ReadableStream. */
export type StreamTransport = 'pump' | 'transfer';
let preferred: StreamTransport = 'pump';
let streamsTransfer: boolean | undefined;

/**
 * Whether this engine can post a ReadableStream through a MessagePort
 * (Chromium, Firefox: yes; WebKit throws DataCloneError synchronously). A
 * feature test, run once; never browser sniffing.
 */
export function canTransferStreams(): boolean {
  if (streamsTransfer === undefined) {
    const { port1, port2 } = new MessageChannel();
    try {
      const probe = new ReadableStream();
      port1.postMessage(probe, [probe as unknown as Transferable]);
      streamsTransfer = true;
    } catch {
      streamsTransfer = false;
    } finally {
      port1.close();
      port2.close();
    }
  }
  return streamsTransfer;
}

/** The transport streamed bodies use now: the preferred one, if this engine has it. */
export function streamTransport(): StreamTransport {
  return preferred === 'transfer' && canTransferStreams() ? 'transfer' : 'pump';
}

/** @internal For tests and benchmarks: prefer a transport (default `pump`; `transfer` only where the feature test allows). */
export function setStreamTransport(transport: StreamTransport): void {
  preferred = transport;
}

/** @internal For tests: how response bodies left the main thread since the page loaded. */
export const fetchBodyStats = {
  /** Bodies read whole on the main thread (`arrayBuffer()`, or an unknown-length body that ended within the limit). */
  whole: 0,
  /** Bodies streamed (never read whole on the main thread). */
  streamed: 0,
  /** Bytes of streamed bodies that passed through the main thread. */
  streamedBytes: 0,
  /** Largest single chunk the main thread held while streaming. */
  largestChunk: 0,
  /** Chunks that had to be copied to be transferred (a view on part of a buffer). */
  copiedChunks: 0,
};

interface Running {
  controller: AbortController;
  /** Pumped bodies: the worker read this many more bytes. */
  credit?: (bytes: number) => void;
}

export class FetchConnection implements Connection {
  readonly name: string;
  readonly kind = 'fetch';
  readonly protocol = '';
  readonly #base: URL;
  readonly #config: FetchEndpoint;
  readonly #options: ResolvedFetchOptions;
  readonly #ports = new Set<MessagePort>();
  readonly #inFlight = new Set<AbortController>();
  readonly #byRequest = new WeakMap<MessagePort, Map<number, Running>>();
  /** The `onUnauthorized` call in progress, shared by every request answered 401 meanwhile. */
  #reauthorizing: Promise<void> | null = null;
  #closed: ConnectionCloseInfo | null = null;

  private constructor(name: string, base: URL, config: FetchEndpoint) {
    this.name = name;
    this.#base = base;
    this.#config = config;
    this.#options = resolveFetchOptions(`endpoint '${name}'`, config as unknown as Record<string, unknown>);
  }

  /**
   * Establishes the endpoint: with a `probe`, a GET of it must answer 2xx;
   * without one, the browser must be online. Offline rejects at once with `E_OFFLINE`.
   */
  static async open(name: string, config: FetchEndpoint, signal: AbortSignal): Promise<FetchConnection> {
    checkOnline(name);
    let base: URL;
    try {
      base = asBaseUrl(await evaluate(config.url), globalThis.location?.href);
    } catch (cause) {
      throw new SyncError('E_FAIL', `Endpoint '${name}': computing its url failed: ${(cause as Error)?.message ?? cause}.`, { cause });
    }
    const connection = new FetchConnection(name, base, config);
    if (config.probe !== undefined) await connection.#probe(config.probe, signal);
    return connection;
  }

  get alive(): boolean {
    return this.#closed === null;
  }

  attach(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event: MessageEvent) => this.#fromWorker(port1, event.data as FetchUp);
    this.#ports.add(port1);
    return port2;
  }

  async close(): Promise<ConnectionCloseInfo> {
    if (this.#closed) return this.#closed;
    const abortedRequests = this.#inFlight.size;
    this.#closed = { closeCode: null, abortedRequests };
    const reason = new SyncError('E_ABORT', `Endpoint '${this.name}': the sync session ended, so the request was aborted.`);
    for (const controller of this.#inFlight) controller.abort(reason);
    this.#inFlight.clear();
    for (const port of this.#ports) {
      port.postMessage({ type: 'closed', reason: toWire(reason) } satisfies Down);
      port.close();
    }
    this.#ports.clear();
    return this.#closed;
  }

  async #probe(probe: string, signal: AbortSignal): Promise<void> {
    const url = resolveInside(this.#base, probe, this.name);
    const { signal: limit, dispose } = linkSignals(signal, this.#config.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, `Endpoint '${this.name}': the probe ${describeUrl(url)}`);
    try {
      const response = await fetch(url, { headers: await this.#headers([]), signal: limit, cache: 'no-store' });
      await response.body?.cancel();
      if (!response.ok) {
        throw new SyncError('E_FAIL', `Endpoint '${this.name}': the probe ${describeUrl(url)} answered ${response.status} ${response.statusText}; the endpoint is not available.`);
      }
    } catch (cause) {
      if (SyncError.is(cause)) throw cause;
      if (limit.aborted) throw SyncError.is(limit.reason) ? limit.reason : new SyncError('E_ABORT', `Endpoint '${this.name}': connecting was aborted.`, { cause });
      throw new SyncError('E_FAIL', `Endpoint '${this.name}': the probe ${describeUrl(url)} failed: ${(cause as Error)?.message ?? cause}.`, { cause });
    } finally {
      dispose();
    }
  }

  /** The worker's headers plus the endpoint's, evaluated now (so every attempt carries fresh credentials). */
  async #headers(fromWorker: [string, string][]): Promise<Headers> {
    const headers = new Headers(fromWorker);
    if (this.#config.headers !== undefined) {
      const extra = await evaluate(this.#config.headers);
      checkHeaders(`endpoint '${this.name}'`, extra);
      for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    }
    return headers;
  }

  #fromWorker(port: MessagePort, message: FetchUp): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'request') void this.#request(port, message);
    else if (message.type === 'abort') this.#abortRequest(port, message.id, 'the handler aborted the request');
    else if (message.type === 'credit') {
      if (typeof message.bytes === 'number' && message.bytes > 0) this.#byRequest.get(port)?.get(message.id)?.credit?.(message.bytes);
    } else if (message.type === 'detach') {
      this.#ports.delete(port);
      port.close();
      for (const id of [...(this.#byRequest.get(port)?.keys() ?? [])]) this.#abortRequest(port, id, 'the handler closed its channel');
    }
  }

  #abortRequest(port: MessagePort, id: number, why: string): void {
    this.#byRequest.get(port)?.get(id)?.controller.abort(new SyncError('E_ABORT', `Endpoint '${this.name}': ${why}.`));
  }

  async #request(port: MessagePort, message: FetchRequestMessage): Promise<void> {
    const { id } = message;
    const reply = (down: Down, transfer: Transferable[] = []) => {
      if (this.#ports.has(port)) port.postMessage(down, transfer);
    };
    const controller = new AbortController();
    const running: Running = { controller };
    let requests = this.#byRequest.get(port);
    if (!requests) this.#byRequest.set(port, (requests = new Map()));
    requests.set(id, running);
    this.#inFlight.add(controller);
    const finish = () => {
      requests.delete(id);
      this.#inFlight.delete(controller);
    };
    let streaming = false;
    let what = `request ${JSON.stringify(message.path)}`;
    try {
      if (this.#closed) throw new SyncError('E_ABORT', `Endpoint '${this.name}': the sync session ended, so the request was not sent.`);
      checkRequest(message, this.name);
      const url = resolveInside(this.#base, message.path, this.name);
      what = `${message.method} ${describeUrl(url)}`;
      const response = await this.#attempts(url, message, controller.signal, what);
      const head: Head = { type: 'response', id, status: response.status, statusText: response.statusText, headers: [...response.headers] };
      if (NULL_BODY.has(response.status) || message.method === 'HEAD' || response.body === null) {
        await response.body?.cancel().catch(() => {});
        reply({ ...head, body: null });
        return;
      }
      const plan = await this.#planBody(response, message.responseBody);
      if (plan.whole) {
        fetchBodyStats.whole += 1;
        reply({ ...head, body: plan.whole }, [plan.whole]);
        return;
      }
      streaming = true;
      fetchBodyStats.streamed += 1;
      if (streamTransport() === 'transfer') this.#transferBody(reply, head, plan.reader, plan.prefix, running, finish);
      else void this.#pumpBody(reply, head, plan.reader, plan.prefix, running, finish);
    } catch (cause) {
      let error: unknown = cause;
      if (controller.signal.aborted) error = controller.signal.reason;
      else if (!SyncError.is(cause)) error = new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed: ${(cause as Error)?.message ?? cause}.`, { cause });
      reply({ type: 'error', id, error: toWire(error) });
    } finally {
      if (!streaming) finish();
    }
  }

  /**
   * Sends the request until an attempt is final: retried by the endpoint's
   * policy (network errors, 429, 5xx; only repeatable requests), and once more
   * after `onUnauthorized` for a 401. Headers are evaluated at every attempt.
   * Resolves with the last attempt's response; rejects with the signal's
   * reason when it aborts (also during a wait), `E_OFFLINE` for a network
   * error while the browser is offline, `E_FAIL` for the last network error.
   */
  async #attempts(url: URL, message: FetchRequestMessage, signal: AbortSignal, what: string): Promise<Response> {
    let attempt = 0;
    let reauthorized = false;
    for (;;) {
      attempt += 1;
      const headers = await this.#headers(message.headers);
      signal.throwIfAborted();
      const init: RequestInit = { method: message.method, headers, signal };
      // fetch copies an ArrayBuffer body, so the same buffer serves every attempt.
      if (message.body !== null) init.body = message.body;
      const idempotent = message.idempotent ?? (headers.has('idempotency-key') ? true : null);
      const context = { method: message.method, idempotent, attempt, now: Date.now() };
      let response: Response;
      try {
        response = await fetch(url, init);
      } catch (cause) {
        if (signal.aborted) throw signal.reason;
        if (globalThis.navigator?.onLine === false) {
          throw new SyncError('E_OFFLINE', `Endpoint '${this.name}': ${what} failed: the browser is offline; try again when the network is back.`, { cause });
        }
        const decision = nextRetry({ kind: 'network-error' }, context, this.#options.retry);
        if (!decision.retry) {
          const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
          throw new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed${tries}: ${(cause as Error)?.message ?? cause}.`, { cause });
        }
        await pause(decision.delay, signal);
        continue;
      }
      if (response.status === 401 && this.#options.onUnauthorized && !reauthorized) {
        reauthorized = true;
        await discard(response);
        await this.#reauthorize(signal);
        attempt -= 1; // the re-authorised attempt does not count against `retries`
        continue;
      }
      const outcome: AttemptOutcome = { kind: 'response', status: response.status, retryAfter: response.headers.get('retry-after') };
      const decision = nextRetry(outcome, context, this.#options.retry);
      if (!decision.retry) return response;
      await discard(response);
      await pause(decision.delay, signal);
    }
  }

  /** Runs `onUnauthorized` once for every request answered 401 while it runs. */
  async #reauthorize(signal: AbortSignal): Promise<void> {
    let run = this.#reauthorizing;
    if (!run) {
      const hook = this.#options.onUnauthorized!;
      run = Promise.resolve()
        .then(() => hook())
        .then(() => {}, (cause: unknown) => {
          throw new SyncError('E_FAIL', `Endpoint '${this.name}': the request was answered 401 and onUnauthorized() failed: ${(cause as Error)?.message ?? cause}.`, { cause });
        });
      this.#reauthorizing = run;
      const clear = () => {
        if (this.#reauthorizing === run) this.#reauthorizing = null;
      };
      run.then(clear, clear);
    }
    await untilAborted(run, signal);
  }

  /**
   * Whole or streamed (see fetch-options.ts): `whole` reads the body on the
   * main thread; otherwise the reader, after any prefix read while finding
   * out that a body of unknown length is larger than the limit.
   */
  async #planBody(response: Response, mode: ResponseBodyMode): Promise<{ whole: ArrayBuffer; reader?: never; prefix?: never } | { whole: null; reader: ReadableStreamDefaultReader<Uint8Array>; prefix: Uint8Array[] }> {
    const limit = this.#options.wholeBodyLimit;
    const length = knownLength(response);
    if (mode === 'whole' || (mode === 'auto' && length !== null && length <= limit)) return { whole: await response.arrayBuffer() };
    const reader = response.body!.getReader();
    const prefix: Uint8Array[] = [];
    if (mode === 'auto' && length === null) {
      let size = 0;
      while (size <= limit) {
        const { done, value } = await reader.read();
        if (done) return { whole: concat(prefix, size) };
        prefix.push(value);
        size += value.byteLength;
      }
    }
    return { whole: null, reader, prefix };
  }

  /**
   * Streams the body as a transferred ReadableStream. The stream posted is
   * the manager's own (a pull source over the response's reader), so it can
   * put a prefix first, error with a {@link WireError} the worker turns back
   * into a SyncError, and know when the body is done. `highWaterMark: 0`: a
   * chunk is read from the network only when the worker's side pulls.
   */
  #transferBody(reply: Reply, head: Head, reader: ReadableStreamDefaultReader<Uint8Array>, prefix: Uint8Array[], running: Running, finish: () => void): void {
    const { signal } = running.controller;
    const name = this.name;
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      finish();
    };
    let sink: ReadableStreamDefaultController<Uint8Array>;
    const onAbort = () => {
      end();
      try {
        sink.error(toWire(signal.reason));
      } catch { /* already closed */ }
      reader.cancel(signal.reason).catch(() => {});
    };
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        sink = controller;
        for (const chunk of prefix) {
          count(chunk);
          controller.enqueue(chunk);
        }
      },
      async pull(controller) {
        if (done) return;
        try {
          const { done: last, value } = await reader.read();
          if (done) return;
          if (last) {
            end();
            controller.close();
            return;
          }
          count(value);
          controller.enqueue(value);
        } catch (cause) {
          if (done) return;
          end();
          controller.error(toWire(signal.aborted ? signal.reason : new SyncError('E_FAIL', `Endpoint '${name}': the response body failed: ${(cause as Error)?.message ?? cause}.`, { cause })));
        }
      },
      cancel: (reason) => {
        // The handler cancelled its body: end the request, so the server sees it go.
        if (!done) running.controller.abort(new SyncError('E_ABORT', `Endpoint '${name}': the handler cancelled the response body.`, { cause: reason }));
        end();
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
    signal.addEventListener('abort', onAbort, { once: true });
    reply({ ...head, body: { kind: 'stream', stream } }, [stream as unknown as Transferable]);
  }

  /**
   * Streams the body as transferred ArrayBuffer chunks on the port, posting
   * at most {@link STREAM_WINDOW_BYTES} ahead of what the worker has read.
   */
  async #pumpBody(reply: Reply, head: Head, reader: ReadableStreamDefaultReader<Uint8Array>, prefix: Uint8Array[], running: Running, finish: () => void): Promise<void> {
    const { id } = head;
    const { signal } = running.controller;
    let credit = STREAM_WINDOW_BYTES;
    let wake: (() => void) | null = null;
    running.credit = (bytes) => {
      credit += bytes;
      wake?.();
    };
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    const send = (chunk: Uint8Array) => {
      count(chunk);
      const data = transferable(chunk);
      credit -= data.byteLength;
      reply({ type: 'chunk', id, data }, [data]);
    };
    reply({ ...head, body: { kind: 'pumped' } });
    try {
      for (const chunk of prefix) send(chunk);
      prefix.length = 0;
      for (;;) {
        while (credit <= 0) {
          signal.throwIfAborted();
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
        signal.throwIfAborted();
        const { done, value } = await reader.read();
        if (done) break;
        send(value);
      }
      reply({ type: 'end', id });
    } catch (cause) {
      const error = signal.aborted ? signal.reason : new SyncError('E_FAIL', `Endpoint '${this.name}': the response body failed: ${(cause as Error)?.message ?? cause}.`, { cause });
      reader.cancel(error).catch(() => {});
      reply({ type: 'body-error', id, error: toWire(error) });
    } finally {
      signal.removeEventListener('abort', onAbort);
      running.credit = undefined;
      finish();
    }
  }
}

function checkRequest(m: FetchRequestMessage, name: string): void {
  const bad = (why: string) => new SyncError('E_INVALIDARG', `Endpoint '${name}': malformed request from the handler: ${why}.`);
  if (typeof m.id !== 'number') throw bad('no id');
  if (typeof m.method !== 'string' || !TOKEN.test(m.method)) throw bad(`method ${JSON.stringify(m.method)}`);
  if (!Array.isArray(m.headers) || !m.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) throw bad('headers must be [name, value] pairs');
  if (m.body !== null && !(m.body instanceof ArrayBuffer)) throw bad('body must be an ArrayBuffer or null');
  if (!RESPONSE_BODY_MODES.includes(m.responseBody)) throw bad(`responseBody ${JSON.stringify(m.responseBody)}`);
  if (m.idempotent !== null && typeof m.idempotent !== 'boolean') throw bad('idempotent must be a boolean or null');
}

/** The decoded body's length when the response says it: a Content-Length and no content coding. */
function knownLength(response: Response): number | null {
  const coding = response.headers.get('content-encoding');
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
  const value = response.headers.get('content-length');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

function concat(chunks: Uint8Array[], size: number): ArrayBuffer {
  if (chunks.length === 1) return transferable(chunks[0]!);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

/** The chunk's own buffer when the chunk covers all of it (so it can be transferred), else a copy. */
function transferable(chunk: Uint8Array): ArrayBuffer {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) return chunk.buffer;
  fetchBodyStats.copiedChunks += 1;
  return chunk.slice().buffer;
}

function count(chunk: Uint8Array): void {
  fetchBodyStats.streamedBytes += chunk.byteLength;
  if (chunk.byteLength > fetchBodyStats.largestChunk) fetchBodyStats.largestChunk = chunk.byteLength;
}

/** Frees the connection of a response that will not be used. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts; the timer never outlives it. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
