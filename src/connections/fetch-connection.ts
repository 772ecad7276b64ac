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
import type { FetchRequestMessage, FetchUp } from '../protocol/api.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import { DEFAULT_CONNECT_TIMEOUT, checkHeaders, evaluate, type FetchEndpoint } from './endpoint-config.ts';
import { RESPONSE_BODY_MODES, STREAM_WINDOW_BYTES, resolveFetchOptions, type ResolvedFetchOptions } from './fetch-options.ts';
import { asBaseUrl, resolveInside } from './path.ts';
import { checkOnline, describeUrl, linkSignals } from './connect-helpers.ts';
import { fetchBodyStats, planBody, pumpBody, streamTransport, transferBody, type Down, type Head, type Running } from './response-body.ts';
import { pause, untilAborted } from '../internal/abortable.ts';
import { nextRetry, type AttemptOutcome } from './retry-policy.ts';

// Statuses whose Response must have a null body.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;



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
    let requests = this.#byRequest.get(port);
    if (!requests) this.#byRequest.set(port, (requests = new Map()));
    try {
      // Checked before it is registered: a malformed or reused id must not displace a running request.
      checkRequest(message, this.name);
      if (requests.has(id)) throw new SyncError('E_INVALIDARG', `Endpoint '${this.name}': malformed request from the handler: id ${id} is already running.`);
    } catch (error) {
      if (typeof id === 'number' && !requests.has(id)) reply({ type: 'error', id, error: toWire(error) });
      return;
    }
    const controller = new AbortController();
    const running: Running = { controller };
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
      const url = resolveInside(this.#base, message.path, this.name);
      what = `${message.method} ${describeUrl(url)}`;
      const response = await this.#attempts(url, message, controller.signal, what);
      const head: Head = { type: 'response', id, status: response.status, statusText: response.statusText, headers: [...response.headers] };
      if (NULL_BODY.has(response.status) || message.method === 'HEAD' || response.body === null) {
        await response.body?.cancel().catch(() => {});
        reply({ ...head, body: null });
        return;
      }
      const plan = await planBody(response, message.responseBody, this.#options.wholeBodyLimit);
      if (plan.whole) {
        fetchBodyStats.whole += 1;
        reply({ ...head, body: plan.whole }, [plan.whole]);
        return;
      }
      streaming = true;
      fetchBodyStats.streamed += 1;
      if (streamTransport() === 'transfer') transferBody(this.name, reply, head, plan.reader, plan.prefix, running, finish);
      else void pumpBody(this.name, reply, head, plan.reader, plan.prefix, running, finish);
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

/** Frees the connection of a response that will not be used. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
