// The control endpoints a test drives the server with
// (`/__syncmgr/t/<tenant>/<verb>`): inject faults, drop or message sockets,
// read the state view, reset the tenant. They are not API requests: they are
// never recorded and faults never apply to them.

import { applyFaultsPatch, copyFaults, parseFaultsPatch } from './faults.ts';
import { type Reply, errorReply, jsonReply } from './http-io.ts';
import { patternBytes } from './pattern.ts';
import { CHANNEL_RULE, isValidChannel } from './routes.ts';
import { sendIfOpen, type Tenant } from './tenant.ts';
import type { DropResult, SendResult } from './types.ts';
import { type Checked, checkInteger, describe, fail, ok, parseJsonObject } from './validate.ts';

/** Largest binary frame `send` generates. */
export const MAX_SEND_BINARY_BYTES = 64 * 1024 * 1024;

export interface ControlRequest {
  tenant: Tenant;
  verb: string;
  method: string;
  body: Buffer;
}

const METHODS: Record<string, string> = { faults: 'POST', drop: 'POST', send: 'POST', reset: 'POST', state: 'GET' };

export function routeControl(req: ControlRequest): Reply {
  const expected = METHODS[req.verb];
  if (expected === undefined) {
    return errorReply(404, `unknown control verb ${JSON.stringify(req.verb)}: expected faults, drop, send, state or reset`);
  }
  if (req.method !== expected && !(expected === 'GET' && req.method === 'HEAD')) {
    return errorReply(405, `${req.verb} takes ${expected}, got ${req.method}`, { allow: expected });
  }
  const { tenant } = req;
  if (req.verb === 'state') return jsonReply(200, tenant.snapshot());
  if (req.verb === 'reset') {
    tenant.reset();
    return jsonReply(200, { ok: true });
  }

  // Every remaining verb takes a JSON object whose fields are all optional.
  const json = parseJsonObject(req.body, true);
  if (!json.ok) return errorReply(400, json.error);
  const body = json.value;

  if (req.verb === 'faults') {
    const patch = parseFaultsPatch(body);
    if (!patch.ok) return errorReply(400, patch.error);
    applyFaultsPatch(tenant.faults, patch.value);
    tenant.applyStall();
    return jsonReply(200, copyFaults(tenant.faults));
  }

  // A misspelt `channel` would silently widen the verb to every socket: refuse unknown fields.
  const allowed = req.verb === 'drop' ? ['channel'] : ['channel', 'data', 'binaryBytes'];
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) return errorReply(400, `unknown ${req.verb} field ${JSON.stringify(unknown)}: expected ${allowed.join(', ')}`);

  const channel = channelField(body.channel);
  if (!channel.ok) return errorReply(400, channel.error);
  const targets = tenant.openSockets(channel.value);

  if (req.verb === 'drop') {
    for (const live of targets) tenant.dropSocket(live);
    const answer: DropResult = { dropped: targets.length };
    return jsonReply(200, answer);
  }

  // send
  const payload = sendPayload(body);
  if (!payload.ok) return errorReply(400, payload.error);
  let sent = 0;
  for (const live of targets) if (sendIfOpen(live, payload.value)) sent += 1;
  const answer: SendResult = { sent };
  return jsonReply(200, answer);
}

function channelField(raw: unknown): Checked<string | undefined> {
  if (raw === undefined) return ok(undefined);
  if (typeof raw !== 'string') return fail(`channel must be a string, got ${describe(raw)}`);
  if (!isValidChannel(raw)) return fail(`invalid channel ${JSON.stringify(raw)}: expected ${CHANNEL_RULE}`);
  return ok(raw);
}

/** Exactly one of `data` (a text frame) and `binaryBytes` (a binary frame of the byte pattern). */
function sendPayload(body: Record<string, unknown>): Checked<string | Uint8Array> {
  const { data, binaryBytes } = body;
  if ((data === undefined) === (binaryBytes === undefined)) return fail('send takes exactly one of data and binaryBytes');
  if (data !== undefined) {
    return typeof data === 'string' ? ok(data) : fail(`data must be a string, got ${describe(data)}`);
  }
  const size = checkInteger('binaryBytes', binaryBytes, 0, MAX_SEND_BINARY_BYTES);
  return size.ok ? ok(patternBytes(size.value)) : size;
}
