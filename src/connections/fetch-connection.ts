/**
 * A fetch endpoint owned by the manager. Handlers send requests over their
 * channel; the manager resolves the path inside the endpoint, adds the
 * endpoint's headers (evaluated per attempt; they never enter the worker),
 * makes the request, retries it by the endpoint's policy (retry-policy.ts),
 * re-authorises once on 401 (`onUnauthorized`), and sends the response back,
 * its body whole or streamed (response-body.ts).
 *
 * What leaves the endpoint never reaches the handler: a response whose final
 * URL lies outside the base (a followed redirect) is refused, and with
 * `redirect: 'error'` no redirect is followed at all; response headers that
 * quote one of the endpoint's secret headers are withheld (a server that
 * reflects request headers); no message quotes the URL's credentials or query.
 *
 * Every request still running when the connection closes, body included, is
 * aborted; so are the requests of a handler that detaches.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { toWire } from '../protocol/wire.ts';
import type { ChannelGrant } from '../protocol/worker-api.ts';
import { NULL_BODY_STATUSES, REQUEST_REDIRECT_MODES, RESPONSE_BODY_MODES, requestProblem, type RequestRedirectMode, type FetchDown, type FetchRequestMessage, type FetchResponseMessage, type FetchUp } from '../protocol/fetch-messages.ts';
import { isOneOf } from '../protocol/types.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import { checkHeaders } from './endpoint-common.ts';
import type { ResolvedFetchEndpoint } from './fetch-options.ts';
import { asBaseUrl, isInside, resolveInside } from '../protocol/path.ts';
import { causeMessage, checkOnline, describeUrl, evaluateWithin, linkSignals } from './connect-helpers.ts';
import { BodySender, planBody, type Reply } from './response-body.ts';
import { pause, untilAborted } from '../internal/abortable.ts';
import { nextRetry, type AttemptOutcome } from './retry-policy.ts';
import { SecretHeaders } from './secret-headers.ts';

/** The statuses a fetch follows as redirects. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One request of a handler, from its message until its response (and a streamed body) has ended. */
interface Running {
  readonly controller: AbortController;
  /** A streamed body being sent; it takes the handler's credit. */
  body: BodySender | null;
  /**
   * The Request of the attempt on the network, held until the request is
   * over: a Request's signal follows the controller's only while the Request
   * lives, and WebKit lets a collected Request's fetch run on unaborted.
   */
  request: Request | null;
}

export class FetchConnection implements Connection {
  readonly name: string;
  readonly kind = 'fetch';
  readonly #base: URL;
  readonly #endpoint: ResolvedFetchEndpoint;
  readonly #ports = new Set<MessagePort>();
  readonly #inFlight = new Set<AbortController>();
  readonly #byRequest = new WeakMap<MessagePort, Map<number, Running>>();
  /** The `onUnauthorized` call in progress, shared by every request answered 401 meanwhile. */
  #reauthorizing: Promise<void> | null = null;
  #closed: ConnectionCloseInfo | null = null;

  private constructor(endpoint: ResolvedFetchEndpoint, base: URL) {
    this.name = endpoint.name;
    this.#base = base;
    this.#endpoint = endpoint;
  }

  /**
   * Establishes the endpoint: with a `probe`, a GET of it must answer 2xx;
   * without one, the browser must be online. Offline rejects at once with `E_OFFLINE`.
   */
  static async open(endpoint: ResolvedFetchEndpoint, signal: AbortSignal): Promise<FetchConnection> {
    const { name } = endpoint;
    checkOnline(name);
    const url = await evaluateWithin(endpoint.url, signal, endpoint.connectTimeout, `Endpoint '${name}': its url function`);
    let base: URL;
    try {
      base = asBaseUrl(url, globalThis.location?.href);
    } catch (cause) {
      throw new SyncError('E_FAIL', `Endpoint '${name}': computing its url failed: ${causeMessage(cause)}.`, { cause });
    }
    const connection = new FetchConnection(endpoint, base);
    if (endpoint.probe !== null) await connection.#probe(endpoint.probe, signal);
    return connection;
  }

  get alive(): boolean {
    return this.#closed === null;
  }

  attach(): ChannelGrant<MessagePort, 'fetch'> {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event: MessageEvent) => this.#fromWorker(port1, event.data as FetchUp);
    this.#ports.add(port1);
    return { kind: 'fetch', name: this.name, port: port2 };
  }

  async close(): Promise<ConnectionCloseInfo> {
    if (this.#closed) return this.#closed;
    const abortedRequests = this.#inFlight.size;
    this.#closed = { closeCode: null, abortedRequests };
    const reason = new SyncError('E_ABORT', `Endpoint '${this.name}': the sync session ended, so the request was aborted.`);
    for (const controller of this.#inFlight) controller.abort(reason);
    this.#inFlight.clear();
    for (const port of this.#ports) {
      port.postMessage({ type: 'closed', reason: toWire(reason) } satisfies FetchDown);
      port.close();
    }
    this.#ports.clear();
    return this.#closed;
  }

  async #probe(probe: string, signal: AbortSignal): Promise<void> {
    const url = resolveInside(this.#base, probe, this.name);
    const what = `the probe ${JSON.stringify(probe)} (at ${describeUrl(url)})`;
    const { headers } = await this.#headers([], signal);
    const { signal: limit, dispose } = linkSignals(signal, this.#endpoint.connectTimeout, `Endpoint '${this.name}': ${what}`);
    try {
      const response = await fetch(url, { headers, signal: limit, cache: 'no-store', redirect: this.#redirectFor('follow') });
      await discard(response);
      this.#checkArrival(response, what, 'follow');
      if (!response.ok) {
        throw new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} answered ${response.status} ${response.statusText}; the endpoint is not available.`);
      }
    } catch (cause) {
      if (SyncError.is(cause)) throw cause;
      if (limit.aborted) throw SyncError.is(limit.reason) ? limit.reason : new SyncError('E_ABORT', `Endpoint '${this.name}': connecting was aborted.`, { cause });
      throw new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed: ${causeMessage(cause)}.`, { cause });
    } finally {
      dispose();
    }
  }

  /**
   * fetch's `redirect` for a request whose own mode is `mode`: followed only
   * when both the endpoint and the request follow; otherwise a redirect is
   * answered as it came (an opaque redirect) and never followed.
   */
  #redirectFor(mode: RequestRedirectMode): RequestRedirect {
    return this.#endpoint.redirect === 'follow' && mode === 'follow' ? 'follow' : 'manual';
  }

  /**
   * Refuses a response that came from outside the endpoint: a redirect answer
   * the request may not have (the endpoint's `redirect: 'error'`, or the
   * request's own `'error'`), or a response whose final URL lies outside the
   * base. Answers `'opaque'` for a redirect answer that a request with
   * `redirect: 'manual'` receives as an opaque redirect. The caller frees the
   * body of a refused or opaque response; it is never read.
   */
  #checkArrival(response: Response, what: string, mode: RequestRedirectMode): 'opaque' | 'inside' {
    // Browsers answer an unfollowed redirect as an opaque one; other engines (Deno) as the 3xx itself.
    const unfollowed = response.type === 'opaqueredirect' || (this.#redirectFor(mode) === 'manual' && REDIRECT_STATUSES.has(response.status));
    if (unfollowed) {
      if (mode === 'manual') return 'opaque';
      if (mode === 'error') {
        throw new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} was answered with a redirect, and the request's redirect is 'error', so it failed (as fetch fails it).`);
      }
      throw new SyncError('E_ACCESSDENIED', `Endpoint '${this.name}': ${what} was answered with a redirect, and the endpoint refuses redirects (redirect: 'error'), so it was not followed. Request the final path itself, or configure the endpoint with redirect: 'follow'.`);
    }
    // The engine reports only the final URL of the redirects it followed (not the hops between).
    if (response.redirected && !isInside(this.#base, response.url)) {
      throw new SyncError('E_ACCESSDENIED', `Endpoint '${this.name}': ${what} was redirected outside the endpoint's base URL, so the response was refused and not read. A handler only reaches paths under the endpoint's base.`);
    }
    return 'inside';
  }

  /**
   * The worker's headers plus the endpoint's, evaluated now (so every attempt
   * carries fresh credentials), within `connectTimeout` and until `signal`
   * aborts; and the endpoint's secret values among them.
   */
  async #headers(fromWorker: [string, string][], signal: AbortSignal, secrets = new SecretHeaders()): Promise<{ headers: Headers; secrets: SecretHeaders }> {
    const headers = new Headers(fromWorker);
    if (this.#endpoint.headers !== null) {
      const extra = await evaluateWithin(this.#endpoint.headers, signal, this.#endpoint.connectTimeout, `Endpoint '${this.name}': its headers function`);
      checkHeaders(`endpoint '${this.name}'`, extra);
      for (const [k, v] of Object.entries(extra)) {
        try {
          headers.set(k, v);
        } catch (cause) {
          // The value may be a token: name the header, never quote it.
          throw new SyncError('E_INVALIDARG', `Endpoint '${this.name}': its headers function gave header ${JSON.stringify(k)} a name or value that is not a valid HTTP header (no line breaks, no control characters, a name of token characters).`, { cause: new TypeError('invalid header') });
        }
        secrets.add(k, v);
      }
    }
    return { headers, secrets };
  }

  #fromWorker(port: MessagePort, message: FetchUp): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'request') void this.#request(port, message);
    else if (message.type === 'abort') this.#abortRequest(port, message.id, 'the handler aborted the request');
    else if (message.type === 'credit') {
      if (typeof message.bytes === 'number' && message.bytes > 0) this.#byRequest.get(port)?.get(message.id)?.body?.credit(message.bytes);
    } else if (message.type === 'detach') {
      this.#ports.delete(port);
      port.close();
      for (const id of [...(this.#byRequest.get(port)?.keys() ?? [])]) this.#abortRequest(port, id, 'the handler closed its channel');
    }
  }

  #abortRequest(port: MessagePort, id: number, why: string): void {
    this.#byRequest.get(port)?.get(id)?.controller.abort(new SyncError('E_ABORT', `Endpoint '${this.name}': ${why}.`));
  }

  /** One request, from its message until its response (and a streamed body) has ended. Never rejects. */
  async #request(port: MessagePort, message: FetchRequestMessage): Promise<void> {
    const { id } = message;
    const reply: Reply = (down, transfer = []) => {
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
    const running: Running = { controller, body: null, request: null };
    requests.set(id, running);
    this.#inFlight.add(controller);
    let what = `request ${JSON.stringify(message.path)}`;
    try {
      let body: { sender: BodySender; reader: ReadableStreamDefaultReader<Uint8Array>; prefix: Uint8Array[] } | null = null;
      try {
        if (this.#closed) throw new SyncError('E_ABORT', `Endpoint '${this.name}': the sync session ended, so the request was not sent.`);
        const url = resolveInside(this.#base, message.path, this.name);
        // Named by the handler's own path: the endpoint's URL may hold a token in its path.
        what = `${message.method} ${JSON.stringify(this.#relative(url))} (at ${describeUrl(url)})`;
        const { response, secrets } = await this.#attempts(url, message, running, what);
        if (response === null) {
          // As a browser's: status 0, no headers, no body, the request's URL.
          reply({ type: 'response', id, status: 0, statusText: '', headers: [], body: null, url: shownUrl(url), path: this.#relative(url), redirected: false, responseType: 'opaqueredirect' });
          return;
        }
        const final = response.url ? new URL(response.url) : url;
        // A server that reflects request headers must not hand the endpoint's secrets to the handler.
        const head: Omit<FetchResponseMessage, 'body'> = {
          type: 'response', id, status: response.status, statusText: secrets.quotedIn(response.statusText) ? '' : response.statusText, headers: secrets.withheldFrom(response.headers),
          url: shownUrl(final), path: this.#relative(final), redirected: response.redirected, responseType: response.type,
        };
        if (NULL_BODY_STATUSES.has(response.status) || message.method === 'HEAD' || response.body === null) {
          await response.body?.cancel().catch(() => {});
          reply({ ...head, body: null });
          return;
        }
        const plan = await planBody(response, message.responseBody, this.#endpoint.wholeBodyLimit);
        if (plan.whole) {
          reply({ ...head, body: plan.whole }, [plan.whole]);
          return;
        }
        body = { sender: new BodySender(this.name, id, reply, controller.signal), reader: plan.reader, prefix: plan.prefix };
        running.body = body.sender;
        reply({ ...head, body: 'streamed' });
      } catch (cause) {
        let error: unknown = cause;
        if (controller.signal.aborted) error = controller.signal.reason;
        else if (!SyncError.is(cause)) error = new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed: ${causeMessage(cause)}.`, { cause });
        reply({ type: 'error', id, error: toWire(error) });
        return;
      }
      await body.sender.send(body.reader, body.prefix);
    } finally {
      requests.delete(id);
      this.#inFlight.delete(controller);
    }
  }

  /**
   * Sends the request until an attempt is final: retried by the endpoint's
   * policy (network errors, 429, 5xx; only repeatable requests), and once more
   * after `onUnauthorized` for a 401. Headers are evaluated at every attempt.
   * Resolves with the last attempt's response and the secret header values
   * of every attempt; rejects with the signal's reason when it aborts (also
   * during a wait), `E_OFFLINE` for a network error while the browser is
   * offline, `E_FAIL` for the last network error, `E_ACCESSDENIED` for a
   * response from outside the endpoint (its body is freed, never read).
   * `response` is `null` for a redirect answer the request takes as an
   * opaque redirect (`redirect: 'manual'`).
   */
  async #attempts(url: URL, message: FetchRequestMessage, running: Running, what: string): Promise<{ response: Response | null; secrets: SecretHeaders }> {
    const { signal } = running.controller;
    let attempt = 0;
    let reauthorized = false;
    const secrets = new SecretHeaders();
    for (;;) {
      attempt += 1;
      const { headers } = await this.#headers(message.headers, signal, secrets);
      signal.throwIfAborted();
      const init: RequestInit = { method: message.method, headers, signal, redirect: this.#redirectFor(message.redirect) };
      // fetch copies an ArrayBuffer body, so the same buffer serves every attempt.
      if (message.body !== null) init.body = message.body;
      const idempotent = message.idempotent ?? (headers.has('idempotency-key') ? true : null);
      const context = { method: message.method, idempotent, attempt, now: Date.now() };
      // What the engine refuses to send (a URL with credentials, a header it forbids, a body on GET in an
      // engine that reports one) throws here, before any network activity: final, never retried.
      let request: Request;
      try {
        request = new Request(url, init);
      } catch (cause) {
        throw new SyncError('E_INVALIDARG', `Endpoint '${this.name}': ${what} cannot be sent, the browser refuses it: ${causeMessage(cause)}. Check the endpoint's url and headers.`, { cause });
      }
      running.request = request;
      let response: Response;
      try {
        response = await fetch(request);
      } catch (cause) {
        if (signal.aborted) throw signal.reason;
        if (globalThis.navigator?.onLine === false) {
          throw new SyncError('E_OFFLINE', `Endpoint '${this.name}': ${what} failed: the browser is offline; try again when the network is back.`, { cause });
        }
        const decision = nextRetry({ kind: 'network-error' }, context, this.#endpoint.retry);
        if (!decision.retry) {
          const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
          throw new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed${tries}: ${causeMessage(cause)}.`, { cause });
        }
        await pause(decision.delay, signal);
        continue;
      }
      try {
        if (this.#checkArrival(response, what, message.redirect) === 'opaque') {
          await discard(response);
          return { response: null, secrets };
        }
      } catch (refused) {
        await discard(response);
        throw refused;
      }
      if (response.status === 401 && this.#endpoint.onUnauthorized && !reauthorized) {
        reauthorized = true;
        await discard(response);
        await this.#reauthorize(signal);
        attempt -= 1; // the re-authorised attempt does not count against `retries`
        continue;
      }
      const outcome: AttemptOutcome = { kind: 'response', status: response.status, retryAfter: response.headers.get('retry-after') };
      const decision = nextRetry(outcome, context, this.#endpoint.retry);
      if (!decision.retry) return { response, secrets };
      await discard(response);
      await pause(decision.delay, signal);
    }
  }

  /** `url` (inside the base) relative to it: path and query, no leading `/`. */
  #relative(url: URL): string {
    return url.pathname.slice(this.#base.pathname.length) + url.search;
  }

  /** Runs `onUnauthorized` once for every request answered 401 while it runs. */
  async #reauthorize(signal: AbortSignal): Promise<void> {
    let run = this.#reauthorizing;
    if (!run) {
      const hook = this.#endpoint.onUnauthorized!;
      run = Promise.resolve()
        .then(() => hook())
        .then(() => {}, (cause: unknown) => {
          throw new SyncError('E_FAIL', `Endpoint '${this.name}': the request was answered 401 and onUnauthorized() failed: ${causeMessage(cause)}.`, { cause });
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
  if (typeof m.method !== 'string') throw bad('method must be a string');
  if (!Array.isArray(m.headers) || !m.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) throw bad('headers must be [name, value] pairs');
  if (m.body !== null && !(m.body instanceof ArrayBuffer)) throw bad('body must be an ArrayBuffer or null');
  // Checked again here, cheaply: a worker can post on its port without going through FetchChannel.
  const problem = requestProblem(m.method, m.headers, m.body !== null);
  if (problem) throw bad(problem);
  if (!isOneOf(RESPONSE_BODY_MODES, m.responseBody)) throw bad(`responseBody ${JSON.stringify(m.responseBody)}`);
  if (m.idempotent !== null && typeof m.idempotent !== 'boolean') throw bad('idempotent must be a boolean or null');
  if (!isOneOf(REQUEST_REDIRECT_MODES, m.redirect)) throw bad(`redirect ${JSON.stringify(m.redirect)}`);
}

/** A response's URL as the handler may see it: no credentials, no fragment. */
function shownUrl(url: URL): string {
  const shown = new URL(url);
  shown.username = '';
  shown.password = '';
  shown.hash = '';
  return shown.href;
}

/** Frees the connection of a response that will not be used. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
