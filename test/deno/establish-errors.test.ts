// DESIGN.md §2 rule 2 under Deno: every refusal and failure of
// establishConnection with its code, the message naming the endpoint and the
// handler, and nothing opened at the server: an unknown or non-string name
// and null without a default (E_INVALIDARG), a call outside synchronize()
// (E_UNEXPECTED), a name the registration does not allow (E_ACCESSDENIED),
// the wrong kind of channel (E_INVALIDARG), a server that is not there
// (E_FAIL); and misuse-handler.ts, which gets every refusal in one run.
import assert from 'node:assert/strict';
import type { SyncManager, SyncManagerOptions } from '../../src/index.ts';
import { scripted } from '../fixtures/scripted.ts';
import type { TestServer } from '../fixtures/server.ts';
import type { Report, Script } from '../../workers/fixtures/script.ts';
import { test, type Bed } from './bed.ts';
import { startEndpointServer } from './endpoint-server.ts';

const misuseWorker = () => new Worker(new URL('../../workers/fixtures/misuse-handler.ts', import.meta.url), { type: 'module' });

/** A manager over the tenant with a websocket `live` (also the default) and a fetch `api`. */
function managerFor(bed: Bed, handlers: SyncManagerOptions['handlers']): SyncManager {
  return bed.manager({
    endpoints: { live: { kind: 'websocket', url: bed.server.wsUrl('live') }, api: { kind: 'fetch', url: bed.server.apiUrl } },
    defaultEndpoint: 'live',
    handlers,
  });
}

/** The failed step `index` of the only handler: its code and message. */
async function refusal(bed: Bed, sessionId: string, handlerId: string, index: number, phase = 'step'): Promise<{ code: string | undefined; message: string }> {
  const r: Report = await bed.reports.wait((x) => x.sessionId === sessionId && x.handlerId === handlerId && x.phase === phase && x.index === index);
  assert.equal(r.ok, false, `step ${index} succeeded: ${JSON.stringify(r.value)}`);
  return { code: r.error?.code, message: r.error?.message ?? '' };
}

/** Nothing was opened: no connection in the result, no socket and no request at the server. */
async function nothingOpened(server: TestServer, connections: readonly unknown[]): Promise<void> {
  assert.deepEqual(connections, []);
  const state = await server.state();
  assert.deepEqual([state.sockets, state.requests], [[], []]);
}

test('an unknown endpoint name rejects with E_INVALIDARG naming the endpoint and the handler, and opens nothing', async (bed) => {
  const m = managerFor(bed, [scripted('unknown-h')]);
  // `constructor` is no endpoint even though every object has one; `''` is not the default endpoint.
  const names = ['nope', 'constructor', ''];
  const session = m.synchronize({ cookie: { scripts: { 'unknown-h': { steps: names.map((name) => ({ op: 'establish', name })) } } } });
  const result = await session.done;

  for (const [i, name] of names.entries()) {
    const { code, message } = await refusal(bed, session.id, 'unknown-h', i);
    assert.equal(code, 'E_INVALIDARG');
    assert.ok(message.includes(`'${name}'`) && message.includes('unknown-h'), message);
  }
  await nothingOpened(bed.server, result.connections);
});

test('a non-string endpoint name rejects with E_INVALIDARG naming the value and the handler, and never means the default', async (bed) => {
  const m = managerFor(bed, [scripted('type-h')]);
  const values: [unknown, RegExp][] = [[42, /42/], [0, /\b0\b/], [false, /false/], [{ name: 'live' }, /object/], [['live'], /array/]];
  const session = m.synchronize({ cookie: { scripts: { 'type-h': { steps: values.map(([name]) => ({ op: 'establish', name })) } } } });
  const result = await session.done;

  for (const [i, [, described]] of values.entries()) {
    const { code, message } = await refusal(bed, session.id, 'type-h', i);
    assert.equal(code, 'E_INVALIDARG');
    assert.match(message, described);
    assert.match(message, /type-h/);
  }
  await nothingOpened(bed.server, result.connections);
});

test('with no default endpoint configured, null and no argument reject with E_INVALIDARG naming the handler', async (bed) => {
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: bed.server.wsUrl('live') } }, handlers: [scripted('no-default-h')] });
  const script: Script = { steps: [{ op: 'establish', name: null }, { op: 'establish', name: 'omit' }] };
  const session = m.synchronize({ cookie: { scripts: { 'no-default-h': script } } });
  const result = await session.done;

  for (const i of [0, 1]) {
    const { code, message } = await refusal(bed, session.id, 'no-default-h', i);
    assert.equal(code, 'E_INVALIDARG');
    assert.match(message, /no default ?endpoint is configured/i);
    assert.match(message, /no-default-h/);
  }
  await nothingOpened(bed.server, result.connections);
});

test('a call from prepare() rejects with E_UNEXPECTED naming the endpoint and the handler', async (bed) => {
  const m = managerFor(bed, [scripted('prep-h')]);
  const session = m.synchronize({ cookie: { scripts: { 'prep-h': { prepare: [{ op: 'establish', name: 'live' }] } } } });
  const result = await session.done;

  const { code, message } = await refusal(bed, session.id, 'prep-h', 0, 'prepare');
  assert.equal(code, 'E_UNEXPECTED');
  assert.match(message, /prep-h/);
  assert.match(message, /\blive\b/);
  await nothingOpened(bed.server, result.connections);
});

test("a name outside the handler's allowed endpoints rejects with E_ACCESSDENIED, also through the default; an allowed one opens", async (bed) => {
  const m = managerFor(bed, [scripted('limited-h', { endpoints: ['api'] })]);
  const script: Script = {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'establish', name: null }, // the default, `live`, is not allowed either
      { op: 'establish', name: 'api' },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'limited-h': script } } });
  const result = await session.done;

  for (const i of [0, 1]) {
    const { code, message } = await refusal(bed, session.id, 'limited-h', i);
    assert.equal(code, 'E_ACCESSDENIED');
    assert.ok(message.includes("'live'") && message.includes('limited-h'), message);
  }
  assert.deepEqual((await bed.reports.stepOf(session.id, 'limited-h', 2)).value, { name: 'api', kind: 'fetch', protocol: '' });
  assert.deepEqual(result.connections.map((c) => c.name), ['api']);
  assert.deepEqual((await bed.server.state()).sockets, []);
});

test('asking for the wrong kind of channel, or a kind that does not exist, rejects with E_INVALIDARG and opens nothing', async (bed) => {
  const m = managerFor(bed, [scripted('kind-h')]);
  const opened: string[] = [];
  m.addEventListener('connectionopen', (e) => opened.push(e.name));
  const script: Script = { steps: [{ op: 'establish', name: 'live', kind: 'fetch' }, { op: 'establish', name: 'api', kind: 'websocket' }, { op: 'establish', name: 'live', kind: 'ws' as 'fetch' }] };
  const session = m.synchronize({ cookie: { scripts: { 'kind-h': script } } });
  const result = await session.done;

  const wrong = await refusal(bed, session.id, 'kind-h', 0);
  assert.equal(wrong.code, 'E_INVALIDARG');
  assert.match(wrong.message, /endpoint 'live' is a websocket endpoint/);
  assert.match(wrong.message, /Handler 'kind-h'/);
  const wrongFetch = await refusal(bed, session.id, 'kind-h', 1);
  assert.equal(wrongFetch.code, 'E_INVALIDARG');
  assert.match(wrongFetch.message, /endpoint 'api' is a fetch endpoint/);
  const unknown = await refusal(bed, session.id, 'kind-h', 2);
  assert.equal(unknown.code, 'E_INVALIDARG');
  assert.match(unknown.message, /kind "ws"/);
  assert.deepEqual(opened, []);
  await nothingOpened(bed.server, result.connections);
});

test('a server that is not there: the websocket and a fetch endpoint with a probe reject with E_FAIL naming the endpoint, the handler and the cause', async (bed) => {
  // A server that listened on this port and stopped: nothing answers there now.
  const gone = await startEndpointServer();
  await gone.close();
  const m = bed.manager({
    endpoints: {
      live: { kind: 'websocket', url: `${gone.origin.replace(/^http/, 'ws')}/t/${bed.server.tenant}/ws/live` },
      api: { kind: 'fetch', url: `${gone.origin}/t/${bed.server.tenant}/api/`, probe: 'health', retry: { retries: 0 } },
    },
    handlers: [scripted('away-h')],
  });
  const errors: [string, string | undefined][] = [];
  m.addEventListener('connectionerror', (e) => errors.push([e.name, (e.error as { code?: string } | null)?.code]));
  const session = m.synchronize({ cookie: { scripts: { 'away-h': { steps: [{ op: 'establish', name: 'live' }, { op: 'establish', name: 'api' }] } } } });
  const result = await session.done;

  const causes: [string, RegExp][] = [['live', /could not connect \(close code 1006\)/], ['api', /the probe "health" \(at http:\/\/127\.0\.0\.1:\d+\) failed: fetch failed/]];
  for (const [i, [name, cause]] of causes.entries()) {
    const { code, message } = await refusal(bed, session.id, 'away-h', i);
    assert.equal(code, 'E_FAIL');
    assert.ok(message.includes(`'${name}'`) && message.includes('away-h'), message);
    assert.match(message, cause);
  }
  assert.deepEqual(errors, [['live', 'E_FAIL'], ['api', 'E_FAIL']]);
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  assert.deepEqual(result.connections, []);
});

test('misuse-handler.ts gets every refusal with its code, each message naming the endpoint and the handler', async (bed) => {
  const { reports } = bed;
  const m = managerFor(bed, [{ id: 'misuse', worker: misuseWorker, endpoints: ['api'] }, scripted('keeper')]);
  const session = m.synchronize({ cookie: { scripts: { keeper: { steps: [{ op: 'wait' }] } } } });

  // Reported on the fixture channel, since logging is refused after synchronize too.
  const after = await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'misuse' && r.phase === 'after');
  assert.equal(session.state, 'running');
  await reports.wait((x) => x.sessionId === session.id && x.handlerId === 'keeper' && x.phase === 'synchronize');
  reports.release(session.id, 'keeper');
  const result = await session.done;

  assert.equal(after.ok, false);
  assert.equal(after.error?.code, 'E_UNEXPECTED');
  assert.match(after.error!.message, /misuse/);
  assert.match(after.error!.message, /\bapi\b/);
  const logged = new Map(m.log().filter((e) => e.handlerId === 'misuse').map((e) => [e.errorId, e.text]));
  const expected: [label: string, code: string, names: RegExp][] = [
    ['establish-in-prepare', 'E_UNEXPECTED', /\bapi\b/],
    ['unknown-name', 'E_INVALIDARG', /'nope'/],
    ['number-name', 'E_INVALIDARG', /42/],
    ['object-name', 'E_INVALIDARG', /object/],
    ['not-allowed', 'E_ACCESSDENIED', /'live'/],
  ];
  for (const [label, code, names] of expected) {
    const text = logged.get(label) ?? '';
    assert.ok(text.startsWith(`${label}: ${code}: `), `${label}: ${text}`);
    const message = text.slice(`${label}: ${code}: `.length);
    assert.match(message, /misuse/, label);
    assert.match(message, names, label);
  }
  await nothingOpened(bed.server, result.connections);
});
