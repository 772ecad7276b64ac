/**
 * Messages of a WebSocket channel's port. Frames travel bare (a string or an
 * ArrayBuffer, or an array of them when several are coalesced into one
 * postMessage); control messages are objects. The manager checks every
 * message a worker posts ({@link parseSocketUp}): what is not one of these is
 * dropped and counted, whatever sent it.
 */
import type { ConnectionState } from './types.ts';
import type { WireError } from './wire.ts';

/** One WebSocket frame's payload. */
export type Frame = string | ArrayBuffer;

/** Close code of a channel whose handler did not take its frames in time (its `receiveBuffer` overflowed); the socket stays open. */
export const RECEIVE_OVERFLOW_CLOSE_CODE = 4001;

/** At most this many frames in one message of a batch (both directions; the batcher's limit). */
export const MAX_BATCH_FRAMES = 64;

/** Manager → worker. */
export type SocketDown = Frame | Frame[] | SocketClosed | SocketStateMessage | SocketAck | SocketRefused;

/** Worker → manager. */
export type SocketUp = Frame | Frame[] | ChannelDetach | SocketReceived | SocketQueued;

export interface SocketClosed {
  type: 'closed';
  /** `failed`: reconnecting gave up; `closed`: the session ended (or the socket closed with reconnect off, or this channel's receive buffer overflowed). */
  state: 'failed' | 'closed';
  code: number;
  reason: string;
  wasClean: boolean;
  /** Frames of this channel the manager held while reconnecting and could not send. */
  unsent: Frame[];
  /** Frames of this channel handed to the socket whose bytes were still in its buffer when it dropped. */
  possiblyLost: Frame[];
  /** Why this channel closed while the connection stays open (its receive buffer overflowed); `null` otherwise. */
  error: WireError | null;
  /** Frames from the server this channel did not get (receive buffer overflow). */
  dropped: number;
}

/** The connection changed state (`open` after a reconnect: send what you queued). */
export interface SocketStateMessage {
  type: 'state';
  state: ConnectionState;
  /** With `reconnecting`: this channel's frames that were still in the dropped socket's buffer. */
  possiblyLost: Frame[];
}

/** This many bytes of the channel's frames have left the socket's buffer. */
export interface SocketAck {
  type: 'ack';
  bytes: number;
}

/** The manager refused frames of this channel (over its send limits): they were not sent and count as unsent. */
export interface SocketRefused {
  type: 'refused';
  frames: number;
  error: WireError;
}

/** Worker → manager: the handler has been given this many frames (and bytes) of those posted to it. */
export interface SocketReceived {
  type: 'received';
  frames: number;
  bytes: number;
}

/**
 * Worker → manager: the channel now holds this many frames of the handler
 * while the socket is not open (they reach the manager once it is), so that
 * the session result counts them as unsent if the connection fails first.
 */
export interface SocketQueued {
  type: 'queued';
  frames: number;
}

/** Worker → manager on either kind of channel: the handler closed its channel. */
export interface ChannelDetach {
  type: 'detach';
}

export function isFrame(value: unknown): value is Frame {
  return typeof value === 'string' || value instanceof ArrayBuffer;
}

/**
 * What a frame counts against the send and receive limits: its length
 * (string) or byte length, and at least 1, so that limits in bytes also
 * bound the number of frames.
 */
export function frameSize(frame: Frame): number {
  return Math.max(1, typeof frame === 'string' ? frame.length : frame.byteLength);
}

/** A worker's message, checked: frames (at most {@link MAX_BATCH_FRAMES}), a control message, or `null` for anything else. */
export function parseSocketUp(data: unknown): Frame[] | ChannelDetach | SocketReceived | SocketQueued | null {
  if (isFrame(data)) return [data];
  if (Array.isArray(data)) {
    if (data.length === 0 || data.length > MAX_BATCH_FRAMES) return null;
    for (let i = 0; i < data.length; i++) if (!isFrame(data[i])) return null;
    return data as Frame[];
  }
  if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype) return null;
  const m = data as Record<string, unknown>;
  if (m.type === 'detach') return { type: 'detach' };
  if (m.type === 'received' && isCount(m.frames) && isCount(m.bytes)) return { type: 'received', frames: m.frames, bytes: m.bytes };
  if (m.type === 'queued' && isCount(m.frames)) return { type: 'queued', frames: m.frames };
  return null;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
