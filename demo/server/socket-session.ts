// What the server does with an accepted WebSocket. Every frame is recorded
// and echoed back with its type, except the text commands a test, the
// benchmark (or another tab of the demo) can send:
//
//   `!broadcast <text>`     <text> to every OTHER open socket of the same tenant and channel
//   `!close <code> [reason]`  the server closes this socket with <code>
//   `!burst <count> <size>`   the server sends <count> binary frames of <size> bytes of the
//                             byte pattern (pattern.ts), following the socket's backpressure
//   `!sink <bytes>`           the next <bytes> bytes of binary frames are counted, not echoed;
//                             then the server sends the text frame `!sunk <bytes>`
//
// An invalid command is answered with the text frame `!error <message>`.
// A socket whose channel is muted (the `mute` fault) records frames and answers nothing.

import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { headersOf } from './http-io.ts';
import { patternBytes } from './pattern.ts';
import { type LiveSocket, type Tenant, sendIfOpen } from './tenant.ts';

/** Frames kept in a socket record. */
export const MAX_RECEIVED_FRAMES = 1000;
/** Largest frame of `!burst`. */
export const MAX_BURST_FRAME_BYTES = 16 * 1024 * 1024;
/** Most bytes one `!burst` sends. */
export const MAX_BURST_BYTES = 1024 * 1024 * 1024;
// `!burst` waits while more than this is buffered for the socket, and goes on below the low mark.
const BURST_HIGH_WATER = 4 * 1024 * 1024;
const BURST_LOW_WATER = 1024 * 1024;

const BROADCAST = '!broadcast ';
const CLOSE = /^!close (\d{1,5})(?: ([\s\S]*))?$/;
const BURST = /^!burst (\d{1,10}) (\d{1,10})$/;
const SINK = /^!sink (\d{1,13})$/;

/** Bytes of binary frames a socket still sinks (`!sink`). */
const sinking = new WeakMap<LiveSocket, { total: number; left: number }>();

/** Registers an accepted socket with its tenant and starts serving it. */
export function startSession(tenant: Tenant, ws: WebSocket, channel: string, req: IncomingMessage): LiveSocket {
  const url = req.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const live = tenant.addSocket(ws, channel, headersOf(req), query);
  ws.on('message', (data, isBinary) => onFrame(tenant, live, toBuffer(data), isBinary));
  ws.on('close', (code, reason) => tenant.socketClosed(live, code, reason.toString('utf8')));
  // Protocol errors (bad UTF-8, oversized frames) make ws close the socket;
  // the record is completed by 'close'. Without a listener they would throw.
  ws.on('error', () => {});
  return live;
}

function onFrame(tenant: Tenant, live: LiveSocket, data: Buffer, isBinary: boolean): void {
  const { record, ws } = live;
  const text = isBinary ? null : data.toString('utf8');
  record.received.push(text ?? { binary: data.length });
  if (record.received.length > MAX_RECEIVED_FRAMES) record.received.splice(0, record.received.length - MAX_RECEIVED_FRAMES);
  record.receivedCount += 1;
  record.receivedBytes += data.length;
  if (tenant.faults.mute.includes(record.channel)) return;

  const sink = isBinary ? sinking.get(live) : undefined;
  if (sink) {
    sink.left -= data.length;
    if (sink.left <= 0) {
      sinking.delete(live);
      sendIfOpen(live, `!sunk ${sink.total}`);
    }
    return;
  }

  if (text !== null) {
    if (text.startsWith(BROADCAST)) {
      const message = text.slice(BROADCAST.length);
      for (const other of tenant.openSockets(record.channel)) if (other !== live) sendIfOpen(other, message);
      return;
    }
    const close = CLOSE.exec(text);
    if (close) {
      try {
        tenant.closeSocket(live, Number(close[1]), close[2] ?? '');
      } catch (err) {
        // ws refuses reserved codes (1005, 1006, ...) and reasons over 123 bytes.
        live.closingByServer = false;
        sendIfOpen(live, `!error ${(err as Error).message}`);
      }
      return;
    }
    const burstCommand = BURST.exec(text);
    if (burstCommand) {
      const count = Number(burstCommand[1]);
      const size = Number(burstCommand[2]);
      if (size > MAX_BURST_FRAME_BYTES || count * size > MAX_BURST_BYTES) {
        sendIfOpen(live, `!error !burst sends frames of at most ${MAX_BURST_FRAME_BYTES} bytes, ${MAX_BURST_BYTES} bytes in all`);
      } else {
        void burst(live, count, size);
      }
      return;
    }
    const sinkCommand = SINK.exec(text);
    if (sinkCommand) {
      const total = Number(sinkCommand[1]);
      if (total === 0) sendIfOpen(live, '!sunk 0');
      else sinking.set(live, { total, left: total });
      return;
    }
  }
  if (ws.readyState === ws.OPEN) ws.send(data, { binary: isBinary });
}

/** Sends `count` binary frames of `size` pattern bytes, pausing while the socket's buffer is full. */
async function burst(live: LiveSocket, count: number, size: number): Promise<void> {
  const { ws } = live;
  const frame = patternBytes(size);
  let buffered = 0;
  let wake: (() => void) | null = null;
  const sent = (): void => {
    buffered -= size;
    if (buffered <= BURST_LOW_WATER && wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  for (let i = 0; i < count; i++) {
    if (ws.readyState !== ws.OPEN) return;
    buffered += size;
    // The callback also runs (with an error) when the socket closes, so the wait below always ends.
    ws.send(frame, { binary: true }, sent);
    if (buffered > BURST_HIGH_WATER) await new Promise<void>((resolve) => (wake = resolve));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
