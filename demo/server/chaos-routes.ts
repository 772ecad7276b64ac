// API paths for the chaos tests (`/t/<tenant>/api/chaos/<verb>`): answers
// that break HTTP's rules on purpose, which a `Reply` cannot express because
// the regular writer always sends a correct Content-Length. Each is recorded
// like any API request, and the tenant's faults apply before it, as to every
// API path.
//
//   chaos/retry-after?status=S&value=V&count=N&key=K
//       the first N requests with key K answer status S with `Retry-After: V`
//       (the raw value, any form), later ones 200 `ok`
//   chaos/length?declared=D&actual=A[&stall=1]
//       Content-Length D and A bytes of the byte pattern; with A < D the
//       connection is then cut, or with stall=1 held silent until the client goes
//   chaos/gzip?n=N    the byte pattern's first N bytes, gzip-coded
//   chaos/frame?bytes=N[&channel=C]
//       one binary frame of N pattern bytes to every open socket (of channel C),
//       answering { sent }

import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { errorReply, jsonReply, textReply, writeReply } from './http-io.ts';
import { patternBytes } from './pattern.ts';
import { isValidChannel } from './routes.ts';
import { sendIfOpen, type Tenant } from './tenant.ts';
import type { RequestRecord } from './types.ts';
import { checkIntegerParam } from './validate.ts';

/** Largest body or frame a chaos verb generates. */
export const MAX_CHAOS_BYTES = 512 * 1024 * 1024;

const PREFIX = 'chaos/';

/** Requests answered so far per tenant and `retry-after` key. */
const served = new WeakMap<Tenant, Map<string, number>>();

export interface ChaosRequest {
  tenant: Tenant;
  /** The API path (see RequestRecord.path). */
  path: string;
  params: URLSearchParams;
  record: RequestRecord;
  res: ServerResponse;
}

export function isChaosPath(path: string): boolean {
  return path.startsWith(PREFIX);
}

/** Serves a chaos verb; resolves once the answer is sent, cut, or the client went away. */
export async function serveChaos(req: ChaosRequest): Promise<void> {
  const { res, record, params } = req;
  const verb = req.path.slice(PREFIX.length);
  const reply = (status: number, answer: Parameters<typeof writeReply>[1]) => {
    record.status = status;
    return writeReply(res, answer);
  };
  const int = (name: string, fallback?: number) => {
    const raw = params.get(name);
    if (raw === null && fallback !== undefined) return { ok: true as const, value: fallback };
    return checkIntegerParam(name, raw, 0, MAX_CHAOS_BYTES);
  };

  if (verb === 'retry-after') {
    const status = int('status', 503);
    const count = int('count', 1);
    if (!status.ok || !count.ok) return reply(400, errorReply(400, 'status and count must be integers'));
    const key = params.get('key') ?? '';
    const counts = served.get(req.tenant) ?? new Map<string, number>();
    served.set(req.tenant, counts);
    const seen = counts.get(key) ?? 0;
    counts.set(key, seen + 1);
    if (seen >= count.value) return reply(200, textReply(200, 'ok'));
    const value = params.get('value');
    return reply(status.value, errorReply(status.value, `chaos: status ${status.value}`, value === null ? {} : { 'retry-after': value }));
  }

  if (verb === 'gzip') {
    const n = int('n');
    if (!n.ok) return reply(400, errorReply(400, n.error));
    const body = gzipSync(patternBytes(n.value));
    return reply(200, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }, body });
  }

  if (verb === 'frame') {
    const bytes = int('bytes');
    if (!bytes.ok) return reply(400, errorReply(400, bytes.error));
    const channel = params.get('channel') ?? undefined;
    if (channel !== undefined && !isValidChannel(channel)) return reply(400, errorReply(400, 'invalid channel'));
    const frame = patternBytes(bytes.value);
    let sent = 0;
    for (const live of req.tenant.openSockets(channel)) if (sendIfOpen(live, frame)) sent += 1;
    return reply(200, jsonReply(200, { sent }));
  }

  if (verb === 'length') {
    const declared = int('declared');
    const actual = int('actual');
    if (!declared.ok || !actual.ok) return reply(400, errorReply(400, 'declared and actual must be integers'));
    const socket = res.socket;
    if (!socket) return;
    // Written on the socket itself: Node's writer would correct the lie.
    record.status = 200;
    socket.write(
      `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncache-control: no-store\r\nconnection: close\r\n` +
        `x-request-id: ${record.id}\r\ncontent-length: ${declared.value}\r\n\r\n`,
    );
    socket.write(patternBytes(actual.value));
    if (actual.value < declared.value && params.get('stall') === '1') {
      // Silent until the client goes away (the record's `aborted` then says so).
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      return;
    }
    // End after the bytes are on the wire: a short body is then cut, a long one ends the connection.
    await new Promise<void>((resolve) => socket.end(() => resolve()));
    socket.destroy();
    return;
  }

  return reply(404, errorReply(404, `no chaos verb ${JSON.stringify(verb)}: expected retry-after, length, gzip or frame`));
}
