/**
 * The socket of one `endpointWebSocket` instance: opened by the manager (so
 * the endpoint's url and protocols functions, and the tokens they put in the
 * URL, stay on this thread) for that instance alone, and relayed to its port
 * as it is. Sync libraries keep per-connection protocol state (a greeting, an
 * init handshake), so this socket is never shared and never reconnected: a
 * drop reaches the library as the socket's own `close`, and the library
 * reconnects by constructing a new instance. It closes (code 1000) when its
 * handler finishes, if it is still open then.
 *
 * What is posted to the worker never holds the endpoint's URL (path or
 * query) nor the endpoint's own protocols: messages name the socket by the
 * path the library gave, and `protocol` is shown only when the server chose
 * one the library offered.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { toWire } from '../protocol/wire.ts';
import { parseEndpointSocketUp, type EndpointSocketClose, type EndpointSocketDown, type UpFrame } from '../protocol/endpoint-socket-messages.ts';
import { resolveInside } from '../protocol/path.ts';
import { causeMessage, checkOnline, evaluateWithin, linkSignals } from './connect-helpers.ts';
import type { ResolvedWebSocketEndpoint } from './websocket-options.ts';

/** The standard's code for a connection that ended without a close frame. */
const ABNORMAL_CLOSE_CODE = 1006;
/** How often `bufferedAmount` is read while it is above zero, to tell the worker what has gone. */
const DRAIN_POLL_MS = 4;
/** The reason of the close frame the manager sends when the socket's handler finishes (or the session ends) with the socket open. */
export const SESSION_END_REASON = 'sync session ended';
/**
 * The close frame sent when the library called `close()` while CONNECTING but
 * the socket here had already opened: a browser fails such a connection
 * (Chromium and Firefox drop the TCP connection, which the server sees as
 * 1006; WebKit sends 1001 with this reason). A page can send neither code, so
 * the server gets 1000 with WebKit's reason: a failure it can tell apart from
 * the library's own close.
 */
export const CLOSED_WHILE_CONNECTING_REASON = 'WebSocket is closed before the connection is established.';

/** What an endpoint socket tells its pool. */
export interface EndpointSocketObserver {
  /** The socket opened. */
  opened(): void;
  /** It closed (or never opened: 1006); `invalid` counts what its worker posted that is not of the protocol. */
  ended(code: number, invalid: number): void;
  /**
   * It could not connect, for a reason other than a close asked before it
   * opened (by its library, its handler's end or the session's): offline, the
   * url or protocols function, the connect timeout, the server refused it.
   */
  error(error: Error): void;
}

export class EndpointSocket {
  /** The worker's end, to transfer. */
  readonly port: MessagePort;
  readonly #port: MessagePort;
  readonly #endpoint: ResolvedWebSocketEndpoint;
  readonly #observer: EndpointSocketObserver;
  #ws: WebSocket | null = null;
  /** The path and query below the endpoint that the library gave: how messages name this socket. */
  readonly #target: string;
  /** A close was asked (by the worker, its handler's end or the session's) before the socket opened or closed: not a failure to report. */
  #closeAsked = false;
  #opened = false;
  #ended = false;
  #closing: Promise<void> | null = null;
  #done: Promise<void>;
  #resolveDone!: () => void;
  /** The worker said its handler's work ended (EndpointSocketHandlerEnded), after all it posted. */
  #handlerEnded: Promise<void>;
  #resolveHandlerEnded!: () => void;
  /** The worker acknowledged `closed` (its close event ran). */
  #seen: Promise<void>;
  #resolveSeen!: () => void;
  /** Frames and close requests waiting, in the order the worker posted them, behind a Blob being read. */
  #queue: Promise<void> | null = null;
  /** Bytes handed to the socket, and those reported gone to the worker. */
  #sent = 0;
  #reported = 0;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #invalid = 0;

  private constructor(endpoint: ResolvedWebSocketEndpoint, target: string, observer: EndpointSocketObserver) {
    this.#endpoint = endpoint;
    this.#target = target;
    this.#observer = observer;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.port = port2;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#seen = new Promise((resolve) => (this.#resolveSeen = resolve));
    this.#handlerEnded = new Promise((resolve) => (this.#resolveHandlerEnded = resolve));
    port1.onmessage = (event: MessageEvent) => this.#fromWorker(event.data);
  }

  /** Makes the socket for `target` (a path and query below the endpoint) and starts connecting; what follows goes to the port. */
  static open(endpoint: ResolvedWebSocketEndpoint, target: unknown, protocols: unknown, signal: AbortSignal, observer: EndpointSocketObserver): EndpointSocket {
    const url = targetUrlCheck(target, endpoint.name);
    const offered = checkProtocols(protocols, endpoint.name);
    const socket = new EndpointSocket(endpoint, url, observer);
    void socket.#connect(url, offered, signal);
    return socket;
  }

  /**
   * Closes the socket with 1000 if it is open, and waits for its close (at
   * most `timeout` ms) and for the worker to have seen it (within the same
   * `timeout`: a worker that crashed never answers); idempotent (a second
   * call waits for the first).
   */
  close(timeout: number, answered = false): Promise<void> {
    this.#closing ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
      // The handler answered: what its worker posted on this port before its end (frames, its own
      // close) goes first; it travels on this port, the answer on the worker's, which are not ordered.
      if (answered && !this.#ended) {
        await Promise.race([this.#handlerEnded, this.#done, limit]);
        await Promise.race([this.#queue, limit]);
      }
      if (!this.#ended) {
        const ws = this.#ws;
        // Before the socket exists (its url function still runs), it is never made.
        this.#closeAsked = true;
        if (ws && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) ws.close(1000, SESSION_END_REASON);
        await Promise.race([this.#done, limit]);
        this.#finish(ABNORMAL_CLOSE_CODE, '', false);
      }
      await Promise.race([this.#seen, limit]);
      clearTimeout(timer);
    })();
    return this.#closing;
  }

  /** How messages to the worker name this socket: by the path the library gave, never by the endpoint's URL. */
  #describe(): string {
    const path = this.#target.split('?', 1)[0]!;
    return `its socket for '/${path}'`;
  }

  async #connect(target: string, offered: string[], signal: AbortSignal): Promise<void> {
    const { name, connectTimeout } = this.#endpoint;
    let url: URL;
    let protocols: string[];
    try {
      checkOnline(name);
      const raw = await evaluateWithin(this.#endpoint.url, signal, connectTimeout, `Endpoint '${name}': its url function`);
      const fixed = this.#endpoint.protocols === null ? null : await evaluateWithin(this.#endpoint.protocols, signal, connectTimeout, `Endpoint '${name}': its protocols function`);
      url = composeUrl(raw, target, name);
      // The endpoint's own protocols, when it fixes them, win over the library's. Checked here, as
      // the engine would check them, because the engine's error quotes them and would reach the worker.
      protocols = fixed === null ? offered : endpointProtocols(fixed, name);
    } catch (error) {
      return this.#fail(SyncError.is(error) ? error : new SyncError('E_FAIL', `Endpoint '${name}': computing its url or protocols failed: ${causeMessage(error)}.`, { cause: error }));
    }
    if (this.#closeAsked || signal.aborted) return this.#fail(null);
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols);
    } catch (cause) {
      // The engine's message may quote the URL (path included) or the protocols: the worker gets
      // only its name, the manager's event the cause as well.
      const message = `Endpoint '${name}': the browser refused to open ${this.#describe()} (${(cause as Error)?.name ?? 'Error'}); check the endpoint's url (a port the browser blocks, ws: from an https: page, say).`;
      return this.#fail(new SyncError('E_FAIL', message, { cause }), new SyncError('E_FAIL', message));
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    const limit = linkSignals(signal, connectTimeout, `Endpoint '${name}': connecting ${this.#describe()}`);
    // Past connectTimeout (or at the session's end) the connection fails at once: an engine may hold
    // the close of a socket whose handshake got no answer (Firefox does) until the handshake ends.
    const onLimit = () => {
      const reason = limit.signal.reason;
      settle();
      ws.close();
      this.#fail(SyncError.is(reason) && reason.code === 'E_TIMEOUT' ? reason : null);
    };
    limit.signal.addEventListener('abort', onLimit, { once: true });
    const settle = () => {
      limit.dispose();
      limit.signal.removeEventListener('abort', onLimit);
    };
    ws.onopen = () => {
      settle();
      this.#opened = true;
      this.#observer.opened();
      // The worker sees a subprotocol only if its library offered it: one the endpoint fixed may be a token.
      this.#post({ type: 'open', protocol: offered.includes(ws.protocol) ? ws.protocol : '', extensions: ws.extensions });
    };
    ws.onmessage = (event: MessageEvent) => {
      const data = event.data as string | ArrayBuffer;
      this.#port.postMessage(data, typeof data === 'string' ? [] : [data]);
    };
    ws.onerror = () => this.#post({ type: 'error', error: null });
    ws.onclose = (event: CloseEvent) => {
      settle();
      // Deno reports a connection that ended without a close frame with code 0.
      const code = event.code >= 1000 && event.code <= 4999 ? event.code : ABNORMAL_CLOSE_CODE;
      if (!this.#opened && !this.#closeAsked) {
        // Only the engine knows why; the worker's error event has no reason, as a browser's has none, but the manager's event says it.
        this.#observer.error(new SyncError('E_FAIL', `Endpoint '${name}': ${this.#describe()} could not connect (close code ${code}); check that the server is up and accepts this path.`));
      }
      this.#finish(code, event.reason, event.wasClean);
    };
    if (this.#closeAsked) ws.close();
  }

  /**
   * The connection failed: `error`, then `closed` with 1006, as a browser's
   * socket that cannot connect. `why` goes to the manager's event, `shown`
   * (by default the same) to the worker.
   */
  #fail(why: SyncError | null, shown: SyncError | null = why): void {
    if (why) this.#observer.error(why);
    this.#post({ type: 'error', error: shown && toWire(shown) });
    this.#finish(ABNORMAL_CLOSE_CODE, '', false);
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#ended) return;
    // What left the buffer before the close, so the worker's bufferedAmount ends where the engine's does.
    this.#reportDrained();
    this.#post({ type: 'closed', code, reason, wasClean });
    this.#ended = true;
    // This end of the port is never closed: Firefox drops what was posted on a port closed
    // before the other side got it (this `closed`, or everything when the socket failed before
    // its port reached the worker). It listens on for the worker's `closedSeen`.
    clearTimeout(this.#drainTimer);
    const ws = this.#ws;
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.#observer.ended(code, this.#invalid);
    this.#resolveDone();
  }

  #post(message: EndpointSocketDown): void {
    if (!this.#ended) this.#port.postMessage(message);
  }

  #fromWorker(data: unknown): void {
    const message = parseEndpointSocketUp(data);
    if (message === null) {
      if (!this.#ended) this.#invalid += 1;
      return;
    }
    if (typeof message === 'object' && !(message instanceof ArrayBuffer) && !(message instanceof Blob) && message.type === 'handlerEnded') {
      this.#resolveHandlerEnded();
      return;
    }
    if (typeof message === 'object' && !(message instanceof ArrayBuffer) && !(message instanceof Blob) && message.type === 'closedSeen') {
      if (!this.#ended) return;
      this.#port.onmessage = null;
      this.#resolveSeen();
      return;
    }
    if (this.#ended) return;
    // An engine reads a Blob before it sends it, and WebKit sends a close() made meanwhile first,
    // dropping the frames queued behind the Blob: Blobs are read here, and what follows one waits.
    if (message instanceof Blob || this.#queue) {
      const next = (this.#queue ?? Promise.resolve())
        .then(async () => this.#toSocket(message instanceof Blob ? await message.arrayBuffer() : message))
        .catch(() => {});
      this.#queue = next;
      void next.then(() => {
        if (this.#queue === next) this.#queue = null;
      });
      return;
    }
    this.#toSocket(message);
  }

  /** A frame or close request of the worker, in its turn. */
  #toSocket(message: UpFrame | EndpointSocketClose): void {
    const ws = this.#ws;
    if (typeof message !== 'string' && !(message instanceof ArrayBuffer) && !(message instanceof Blob)) {
      if (!ws) this.#closeAsked = true;
      else if (message.connecting) {
        // Closed while connecting, as the worker saw it: the connection fails, as a browser's does,
        // even if the socket opened here meanwhile (its open never reached the worker).
        this.#closeAsked = true;
        if (ws.readyState === WebSocket.OPEN) {
          ws.close(1000, CLOSED_WHILE_CONNECTING_REASON);
          this.#fail(null);
        } else ws.close();
      } else if (message.code === null) ws.close();
      else ws.close(message.code, message.reason);
      return;
    }
    // The runtime sends only while the socket is open; a frame racing the server's close is dropped, as a browser's socket drops it.
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(message);
    this.#sent += byteSize(message);
    this.#reportDrained();
  }

  /** Tells the worker how much of what it sent has left the socket's buffer, and looks again while some is left. */
  readonly #reportDrained = (): void => {
    const ws = this.#ws;
    if (!ws || this.#ended) return;
    const gone = this.#sent - ws.bufferedAmount;
    if (gone > this.#reported) {
      this.#post({ type: 'drained', bytes: gone - this.#reported });
      this.#reported = gone;
    }
    clearTimeout(this.#drainTimer);
    const open = ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CLOSING;
    this.#drainTimer = open && ws.bufferedAmount > 0 ? setTimeout(this.#reportDrained, DRAIN_POLL_MS) : undefined;
  };
}

/** What `send()` counts in `bufferedAmount`: UTF-8 bytes of a string, bytes of binary data. */
function byteSize(frame: UpFrame): number {
  if (typeof frame === 'string') return new TextEncoder().encode(frame).byteLength;
  return frame instanceof ArrayBuffer ? frame.byteLength : frame.size;
}

/** The worker's target, checked as a string (its path rules are checked against the endpoint's URL once known). */
function targetUrlCheck(target: unknown, name: string): string {
  if (typeof target !== 'string') throw new SyncError('E_INVALIDARG', `endpointWebSocket('${name}'): the socket's path must be a string, not ${typeof target}.`);
  // The path rules, checked now against a stand-in base, so a bad path is refused before anything opens.
  resolveInside(new URL('ws://endpoint/'), target.split('?', 1)[0]!, name, `endpointWebSocket('${name}')`);
  return target;
}

/**
 * The endpoint's own protocols as a list, checked as the engine checks them;
 * the message never quotes them (they may hold a token).
 */
function endpointProtocols(fixed: unknown, name: string): string[] {
  const list = typeof fixed === 'string' ? [fixed] : fixed;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || !TOKEN.test(p)) || new Set(list).size !== list.length) {
    throw new SyncError('E_FAIL', `Endpoint '${name}': its protocols are not valid WebSocket subprotocols (a string or a list of distinct tokens of letters, digits and !#$%&'*+-.^_\`|~); fix the endpoint's protocols.`);
  }
  return list as string[];
}

/** The instance's protocols as a list, checked as a browser checks them. */
function checkProtocols(protocols: unknown, name: string): string[] {
  const list = protocols === undefined || protocols === null ? [] : typeof protocols === 'string' ? [protocols] : protocols;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || !TOKEN.test(p)) || new Set(list).size !== list.length) {
    throw new SyncError('E_INVALIDARG', `endpointWebSocket('${name}'): protocols must be distinct subprotocol tokens (letters, digits and !#$%&'*+-.^_\`|~).`);
  }
  return list as string[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The endpoint's URL with `target` below it: the path under the endpoint's
 * path (the endpoint's URL itself when the path is empty), the target's query
 * after the endpoint's own, both as written (joined, not re-encoded, so the
 * endpoint's query reaches the server byte for byte). A target query that sets
 * a parameter the endpoint's query sets is refused with `E_ACCESSDENIED`: a
 * server may read the last of repeated parameters. Messages never quote the
 * endpoint's URL (they reach the worker).
 */
export function composeUrl(endpointUrl: string, target: string, name: string): URL {
  const call = `endpointWebSocket('${name}')`;
  let configured: URL;
  try {
    configured = new URL(endpointUrl, globalThis.location?.href);
  } catch {
    throw new SyncError('E_FAIL', `Endpoint '${name}': its url is not a valid URL; fix the endpoint's url (or what its url function returns).`);
  }
  if (configured.protocol === 'http:') configured.protocol = 'ws:';
  else if (configured.protocol === 'https:') configured.protocol = 'wss:';
  if (configured.protocol !== 'ws:' && configured.protocol !== 'wss:') {
    throw new SyncError('E_FAIL', `Endpoint '${name}': its url must be a ws:, wss:, http: or https: URL; fix the endpoint's url.`);
  }
  configured.hash = '';
  const at = target.indexOf('?');
  const path = at < 0 ? target : target.slice(0, at);
  const extra = at < 0 ? '' : target.slice(at + 1);
  const own = configured.search.slice(1);
  if (extra !== '' && own !== '') {
    const fixed = new Set(new URLSearchParams(own).keys());
    const repeated = [...new Set(new URLSearchParams(extra).keys())].filter((key) => fixed.has(key));
    if (repeated.length > 0) {
      throw new SyncError('E_ACCESSDENIED', `${call}: the URL's query sets ${repeated.map((k) => JSON.stringify(k)).join(', ')}, which the endpoint's own URL sets; a handler cannot change the endpoint's parameters. Use other parameter names.`);
    }
  }
  let url: URL;
  if (path === '' || path === '/') url = new URL(configured);
  else {
    const base = new URL(configured);
    base.search = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    url = resolveInside(base, path, name, call);
  }
  url.search = own === '' ? extra : extra === '' ? own : `${own}&${extra}`;
  return url;
}
