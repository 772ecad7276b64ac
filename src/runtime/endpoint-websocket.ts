/**
 * `endpointWebSocket(name)`: a `WebSocket` class bound to one endpoint, for
 * sync libraries that construct their own socket (y-websocket's
 * `WebSocketPolyfill`, graphql-ws's `webSocketImpl`, a global assigned before
 * a library is imported). Each instance is a socket of its own that the
 * manager opens (so the endpoint's URL, with any token in it, never enters
 * the worker) and relays unchanged; it behaves as the WHATWG `WebSocket`
 * does: an asynchronous `open`, `MessageEvent`s, `error` then a `CloseEvent`
 * with the real code, reason and `wasClean`, `send()` copying what it is
 * given, `close()` checked as a browser checks it and going through CLOSING.
 * It is never reconnected: the library does that by constructing a new one.
 *
 * A URL given to it names a path below the endpoint: its origin is ignored,
 * so `'ws://live/doc-1'`, `'/doc-1'` and `'doc-1'` all reach
 * `<endpoint url>/doc-1`; its query is added to the endpoint's own.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { fromWire, unwrap } from '../protocol/wire.ts';
import { MAX_CLOSE_REASON_BYTES, isCloseCode, type EndpointSocketDown, type EndpointSocketUp } from '../protocol/endpoint-socket-messages.ts';
import { SCHEME, checkWrittenPath } from './library-url.ts';
import { activeSession, resolveEndpoint } from './active-session.ts';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Where a URL without a scheme is read, to take its path and query (never contacted). */
const STAND_IN = 'ws://endpoint.invalid/';
const HANDLER_EVENTS = ['open', 'message', 'error', 'close'] as const;
type HandlerEvent = (typeof HANDLER_EVENTS)[number];
type EventHandler = ((this: WebSocket, event: Event) => unknown) | null;

/** The `error` event of an endpoint socket: a plain `Event` as a browser's, with the manager's reason when it knows one. */
export interface EndpointSocketErrorEvent extends Event {
  /** Why the socket failed, when the manager knows (`E_OFFLINE`, `E_TIMEOUT`, the endpoint's url function); otherwise absent. */
  readonly error?: Error;
}

/** A `WebSocket` class whose instances reach one endpoint. */
export type EndpointWebSocketClass = typeof WebSocket;

/**
 * A `WebSocket` class bound to the endpoint `name` (`null` or nothing: the
 * default endpoint). Construct it only while the handler's `synchronize()`
 * runs; outside it the constructor throws `E_UNEXPECTED`, a name that is not
 * configured `E_INVALIDARG`, one outside the handler's endpoints
 * `E_ACCESSDENIED`, a path that leaves the endpoint `E_ACCESSDENIED`.
 */
export function endpointWebSocket(name: string | null = null): EndpointWebSocketClass {
  if (name !== null && typeof name !== 'string') {
    throw new SyncError('E_INVALIDARG', `endpointWebSocket(name) needs an endpoint name (a string), or null for the default endpoint; got ${typeof name}.`);
  }
  const call = `endpointWebSocket(${name === null ? '' : `'${name}'`})`;

  class EndpointWebSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    declare readonly CONNECTING: 0;
    declare readonly OPEN: 1;
    declare readonly CLOSING: 2;
    declare readonly CLOSED: 3;

    readonly #url: string;
    readonly #origin: string;
    #readyState: ReadyState = CONNECTING;
    #protocol = '';
    #extensions = '';
    #binaryType: BinaryType = 'blob';
    #buffered = 0;
    #port: MessagePort | null = null;
    /** The handler's work ended (the manager is told on the port, after everything else). */
    #handlerEnded = false;
    /** close() was called before the manager answered with the port. */
    #closeAsked: EndpointSocketUp | null = null;
    readonly #handlers = new Map<HandlerEvent, EventHandler>();
    /** The listener behind each `on<event>` attribute that is set (not null). */
    readonly #attributeListeners = new Map<HandlerEvent, (event: Event) => void>();

    constructor(url: string | URL, protocols?: string | string[]) {
      super();
      const session = activeSession(`new (${call})()`);
      const endpoint = resolveEndpoint(session, name, 'websocket', `new (${call})()`);
      if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      const input = String(url);
      const { shown, target } = readUrl(input);
      const offered = readProtocols(protocols);
      // The path as the library wrote it (before the URL parser resolves dots and turns backslashes
      // into slashes) is held to the fetch channel's rules, so the constructor throws at once; the
      // manager checks the parsed path again against the endpoint's URL.
      checkWrittenPath(input, STAND_IN, endpoint, `new (${call})()`);
      this.#url = shown.href;
      this.#origin = shown.origin;
      // Posted after every frame and close of this socket, so the manager's close for the handler's end overtakes none.
      session.whenEnded(() => {
        this.#handlerEnded = true;
        this.#port?.postMessage({ type: 'handlerEnded' } satisfies EndpointSocketUp);
      });
      session.coordinator.openSocket(endpoint, target, offered).then((outcome) => {
        const grant = unwrap(outcome);
        this.#adopt(grant.port);
      }).catch((error: unknown) => {
        // Refused by the manager (the session is ending, a path it would not open): as a socket that cannot connect.
        this.#readyState = CLOSED;
        this.#fire(errorEvent(error as Error));
        this.#fire(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
      });
    }

    get url(): string {
      return this.#url;
    }
    get readyState(): number {
      return this.#readyState;
    }
    get protocol(): string {
      return this.#protocol;
    }
    get extensions(): string {
      return this.#extensions;
    }
    /** What `send()` was given and has not yet left the socket's buffer on the manager's side, as a browser counts it. */
    get bufferedAmount(): number {
      return this.#buffered;
    }
    get binaryType(): BinaryType {
      return this.#binaryType;
    }
    set binaryType(value: BinaryType) {
      // An enumerated attribute: values outside it are ignored, as a browser ignores them.
      if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (this.#readyState === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
      const [frame, size] = copyOf(data);
      // After close() a browser still counts what send() was given, and sends nothing.
      this.#buffered += size;
      if (this.#readyState !== OPEN) return;
      this.#port!.postMessage(frame, frame instanceof ArrayBuffer ? [frame] : []);
    }

    close(code?: number, reason?: string): void {
      let closeCode: number | null = null;
      if (code !== undefined) {
        closeCode = clampUnsignedShort(code);
        if (!isCloseCode(closeCode)) {
          throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${closeCode} is neither.`, 'InvalidAccessError');
        }
      }
      const text = reason === undefined ? '' : toUSVString(reason);
      if (new TextEncoder().encode(text).byteLength > MAX_CLOSE_REASON_BYTES) {
        throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close reason must not be greater than ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes.`, 'SyntaxError');
      }
      if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
      // A reason without a code is sent with 1000, as a browser sends it.
      const message: EndpointSocketUp = { type: 'close', code: closeCode ?? (reason === undefined ? null : 1000), reason: text, connecting: this.#readyState === CONNECTING };
      this.#readyState = CLOSING;
      if (this.#port) this.#port.postMessage(message);
      else this.#closeAsked = message;
    }

    #adopt(port: MessagePort): void {
      this.#port = port;
      port.onmessage = (event: MessageEvent) => this.#fromManager(event.data as EndpointSocketDown);
      if (this.#closeAsked) port.postMessage(this.#closeAsked);
      if (this.#handlerEnded) port.postMessage({ type: 'handlerEnded' } satisfies EndpointSocketUp);
    }

    #fromManager(message: EndpointSocketDown): void {
      if (typeof message === 'string' || message instanceof ArrayBuffer) {
        if (this.#readyState !== OPEN) return;
        const data = typeof message === 'string' || this.#binaryType === 'arraybuffer' ? message : new Blob([message]);
        this.#fire(new MessageEvent('message', { data, origin: this.#origin }));
        return;
      }
      switch (message.type) {
        case 'open':
          if (this.#readyState !== CONNECTING) return;
          this.#readyState = OPEN;
          this.#protocol = message.protocol;
          this.#extensions = message.extensions;
          this.#fire(new Event('open'));
          return;
        case 'drained':
          this.#buffered = Math.max(0, this.#buffered - message.bytes);
          return;
        case 'error':
          // As a browser's socket: CLOSED before `error` fires (`close` follows).
          this.#readyState = CLOSED;
          this.#fire(errorEvent(message.error && fromWire(message.error)));
          return;
        case 'closed': {
          const port = this.#port!;
          this.#readyState = CLOSED;
          port.onmessage = null;
          this.#fire(new CloseEvent('close', { code: message.code, reason: message.reason, wasClean: message.wasClean }));
          // Told after the close event ran, so what the library did in it (a report, say) happened before
          // the manager may end the session and terminate this worker. Neither end closes the port:
          // Firefox drops what was posted on a port closed right after; unreferenced, it is collected.
          port.postMessage({ type: 'closedSeen' } satisfies EndpointSocketUp);
          return;
        }
      }
    }

    #fire(event: Event): void {
      this.dispatchEvent(event);
    }

    static {
      for (const [key, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]] as const) {
        Object.defineProperty(this.prototype, key, { value, enumerable: true });
      }
      for (const type of HANDLER_EVENTS) {
        Object.defineProperty(this.prototype, `on${type}`, {
          enumerable: true,
          configurable: true,
          get(this: EndpointWebSocket) {
            return this.#handlers.get(type) ?? null;
          },
          set(this: EndpointWebSocket, handler: unknown) {
            const value = typeof handler === 'function' || (typeof handler === 'object' && handler !== null) ? handler as EventHandler : null;
            // An event handler attribute as a browser keeps it: its listener is added where the attribute
            // is first set, stays in place while it is replaced, is removed when it is set to null, and
            // set again is added anew, after the listeners added meanwhile.
            const listener = this.#attributeListeners.get(type);
            if (value === null) {
              if (listener) this.removeEventListener(type, listener);
              this.#attributeListeners.delete(type);
              this.#handlers.delete(type);
              return;
            }
            if (!listener) {
              const added = (event: Event) => {
                const current = this.#handlers.get(type);
                if (typeof current === 'function') current.call(this as unknown as WebSocket, event);
              };
              this.#attributeListeners.set(type, added);
              this.addEventListener(type, added);
            }
            this.#handlers.set(type, value);
          },
        });
      }
    }
  }
  Object.defineProperty(EndpointWebSocket, 'name', { value: 'WebSocket' });
  return EndpointWebSocket as unknown as EndpointWebSocketClass;
}

/** The URL as the socket shows it (a browser's reading of it), and the path and query it names below the endpoint. */
function readUrl(input: string): { shown: URL; target: string } {
  let shown: URL;
  let parsed: URL;
  try {
    parsed = SCHEME.test(input) ? new URL(input) : new URL(input, STAND_IN);
    // Shown as a browser would resolve it against the worker's URL; a worker made from a blob: URL
    // (which cannot be a base) shows it against the stand-in.
    shown = URL.canParse(input, globalThis.location?.href) ? new URL(input, globalThis.location?.href) : new URL(parsed);
  } catch {
    throw new DOMException(`Failed to construct 'WebSocket': The URL '${input}' is invalid.`, 'SyntaxError');
  }
  for (const url of [shown, parsed]) {
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
  }
  if (shown.protocol !== 'ws:' && shown.protocol !== 'wss:') {
    throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${shown.protocol.slice(0, -1)}' is not allowed.`, 'SyntaxError');
  }
  if (shown.hash !== '' || input.includes('#')) {
    throw new DOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${shown.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, 'SyntaxError');
  }
  return { shown, target: parsed.pathname.slice(1) + parsed.search };
}

/** The protocols as a list, refused as a browser refuses them (not tokens, or one given twice). */
function readProtocols(protocols: string | string[] | undefined): string[] {
  const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols].map(String);
  for (const p of list) {
    if (!TOKEN.test(p)) throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${p}' is invalid.`, 'SyntaxError');
  }
  if (new Set(list).size !== list.length) throw new DOMException("Failed to construct 'WebSocket': The subprotocol list contains a duplicate.", 'SyntaxError');
  return list;
}

/** What is posted for `send(data)` (a copy of binary data; the caller's buffer stays intact) and what it adds to `bufferedAmount`. */
function copyOf(data: unknown): [string | ArrayBuffer | Blob, number] {
  if (data instanceof Blob) return [data, data.size];
  if (data instanceof ArrayBuffer) return [data.slice(0), data.byteLength];
  if (ArrayBuffer.isView(data)) {
    const copy = new Uint8Array(data.byteLength);
    copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return [copy.buffer, copy.byteLength];
  }
  if (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer) {
    const copy = new Uint8Array(data.byteLength);
    copy.set(new Uint8Array(data));
    return [copy.buffer, copy.byteLength];
  }
  const text = toUSVString(String(data));
  return [text, new TextEncoder().encode(text).byteLength];
}

/** WebIDL's `[Clamp] unsigned short`. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 0xffff);
  // Clamp rounds half to even.
  const floor = Math.floor(clamped);
  const diff = clamped - floor;
  return diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/** WebIDL's USVString: lone surrogates become U+FFFD. */
function toUSVString(value: string): string {
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function errorEvent(error: Error | null): EndpointSocketErrorEvent {
  const event = new Event('error') as EndpointSocketErrorEvent;
  if (error) Object.defineProperty(event, 'error', { value: error, enumerable: true });
  return event;
}
