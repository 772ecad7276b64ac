/**
 * Messages of the port behind one `endpointWebSocket` instance: a socket the
 * manager opens for that instance alone and relays as it is (no reconnect,
 * no sharing, no batching). Frames travel bare; control messages are
 * objects. The manager checks what a worker posts ({@link parseEndpointSocketUp}).
 */
import type { WireError } from './wire.ts';

/** A frame a handler sends: what `WebSocket.send()` takes, as its runtime posts it (views become ArrayBuffers). */
export type UpFrame = string | ArrayBuffer | Blob;

/** Manager → worker. */
export type EndpointSocketDown = string | ArrayBuffer | EndpointSocketOpen | EndpointSocketDrained | EndpointSocketError | EndpointSocketClosed;

/** Worker → manager. */
export type EndpointSocketUp = UpFrame | EndpointSocketClose | EndpointSocketClosedSeen | EndpointSocketHandlerEnded;

/** The socket opened: what the server chose. */
export interface EndpointSocketOpen {
  type: 'open';
  protocol: string;
  extensions: string;
}

/** This many bytes of what the handler sent have left the socket's buffer (its `bufferedAmount` goes down by them). */
export interface EndpointSocketDrained {
  type: 'drained';
  bytes: number;
}

/**
 * The socket fired `error` (a close follows). `error`: why, when the manager
 * itself knows (offline, the endpoint's url function failed, the connect
 * timed out); `null` when only the engine knows, as with a browser's socket.
 */
export interface EndpointSocketError {
  type: 'error';
  error: WireError | null;
}

/** The socket closed: the close event's code, reason and `wasClean`, as the engine reported them. */
export interface EndpointSocketClosed {
  type: 'closed';
  code: number;
  reason: string;
  wasClean: boolean;
}

/**
 * The handler called `close(code, reason)` (checked in the worker as a
 * browser checks them; `code` null: none given). `connecting`: it was called
 * before the worker saw `open`, which fails the connection (error, then close
 * with 1006), even if the socket opened on the manager's side meanwhile.
 */
export interface EndpointSocketClose {
  type: 'close';
  code: number | null;
  reason: string;
  connecting: boolean;
}

/**
 * The worker got `closed` and dispatched its `close` event: the last message
 * of the port. Until it comes (or `timeouts.close` passes), the session does
 * not end, so the worker is not terminated before it saw its socket close.
 */
export interface EndpointSocketClosedSeen {
  type: 'closedSeen';
}

/**
 * The handler's work ended (its synchronize() settled): every frame and close
 * request of this socket the worker posted came before this. The manager
 * closes the socket for the handler's end only after it, so a library's last
 * frames and its own close are never overtaken.
 */
export interface EndpointSocketHandlerEnded {
  type: 'handlerEnded';
}

/** The largest close reason a close frame carries, in UTF-8 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** A worker's message, checked: a frame, a close request, the acknowledgement of `closed`, or `null` for anything else. */
export function parseEndpointSocketUp(data: unknown): EndpointSocketUp | null {
  if (typeof data === 'string' || data instanceof ArrayBuffer || (typeof Blob !== 'undefined' && data instanceof Blob)) return data;
  if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype) return null;
  const m = data as Record<string, unknown>;
  if (m.type === 'closedSeen') return { type: 'closedSeen' };
  if (m.type === 'handlerEnded') return { type: 'handlerEnded' };
  if (m.type !== 'close' || typeof m.reason !== 'string' || typeof m.connecting !== 'boolean') return null;
  if (m.code !== null && !isCloseCode(m.code)) return null;
  if (new TextEncoder().encode(m.reason).byteLength > MAX_CLOSE_REASON_BYTES) return null;
  return { type: 'close', code: m.code as number | null, reason: m.reason, connecting: m.connecting };
}

/** A code a client may put in a close frame: 1000, or 3000–4999 (the WebSocket standard's rule for `close()`). */
export function isCloseCode(code: unknown): code is number {
  return typeof code === 'number' && Number.isInteger(code) && (code === 1000 || (code >= 3000 && code <= 4999));
}
