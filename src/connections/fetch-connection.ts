/**
 * A fetch endpoint owned by the manager. Handlers send requests over their
 * channel; the manager resolves the path inside the endpoint, adds the
 * endpoint's headers (which never enter the worker), makes the request, and
 * sends the response back with its body as one transferred ArrayBuffer. Every
 * request still running when the connection closes is aborted.
 */
import { SyncError, toWire } from '../protocol/errors.ts';
import type { FetchDown, FetchRequestMessage, FetchUp } from '../protocol/api.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import { DEFAULT_CONNECT_TIMEOUT, checkHeaders, evaluate, type FetchEndpoint } from './endpoint-config.ts';
import { asBaseUrl, resolveInside } from './path.ts';
import { checkOnline, describeUrl, linkSignals } from './connect-helpers.ts';

// Statuses whose Response must have a null body.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export class FetchConnection implements Connection {
  readonly name: string;
  readonly kind = 'fetch';
  readonly protocol = '';
  readonly #base: URL;
  readonly #config: FetchEndpoint;
  readonly #ports = new Set<MessagePort>();
  readonly #inFlight = new Set<AbortController>();
  #closed: ConnectionCloseInfo | null = null;

  private constructor(name: string, base: URL, config: FetchEndpoint) {
    this.name = name;
    this.#base = base;
    this.#config = config;
  }

  /**
   * Establishes the endpoint: with a `probe`, a GET of it must answer 2xx;
   * without one, the browser must be online.
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
      port.postMessage({ type: 'closed', reason: toWire(reason) } satisfies FetchDown);
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
    else if (message.type === 'abort') this.#abortRequest(port, message.id);
    else if (message.type === 'detach') {
      this.#ports.delete(port);
      port.close();
    }
  }

  readonly #byRequest = new WeakMap<MessagePort, Map<number, AbortController>>();

  #abortRequest(port: MessagePort, id: number): void {
    this.#byRequest.get(port)?.get(id)?.abort(new SyncError('E_ABORT', `Endpoint '${this.name}': the handler aborted the request.`));
  }

  async #request(port: MessagePort, message: FetchRequestMessage): Promise<void> {
    const { id } = message;
    const reply = (down: FetchDown, transfer: Transferable[] = []) => {
      if (this.#ports.has(port)) port.postMessage(down, transfer);
    };
    const controller = new AbortController();
    let requests = this.#byRequest.get(port);
    if (!requests) this.#byRequest.set(port, (requests = new Map()));
    requests.set(id, controller);
    this.#inFlight.add(controller);
    let what = `request ${JSON.stringify(message.path)}`;
    try {
      checkRequest(message, this.name);
      const url = resolveInside(this.#base, message.path, this.name);
      what = `${message.method} ${describeUrl(url)}`;
      const init: RequestInit = { method: message.method, headers: await this.#headers(message.headers), signal: controller.signal };
      if (message.body !== null) init.body = message.body;
      const response = await fetch(url, init);
      const body = NULL_BODY.has(response.status) || message.method === 'HEAD' ? null : await response.arrayBuffer();
      reply({ type: 'response', id, status: response.status, statusText: response.statusText, headers: [...response.headers], body }, body ? [body] : []);
    } catch (cause) {
      let error: unknown = cause;
      if (controller.signal.aborted) error = controller.signal.reason;
      else if (!SyncError.is(cause)) error = new SyncError('E_FAIL', `Endpoint '${this.name}': ${what} failed: ${(cause as Error)?.message ?? cause}.`, { cause });
      reply({ type: 'error', id, error: toWire(error) });
    } finally {
      requests.delete(id);
      this.#inFlight.delete(controller);
    }
  }
}

function checkRequest(m: FetchRequestMessage, name: string): void {
  const bad = (why: string) => new SyncError('E_INVALIDARG', `Endpoint '${name}': malformed request from the handler: ${why}.`);
  if (typeof m.id !== 'number') throw bad('no id');
  if (typeof m.method !== 'string' || !TOKEN.test(m.method)) throw bad(`method ${JSON.stringify(m.method)}`);
  if (!Array.isArray(m.headers) || !m.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) throw bad('headers must be [name, value] pairs');
  if (m.body !== null && !(m.body instanceof ArrayBuffer)) throw bad('body must be an ArrayBuffer or null');
}
