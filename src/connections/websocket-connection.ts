/**
 * A WebSocket owned by the manager and bridged to handlers' workers over
 * MessagePorts. It survives what real networks do: a dropped socket is
 * re-established with backoff while the session needs it (the url and
 * protocols are computed again for each attempt), a silent one is found by
 * the optional heartbeat, and frames handlers send meanwhile wait, in order,
 * in bounded queues. Frames cross without copies when one channel is attached
 * (ArrayBuffers are transferred on both legs); with several channels every
 * channel the route picks gets every frame, copies for all but the last.
 *
 * Delivery is at most once. A frame handed to the socket is known to be
 * delivered by nobody: the connection keeps each one only while its bytes can
 * still be in the socket's `bufferedAmount` (bytes the browser has not yet
 * handed to the operating system), and when the socket drops, those are
 * returned to their channels as possibly lost. Bytes already handed to the
 * operating system can be lost too, and nothing in a browser tells.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { frameSize, parseSocketUp, type Frame, type SocketClosed } from '../protocol/socket-messages.ts';
import type { ChannelGrant } from '../protocol/worker-api.ts';
import type { ConnectionState } from '../protocol/types.ts';
import type { Connection, ConnectionCloseInfo, ConnectionObserver } from './connection.ts';
import type { ResolvedWebSocketEndpoint } from './websocket-options.ts';
import { backoffDelay, nextAttempt } from './backoff.ts';
import { SocketChannel } from './socket-channel.ts';
import { TickScheduler } from '../internal/tick-scheduler.ts';
import { causeMessage, checkOnline, describeUrl, evaluateWithin, linkSignals } from './connect-helpers.ts';

/** Close code the manager uses when the heartbeat finds a socket silent. */
export const HEARTBEAT_CLOSE_CODE = 4000;
/** The standard's code for a connection that ended without a close frame (refused, cut, never opened). */
const ABNORMAL_CLOSE_CODE = 1006;
/** When the socket's buffer holds at most this many bytes, sent frames count as gone. */
export const SEND_LOW_WATER = 64 * 1024;
// How often to look at bufferedAmount while it is above the low-water mark.
const DRAIN_POLL_MS = 4;
// While a channel's unacknowledged bytes stay small (at most SEND_LOW_WATER, and at most half its
// high-water mark, so no send() of its handler can be waiting), the acknowledgement may wait this
// long: a handler that sends now and then costs no extra message, and no extra wake-up of its
// worker, per frame. Bulk sends are acknowledged as soon as the socket drains, as before.
const LAZY_ACK_MS = 50;

/** A frame handed to the current socket whose bytes may still be in its buffer: `end` is the socket's byte count after it. */
interface InBuffer {
  channel: SocketChannel;
  frame: Frame;
  end: number;
}

export class WebSocketConnection implements Connection {
  readonly name: string;
  readonly kind = 'websocket';
  readonly #endpoint: ResolvedWebSocketEndpoint;
  readonly #observer: ConnectionObserver;
  readonly #ticks = new TickScheduler();
  readonly #channels = new Set<SocketChannel>();
  #open: SocketChannel[] | null = null;
  /** Frames handlers sent while the socket was not open, in arrival order. */
  #held: [SocketChannel, Frame][] = [];
  #ws: WebSocket;
  #state: ConnectionState = 'connecting';
  #protocol: string;
  #openedAt = Date.now();
  #attempt = 0;
  #lastCode = ABNORMAL_CLOSE_CODE;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAbort: AbortController | null = null;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** A ping is out and its answer awaited (the timer is the pong timeout). */
  #awaitingPong = false;
  #lastReceived = 0;
  #drainScheduled = false;
  #lazyAck: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<ConnectionCloseInfo> | null = null;
  /** Bytes handed to the current socket (as its bufferedAmount counts them), and the frames that may still be in its buffer, oldest first from `#windowHead`. */
  #sentBytes = 0;
  #window: InBuffer[] = [];
  #windowHead = 0;
  /** Counts for the session result. */
  #unsent = 0;
  #possiblyLost = 0;
  #dropped = 0;
  #invalid = 0;

  private constructor(endpoint: ResolvedWebSocketEndpoint, ws: WebSocket, observer: ConnectionObserver) {
    this.name = endpoint.name;
    this.#endpoint = endpoint;
    this.#observer = observer;
    this.#ws = ws;
    this.#protocol = ws.protocol;
    this.#adopt(ws);
  }

  /**
   * Opens the socket and resolves once `open` arrived. Rejects with `E_OFFLINE`,
   * `E_TIMEOUT`, `E_ABORT` (signal) or `E_FAIL` (refused, closed), naming the
   * endpoint. The first connect is not retried: the handler hears at once.
   */
  static async open(endpoint: ResolvedWebSocketEndpoint, signal: AbortSignal, observer: ConnectionObserver): Promise<WebSocketConnection> {
    const ws = await connect(endpoint, signal);
    return new WebSocketConnection(endpoint, ws, observer);
  }

  get alive(): boolean {
    return this.#state === 'open' || this.#state === 'reconnecting' || this.#state === 'connecting';
  }

  attach(handlerId: string): ChannelGrant<MessagePort, 'websocket'> {
    const { port1, port2 } = new MessageChannel();
    const { sendBuffer, receiveBuffer } = this.#endpoint;
    const channel = new SocketChannel(handlerId, port1, this.#ticks.schedule, { sendBuffer, receiveBuffer });
    port1.onmessage = (event: MessageEvent) => this.#fromWorker(channel, event.data);
    this.#channels.add(channel);
    this.#open = null;
    return { kind: 'websocket', name: this.name, port: port2, protocol: this.#protocol, state: this.#state, sendBuffer: { ...sendBuffer }, receiveBuffer: { ...receiveBuffer } };
  }

  /**
   * A finished handler gets no more frames and `route` no longer sees it;
   * frames it sent that wait for a reconnect still go out, and so do frames
   * it posted before it finished that are still on their way (its runtime
   * detaches the channel once they are all posted).
   */
  detachHandler(handlerId: string, answered = false): void {
    for (const channel of this.#channels) if (channel.handlerId === handlerId) channel.finish(answered);
    this.#open = null;
  }

  /**
   * Closes the connection and every channel with code 1000; idempotent. Stops
   * any reconnecting. The frames a finished handler's channel posted before
   * its last `detach` are taken first (they travel on the channel's port,
   * the handler's answer on the worker's, and the two are not ordered),
   * waiting at most `timeout` for them.
   */
  close(timeout: number): Promise<ConnectionCloseInfo> {
    this.#closing ??= this.#drained(timeout).then(() => this.#closeNow(timeout));
    return this.#closing;
  }

  async #drained(timeout: number): Promise<void> {
    const pending = [...this.#channels].map((channel) => channel.drained());
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
    clearTimeout(timer);
  }

  #closeNow(timeout: number): Promise<ConnectionCloseInfo> {
    return new Promise<ConnectionCloseInfo>((resolve) => {
      const wasOpen = this.#state === 'open';
      this.#stopRetrying();
      this.#stopHeartbeat();
      const ws = this.#ws;
      const finish = (code: number, wasClean: boolean) => {
        clearTimeout(timer);
        ws.removeEventListener('close', onClose);
        // A clean closing handshake means the server read everything sent before it.
        const lost = wasOpen && !wasClean ? this.#takePossiblyLost(ws) : new Map<SocketChannel, Frame[]>();
        this.#end('closed', code, 'sync session ended', wasClean, lost);
        resolve(this.#counts(code));
      };
      const onClose = (event: CloseEvent) => finish(closeCodeOf(event), event.wasClean);
      const timer = setTimeout(() => finish(1000, false), timeout);
      // Reconnecting (or never open): no socket to close; the session's end is code 1000 all the same.
      if (!wasOpen) return finish(1000, false);
      this.#release(ws);
      ws.addEventListener('close', onClose);
      ws.close(1000, 'sync session ended');
    });
  }

  // ---- the current socket ----

  #adopt(ws: WebSocket): void {
    this.#ws = ws;
    this.#sentBytes = 0;
    this.#window = [];
    this.#windowHead = 0;
    this.#protocol = ws.protocol;
    this.#openedAt = Date.now();
    this.#lastReceived = this.#openedAt;
    ws.addEventListener('message', this.#onMessage);
    ws.addEventListener('close', this.#onClose);
    // Frames held during the outage go first, then the workers hear `open` and send what they queued.
    const held = this.#held;
    this.#held = [];
    for (const [channel, frame] of held) {
      channel.heldBytes -= frameSize(frame);
      channel.heldFrames -= 1;
      this.#send(channel, frame);
    }
    // The first open is announced by the pool (`connectionopen`); a reopen is a state change.
    if (this.#state === 'connecting') this.#state = 'open';
    else this.#setState('open');
    this.#armHeartbeat();
  }

  /** Stops listening to a socket that is no longer the connection's. */
  #release(ws: WebSocket): void {
    ws.removeEventListener('message', this.#onMessage);
    ws.removeEventListener('close', this.#onClose);
  }

  readonly #onMessage = (event: MessageEvent): void => {
    const frame = event.data as Frame;
    this.#lastReceived = Date.now();
    // Answered: the next ping goes `interval` after this frame, not when the pong timeout would have run out.
    if (this.#awaitingPong) {
      this.#stopHeartbeat();
      this.#armHeartbeat();
    }
    const heartbeat = this.#endpoint.heartbeat;
    if (heartbeat && (heartbeat.isPong ? heartbeat.isPong(frame) : frame === 'pong' || frame === heartbeat.ping)) return;
    const recipients = this.#recipients(frame);
    let left = recipients.length;
    for (const channel of recipients) {
      left -= 1;
      const dropped = channel.deliver(typeof frame === 'string' || left === 0 ? frame : frame.slice(0));
      if (dropped > 0) this.#overflowed(channel, dropped);
    }
  };

  /** A handler did not take its frames in time: its channel closed itself; the others go on. */
  #overflowed(channel: SocketChannel, dropped: number): void {
    this.#dropped += dropped;
    this.#channels.delete(channel);
    this.#open = null;
    const { maxFrames, maxBytes } = this.#endpoint.receiveBuffer;
    this.#observer.error(new SyncError('E_OUTOFMEMORY', `Endpoint '${this.name}': handler '${channel.handlerId}' did not take its frames in time (receiveBuffer: ${maxFrames} frames, ${maxBytes} bytes, posted and again waiting), so ${dropped} frame(s) were dropped and its channel closed; the other handlers still get every frame.`));
  }

  readonly #onClose = (event: CloseEvent): void => {
    const ws = this.#ws;
    this.#release(ws);
    this.#socketDropped(closeCodeOf(event), this.#takePossiblyLost(ws), event.reason, event.wasClean);
  };

  #recipients(frame: Frame): readonly SocketChannel[] {
    // Rebuilt only when channels come or go: this runs for every frame.
    const open = (this.#open ??= [...this.#channels].filter((c) => c.open));
    const route = this.#endpoint.route;
    if (!route || open.length === 0) return open;
    const handlerIds = [...new Set(open.map((c) => c.handlerId))];
    let picked: unknown;
    try {
      picked = route(frame, handlerIds);
    } catch (cause) {
      // A broken route must not lose the frame: everyone gets it, and the app hears why.
      this.#observer.error(new SyncError('E_FAIL', `Endpoint '${this.name}': its route() threw, so the frame went to every handler: ${(cause as Error)?.message ?? cause}.`, { cause }));
      return open;
    }
    if (picked === null || picked === undefined) return open;
    const ids = typeof picked === 'string' ? [picked] : Array.isArray(picked) ? picked as unknown[] : null;
    const bad = ids === null ? picked : ids.find((id) => typeof id !== 'string' || !handlerIds.includes(id));
    if (ids === null || bad !== undefined) {
      // An id that names no handler of this socket would lose the frame: treated like a route that threw.
      this.#observer.error(new SyncError('E_FAIL', `Endpoint '${this.name}': its route() returned ${describeRouted(bad)}, which is not the id of a handler on this socket (${handlerIds.map((id) => `'${id}'`).join(', ')}), so the frame went to every handler. Return handler ids from the list route() is given, or null for all.`));
      return open;
    }
    return open.filter((c) => ids.includes(c.handlerId));
  }

  // ---- frames from handlers ----

  #fromWorker(channel: SocketChannel, data: unknown): void {
    const message = parseSocketUp(data);
    if (message === null) {
      // Not a message of the socket protocol (the runtime never posts one): dropped, counted, and said once per channel.
      this.#invalid += 1;
      if (!channel.warned) {
        channel.warned = true;
        this.#observer.error(new SyncError('E_INVALIDARG', `Endpoint '${this.name}': handler '${channel.handlerId}' posted a message on its channel that is neither a frame (a string or an ArrayBuffer, at most 64 in an array) nor a control message of the channel; it was dropped. Send with the channel's send().`));
      }
      return;
    }
    if (Array.isArray(message)) {
      for (const frame of message) this.#accept(channel, frame);
    } else if (message.type === 'received') {
      channel.received(message.frames, message.bytes);
    } else if (message.type === 'queued') {
      channel.queuedInWorker = message.frames;
    } else {
      this.#channels.delete(channel);
      this.#open = null;
      channel.detach();
    }
  }

  #accept(channel: SocketChannel, frame: Frame): void {
    const size = frameSize(frame);
    // A socket that is already closing (its close event not yet dispatched) would discard the frame: hold it.
    const sendable = this.#state === 'open' && this.#ws.readyState === WebSocket.OPEN;
    if (!channel.admit(size, !sendable)) {
      this.#unsent += 1;
      return;
    }
    if (sendable) this.#send(channel, frame);
    else if (this.#state === 'open' || this.#state === 'reconnecting') {
      channel.heldBytes += size;
      channel.heldFrames += 1;
      this.#held.push([channel, frame]);
    }
  }

  #send(channel: SocketChannel, frame: Frame): void {
    const ws = this.#ws;
    ws.send(frame);
    this.#sentBytes += typeof frame === 'string' ? utf8Length(frame) : frame.byteLength;
    this.#window.push({ channel, frame, end: this.#sentBytes });
    this.#prune(ws);
    channel.unacked += frameSize(frame);
    if (channel.unacked > Math.min(SEND_LOW_WATER, this.#endpoint.sendBuffer.highWaterMark / 2)) this.#scheduleDrainCheck();
    else this.#lazyAck ??= setTimeout(this.#scheduleDrainCheck, LAZY_ACK_MS);
  }

  readonly #scheduleDrainCheck = (): void => {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    this.#ticks.schedule(this.#checkDrain);
  };

  /** Acknowledges sent bytes once the socket's buffer is nearly empty (backpressure for `await send()`). */
  readonly #checkDrain = (): void => {
    if (this.#state === 'open') this.#prune(this.#ws);
    if (this.#state === 'open' && this.#ws.bufferedAmount > SEND_LOW_WATER) {
      setTimeout(this.#checkDrain, DRAIN_POLL_MS);
      return;
    }
    this.#drainScheduled = false;
    clearTimeout(this.#lazyAck);
    this.#lazyAck = undefined;
    for (const channel of this.#channels) channel.acknowledge();
  };

  // ---- what may still be in the socket's buffer ----

  /** Forgets the frames whose bytes have left the socket's buffer. */
  #prune(ws: WebSocket): void {
    const gone = this.#sentBytes - ws.bufferedAmount;
    const window = this.#window;
    let head = this.#windowHead;
    while (head < window.length && window[head]!.end <= gone) head += 1;
    if (head === window.length) {
      this.#window = [];
      head = 0;
    } else if (head > 1024 && head * 2 > window.length) {
      window.splice(0, head);
      head = 0;
    }
    this.#windowHead = head;
  }

  /** The frames, per channel, whose bytes were still in the buffer of `ws`, which has dropped. */
  #takePossiblyLost(ws: WebSocket): Map<SocketChannel, Frame[]> {
    this.#prune(ws);
    const lost = new Map<SocketChannel, Frame[]>();
    const window = this.#window;
    for (let i = this.#windowHead; i < window.length; i++) {
      const { channel, frame } = window[i]!;
      const frames = lost.get(channel);
      if (frames) frames.push(frame);
      else lost.set(channel, [frame]);
    }
    this.#possiblyLost += window.length - this.#windowHead;
    this.#window = [];
    this.#windowHead = 0;
    this.#sentBytes = 0;
    return lost;
  }

  // ---- drops, reconnects, the end ----

  /** The socket ended without the manager closing it: `reason` and `wasClean` as the socket reported them. */
  #socketDropped(code: number, lost: Map<SocketChannel, Frame[]>, reason: string, wasClean: boolean): void {
    if (this.#closing || !this.alive) return;
    this.#lastCode = code;
    this.#stopHeartbeat();
    const reconnect = this.#endpoint.reconnect;
    if (!reconnect) {
      this.#end('closed', code, reason, wasClean, lost);
      this.#observer.ended(this.#counts(code));
      return;
    }
    this.#attempt = nextAttempt(this.#attempt, Date.now() - this.#openedAt, reconnect.minUptime);
    this.#setState('reconnecting', lost);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    const reconnect = this.#endpoint.reconnect!;
    if (this.#attempt > reconnect.retries) {
      this.#end('failed', this.#lastCode, `gave up after ${reconnect.retries} reconnect attempts`, false, new Map());
      this.#observer.ended(this.#counts(this.#lastCode));
      return;
    }
    this.#retryTimer = setTimeout(() => void this.#retry(), backoffDelay(this.#attempt, reconnect));
  }

  async #retry(): Promise<void> {
    this.#retryAbort = new AbortController();
    try {
      const ws = await connect(this.#endpoint, this.#retryAbort.signal);
      if (this.#closing) {
        ws.close(1000, 'sync session ended');
        return;
      }
      this.#adopt(ws);
    } catch {
      if (this.#closing) return;
      this.#attempt += 1;
      this.#scheduleRetry();
    } finally {
      this.#retryAbort = null;
    }
  }

  #stopRetrying(): void {
    clearTimeout(this.#retryTimer);
    this.#retryAbort?.abort(new SyncError('E_ABORT', `Endpoint '${this.name}': the session ended while reconnecting.`));
  }

  #setState(state: ConnectionState, lost?: Map<SocketChannel, Frame[]>): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const channel of this.#channels) channel.state(state, lost?.get(channel));
    this.#observer.state(state);
  }

  /** Ends every channel, returning to each the frames it could not send and those possibly lost. */
  #end(state: SocketClosed['state'], code: number, reason: string, wasClean: boolean, lost: Map<SocketChannel, Frame[]>): void {
    this.#state = state;
    const held = this.#held;
    this.#held = [];
    this.#unsent += held.length;
    // What the handlers' channels still hold never reaches a socket either (they hand it back to the handler).
    for (const channel of this.#channels) this.#unsent += channel.queuedInWorker;
    for (const channel of this.#channels) {
      channel.close({ state, code, reason, wasClean }, held.filter(([c]) => c === channel).map(([, f]) => f), lost.get(channel) ?? []);
    }
    this.#channels.clear();
    this.#open = null;
    clearTimeout(this.#lazyAck);
    this.#ticks.close();
    this.#observer.state(state);
  }

  /** What the session result counts of this connection. */
  #counts(code: number): ConnectionCloseInfo {
    return { closeCode: code, abortedRequests: 0, unsentFrames: this.#unsent, possiblyLostFrames: this.#possiblyLost, droppedFrames: this.#dropped, invalidMessages: this.#invalid };
  }

  // ---- heartbeat ----

  #armHeartbeat(): void {
    const heartbeat = this.#endpoint.heartbeat;
    if (!heartbeat) return;
    const quiet = Date.now() - this.#lastReceived;
    this.#heartbeatTimer = setTimeout(() => {
      if (Date.now() - this.#lastReceived < heartbeat.interval) return this.#armHeartbeat();
      const pingedAt = Date.now();
      this.#ws.send(heartbeat.ping);
      this.#sentBytes += utf8Length(heartbeat.ping);
      this.#awaitingPong = true;
      this.#heartbeatTimer = setTimeout(() => {
        this.#awaitingPong = false;
        if (this.#lastReceived >= pingedAt) return this.#armHeartbeat();
        // Silent: drop it without waiting for a closing handshake that will not come.
        const ws = this.#ws;
        this.#release(ws);
        const lost = this.#takePossiblyLost(ws);
        ws.close(HEARTBEAT_CLOSE_CODE, 'heartbeat timeout');
        this.#socketDropped(HEARTBEAT_CLOSE_CODE, lost, 'heartbeat timeout', false);
      }, heartbeat.timeout);
    }, Math.max(0, heartbeat.interval - quiet));
  }

  #stopHeartbeat(): void {
    this.#awaitingPong = false;
    clearTimeout(this.#heartbeatTimer);
  }
}

/** The bytes a string takes as UTF-8, as a socket's bufferedAmount counts it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2;
      i += 1;
    } else bytes += 2;
  }
  return bytes;
}

function describeRouted(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}

/** One attempt: evaluates url and protocols afresh (fresh tokens), opens, waits for `open`. */
/** How long `close` may follow an `error` before the error alone counts as the failed connect. */
const ERROR_WITHOUT_CLOSE_GRACE = 500;

async function connect(endpoint: ResolvedWebSocketEndpoint, signal: AbortSignal): Promise<WebSocket> {
  const { name, connectTimeout: timeout } = endpoint;
  checkOnline(name);
  // A url or protocols function that never answers is bounded by connectTimeout and the signal too.
  const rawUrl = await evaluateWithin(endpoint.url, signal, timeout, `Endpoint '${name}': its url function`);
  const rawProtocols = endpoint.protocols === null ? [] : await evaluateWithin(endpoint.protocols, signal, timeout, `Endpoint '${name}': its protocols function`);
  let url: URL;
  let protocols: string | string[];
  try {
    url = new URL(rawUrl, globalThis.location?.href);
    protocols = rawProtocols;
  } catch (cause) {
    throw new SyncError('E_FAIL', `Endpoint '${name}': computing its url or protocols failed: ${causeMessage(cause)}.`, { cause });
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, protocols);
  } catch (cause) {
    throw new SyncError('E_FAIL', `Endpoint '${name}': cannot open a WebSocket to ${describeUrl(url)}: ${causeMessage(cause)}.`, { cause });
  }
  ws.binaryType = 'arraybuffer';
  const { signal: limit, dispose } = linkSignals(signal, timeout, `Endpoint '${name}': connecting to ${describeUrl(url)}`);
  try {
    await new Promise<void>((resolve, reject) => {
      let unclosed: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        clearTimeout(unclosed);
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('error', onError);
        ws.removeEventListener('close', onFail);
        limit.removeEventListener('abort', onAbort);
      };
      const onOpen = () => {
        cleanup();
        resolve();
      };
      const onFail = (event: CloseEvent) => {
        cleanup();
        const code = closeCodeOf(event);
        const cause = new Error(`the socket closed before it opened, with code ${code}${event.reason ? ` (${event.reason})` : ''}`);
        reject(new SyncError('E_FAIL', `Endpoint '${name}': the WebSocket to ${describeUrl(url)} could not connect (close code ${code}${event.reason ? `, ${event.reason}` : ''}); check that the server is up and accepts this URL.`, { cause }));
      };
      // An error before `open` is a failed connection. The standard follows it
      // with `close` (which carries the code), but an engine may refuse a URL
      // (a port it blocks) with `error` alone: once the grace passes, that error is the failure.
      const onError = () => {
        unclosed ??= setTimeout(() => {
          cleanup();
          ws.close();
          reject(new SyncError('E_FAIL', `Endpoint '${name}': the WebSocket to ${describeUrl(url)} could not connect (the browser reported an error and no close code; it may refuse this host or port); check that the server is up and accepts this URL.`, { cause: new Error('the socket reported an error before it opened, and no close event') }));
        }, ERROR_WITHOUT_CLOSE_GRACE);
      };
      const onAbort = () => {
        cleanup();
        ws.close();
        const reason = limit.reason;
        reject(SyncError.is(reason) ? reason : new SyncError('E_ABORT', `Endpoint '${name}': connecting was aborted.`, { cause: reason }));
      };
      ws.addEventListener('open', onOpen);
      ws.addEventListener('error', onError);
      ws.addEventListener('close', onFail);
      if (limit.aborted) onAbort();
      else limit.addEventListener('abort', onAbort);
    });
  } finally {
    dispose();
  }
  return ws;
}

/**
 * A close event's code as the WebSocket standard has it. A connection that
 * ended without a close frame carries 1006; Deno's WebSocket says 0 instead
 * (for a refused or failed connect and for a cut connection), a code no close
 * frame can carry. Any code outside 1000–4999 is taken as 1006, so handlers,
 * events and results see the same code on every engine.
 */
function closeCodeOf(event: CloseEvent): number {
  return event.code >= 1000 && event.code <= 4999 ? event.code : ABNORMAL_CLOSE_CODE;
}
