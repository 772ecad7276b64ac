/**
 * A WebSocket owned by the manager and bridged to handlers' workers over
 * MessagePorts. Frames cross without copies when one channel is attached
 * (ArrayBuffers are transferred on both legs); with several channels every
 * channel gets every frame, copies for all but the last.
 */
import { SyncError } from '../protocol/errors.ts';
import { isFrame, type Frame, type SocketClosed } from '../protocol/api.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import { DEFAULT_CONNECT_TIMEOUT, evaluate, type WebSocketEndpoint } from './endpoint-config.ts';
import { FrameBatcher, TickScheduler } from '../internal/frame-batcher.ts';
import { checkOnline, describeUrl, linkSignals } from './connect-helpers.ts';

interface Attached {
  port: MessagePort;
  batcher: FrameBatcher;
}

export class WebSocketConnection implements Connection {
  readonly name: string;
  readonly kind = 'websocket';
  readonly #ws: WebSocket;
  readonly #ticks = new TickScheduler();
  readonly #channels = new Set<Attached>();
  readonly #onClosed: (code: number) => void;
  #closeInfo: SocketClosed | null = null;
  #closing: Promise<ConnectionCloseInfo> | null = null;

  private constructor(name: string, ws: WebSocket, onClosed: (code: number) => void) {
    this.name = name;
    this.#ws = ws;
    this.#onClosed = onClosed;
    ws.addEventListener('message', this.#onMessage);
    ws.addEventListener('close', this.#onClose);
  }

  /**
   * Opens the socket and resolves once `open` arrived. Rejects with `E_OFFLINE`,
   * `E_TIMEOUT`, `E_ABORT` (signal) or `E_FAIL` (refused, closed), naming the endpoint.
   * `onClosed` is called once when the socket closes for any reason.
   */
  static async open(name: string, config: WebSocketEndpoint, signal: AbortSignal, onClosed: (code: number) => void): Promise<WebSocketConnection> {
    checkOnline(name);
    const timeout = config.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    let url: URL;
    let protocols: string | string[];
    try {
      url = new URL(await evaluate(config.url), globalThis.location?.href);
      protocols = config.protocols === undefined ? [] : await evaluate(config.protocols);
    } catch (cause) {
      throw new SyncError('E_FAIL', `Endpoint '${name}': computing its url or protocols failed: ${(cause as Error)?.message ?? cause}.`, { cause });
    }
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols);
    } catch (cause) {
      throw new SyncError('E_FAIL', `Endpoint '${name}': cannot open a WebSocket to ${describeUrl(url)}: ${(cause as Error)?.message ?? cause}.`, { cause });
    }
    ws.binaryType = 'arraybuffer';
    const { signal: limit, dispose } = linkSignals(signal, timeout, `Endpoint '${name}': connecting to ${describeUrl(url)}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const cleanup = () => {
          ws.removeEventListener('open', onOpen);
          ws.removeEventListener('close', onFail);
          limit.removeEventListener('abort', onAbort);
        };
        const onOpen = () => {
          cleanup();
          resolve();
        };
        const onFail = (event: CloseEvent) => {
          cleanup();
          const cause = new Error(`the socket closed before it opened, with code ${event.code}${event.reason ? ` (${event.reason})` : ''}`);
          reject(new SyncError('E_FAIL', `Endpoint '${name}': the WebSocket to ${describeUrl(url)} could not connect (close code ${event.code}${event.reason ? `, ${event.reason}` : ''}); check that the server is up and accepts this URL.`, { cause }));
        };
        const onAbort = () => {
          cleanup();
          ws.close();
          const reason = limit.reason;
          reject(SyncError.is(reason) ? reason : new SyncError('E_ABORT', `Endpoint '${name}': connecting was aborted.`, { cause: reason }));
        };
        ws.addEventListener('open', onOpen);
        ws.addEventListener('close', onFail);
        if (limit.aborted) onAbort();
        else limit.addEventListener('abort', onAbort);
      });
    } finally {
      dispose();
    }
    return new WebSocketConnection(name, ws, onClosed);
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  get alive(): boolean {
    return this.#closeInfo === null && this.#closing === null;
  }

  attach(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const channel: Attached = { port: port1, batcher: new FrameBatcher(port1, this.#ticks.schedule) };
    port1.onmessage = (event: MessageEvent) => this.#fromWorker(channel, event.data);
    this.#channels.add(channel);
    if (this.#closeInfo) this.#detach(channel, this.#closeInfo);
    return port2;
  }

  close(timeout: number): Promise<ConnectionCloseInfo> {
    this.#closing ??= new Promise<ConnectionCloseInfo>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#ws.removeEventListener('close', finish);
        this.#shutdown(this.#closeInfo ?? { type: 'closed', code: 1000, reason: 'sync session ended', wasClean: true });
        resolve({ closeCode: this.#closeInfo?.code ?? null, abortedRequests: 0 });
      };
      const timer = setTimeout(finish, timeout);
      if (this.#closeInfo) return finish();
      this.#ws.addEventListener('close', finish);
      this.#ws.close(1000, 'sync session ended');
    });
    return this.#closing;
  }

  readonly #onMessage = (event: MessageEvent): void => {
    const data = event.data as Frame;
    if (this.#channels.size === 1) {
      for (const c of this.#channels) c.batcher.push(data);
      return;
    }
    let left = this.#channels.size;
    for (const c of this.#channels) {
      left -= 1;
      c.batcher.push(typeof data === 'string' || left === 0 ? data : data.slice(0));
    }
  };

  readonly #onClose = (event: CloseEvent): void => {
    this.#closeInfo = { type: 'closed', code: event.code, reason: event.reason, wasClean: event.wasClean };
    this.#ws.removeEventListener('message', this.#onMessage);
    this.#ws.removeEventListener('close', this.#onClose);
    this.#onClosed(event.code);
    if (!this.#closing) this.#shutdown(this.#closeInfo);
  };

  #fromWorker(channel: Attached, data: unknown): void {
    if (isFrame(data)) return this.#send(data);
    if (Array.isArray(data)) {
      for (const frame of data) if (isFrame(frame)) this.#send(frame);
      return;
    }
    if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'detach') {
      this.#channels.delete(channel);
      channel.port.close();
    }
  }

  #send(frame: Frame): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(frame);
  }

  #shutdown(info: SocketClosed): void {
    for (const channel of this.#channels) this.#detach(channel, info);
    this.#channels.clear();
    this.#ticks.close();
  }

  #detach(channel: Attached, info: SocketClosed): void {
    channel.batcher.flush();
    channel.port.postMessage(info);
    channel.port.close();
  }
}
