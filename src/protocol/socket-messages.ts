/**
 * Messages of a WebSocket channel's port. Frames travel bare (a string or an
 * ArrayBuffer, or an array of them when several are coalesced into one
 * postMessage); control messages are objects.
 */
import type { ConnectionState } from './types.ts';

/** One WebSocket frame's payload. */
export type Frame = string | ArrayBuffer;

/** Manager → worker. */
export type SocketDown = Frame | Frame[] | SocketClosed | SocketStateMessage | SocketAck;

/** Worker → manager. */
export type SocketUp = Frame | Frame[] | ChannelDetach;

export interface SocketClosed {
  type: 'closed';
  /** `failed`: reconnecting gave up; `closed`: the session ended (or the socket closed with reconnect off). */
  state: 'failed' | 'closed';
  code: number;
  reason: string;
  wasClean: boolean;
  /** Frames of this channel the manager held while reconnecting and could not send. */
  unsent: Frame[];
}

/** The connection changed state (`open` after a reconnect: send what you queued). */
export interface SocketStateMessage {
  type: 'state';
  state: ConnectionState;
}

/** This many bytes of the channel's frames have left the socket's buffer. */
export interface SocketAck {
  type: 'ack';
  bytes: number;
}

/** Worker → manager on either kind of channel: the handler closed its channel. */
export interface ChannelDetach {
  type: 'detach';
}

export function isFrame(value: unknown): value is Frame {
  return typeof value === 'string' || value instanceof ArrayBuffer;
}

/** What a frame counts against the send limits: its length (string) or byte length. */
export function frameSize(frame: Frame): number {
  return typeof frame === 'string' ? frame.length : frame.byteLength;
}
