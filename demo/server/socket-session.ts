// What the server does with an accepted WebSocket. Every frame is recorded
// and echoed back with its type, except two text commands a test (or another
// tab of the demo) can send:
//
//   `!broadcast <text>`     <text> to every OTHER open socket of the same tenant and channel
//   `!close <code> [reason]`  the server closes this socket with <code>
//
// An invalid `!close` code is answered with the text frame `!error <message>`.
// A socket whose channel is muted (the `mute` fault) records frames and answers nothing.

import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { headersOf } from './http-io.ts';
import { type LiveSocket, type Tenant, sendIfOpen } from './tenant.ts';

/** Frames kept in a socket record. */
export const MAX_RECEIVED_FRAMES = 1000;

const BROADCAST = '!broadcast ';
const CLOSE = /^!close (\d{1,5})(?: ([\s\S]*))?$/;

/** Registers an accepted socket with its tenant and starts serving it. */
export function startSession(tenant: Tenant, ws: WebSocket, channel: string, req: IncomingMessage): LiveSocket {
  const live = tenant.addSocket(ws, channel, headersOf(req));
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
  }
  if (ws.readyState === ws.OPEN) ws.send(data, { binary: isBinary });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
