/**
 * Chaos, the server's side of a WebSocket endpoint: upgrades refused, never
 * answered or impossible; the server closing with every kind of code, with
 * reconnecting on and off; drops (no close frame, 1006), also while a
 * reconnect is under way; a silent server found by the heartbeat; frames of
 * 64 and 256 MiB. Each case asserts what the README documents (the
 * SyncError code, the channel's states and close code, what the server
 * recorded) and ends with no hang and no leak (cases.ts, `ended`).
 */
import { expect, test } from 'vitest';
import { testBed } from '../../fixtures/harness.ts';
import { TestServer, type Faults } from '../../fixtures/server.ts';
import type { Step } from '../../../workers/fixtures/script.ts';
import type { WebSocketEndpoint } from '../../../src/index.ts';
import { ended, start, STEP_BOUND_MS, value } from './cases.ts';

const bed = testBed();

/** Reconnects at once, so the cases do not wait for the default backoff. */
const FAST = { minDelay: 20, maxDelay: 50, jitter: 0 };

function live(server: TestServer, extra: Partial<WebSocketEndpoint> = {}): { live: WebSocketEndpoint } {
  return { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: FAST, ...extra } };
}

interface History {
  states: string[];
  close: { code: number; wasClean: boolean; unsent: unknown[] } | null;
}

// ---- upgrades that never open: establishConnection rejects at once, nothing is retried ----

const upgrades: { name: string; faults?: Partial<Faults>; endpoint?: (s: TestServer) => Partial<WebSocketEndpoint>; code: string }[] = [
  { name: 'refused with a 503', faults: { refuse: ['live'] }, code: 'E_FAIL' },
  { name: 'refused with a 503, reconnect off', faults: { refuse: ['live'] }, endpoint: () => ({ reconnect: false }), code: 'E_FAIL' },
  { name: 'never answered, past connectTimeout', faults: { hang: ['live'] }, endpoint: () => ({ connectTimeout: 300 }), code: 'E_TIMEOUT' },
  { name: 'answered 400 (an invalid channel name)', endpoint: (s) => ({ url: s.wsUrl('live').replace('/ws/live', '/ws/bad%20name') }), code: 'E_FAIL' },
  // Port 1: nothing listens, and browsers block it (some with an `error` and no `close`).
  { name: 'sent to a port nothing listens on', endpoint: () => ({ url: 'ws://127.0.0.1:1/nothing' }), code: 'E_FAIL' },
  { name: 'whose url function throws', endpoint: () => ({ url: () => { throw new Error('chaos: no token'); } }), code: 'E_FAIL' },
  { name: 'whose url function rejects', endpoint: () => ({ url: () => Promise.reject(new Error('chaos: no token')) }), code: 'E_FAIL' },
  { name: 'whose protocols function throws', endpoint: () => ({ protocols: () => { throw new Error('chaos: no protocol'); } }), code: 'E_FAIL' },
];

test.for(upgrades)('an upgrade $name: establishConnection rejects with $code naming the endpoint; no socket is left', async ({ faults, endpoint, code }) => {
  const server = TestServer.create();
  if (faults) await server.faults(faults);
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }] }, { endpoints: live(server, endpoint?.(server)) });
  const failed = await run.step(0);
  expect(failed.ok).toBe(false);
  expect(failed.error?.code).toBe(code);
  expect(failed.error?.message).toContain("'live'");
  const result = await ended(run.session, server);
  // The handler caught the rejection and returned: it decides, nothing is retried for it.
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect((await server.state()).sockets).toEqual([]);
});

// ---- the server closes the socket with a code ----

const CODES = [1000, 1001, 1008, 1011, 1012, 1013, 3000, 4000, 4001, 4999];

/**
 * What the engine itself makes of a server's close with `code`, measured with
 * a plain WebSocket against the same route of a tenant of its own: the code of
 * the page's `close` event, and the code the server got back in the client's
 * close frame. Engines differ here (a WebSocket stack that does not know a
 * registered code answers it as a protocol error), and the library must pass
 * on what the engine reports, not a code of its own.
 */
async function engineClose(code: number): Promise<{ page: number; server: number | null }> {
  const raw = TestServer.create();
  const page = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(raw.wsUrl('live'));
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`a plain WebSocket closed with ${code} by the server did not close within ${STEP_BOUND_MS} ms`));
    }, STEP_BOUND_MS);
    ws.onopen = () => ws.send(`!close ${code} chaos`);
    ws.onclose = (event) => {
      clearTimeout(timer);
      resolve(event.code);
    };
  });
  const [record] = await raw.waitFor((s) => s.sockets.length === 1 && !s.sockets[0]!.open && s.sockets, 10_000);
  return { page, server: record!.closeCode };
}

test.for(CODES)('the server closes with %i while the session needs the socket: reconnecting, then open; frames flow on the new socket', async (code) => {
  const server = TestServer.create();
  const steps: Step[] = [
    { op: 'establish', name: 'live' },
    { op: 'send', on: 'live', data: `!close ${code} chaos` },
    { op: 'await-state', on: 'live', state: 'open', count: 2 },
    { op: 'send', on: 'live', data: 'after' },
    { op: 'expect', on: 'live', count: 1 },
  ];
  const engine = await engineClose(code);
  const run = start(bed, { steps }, { endpoints: live(server) });
  expect(value<History>(await run.step(2)).states).toEqual(['open', 'reconnecting', 'open']);
  expect(value(await run.step(4))).toEqual(['after']);
  const result = await ended(run.session, server);
  const { sockets } = await server.state();
  expect(sockets.map((s) => [s.closeCode, s.closedBy])).toEqual([[engine.server, 'server'], [1000, 'client']]);
  expect(sockets[1]!.received).toEqual(['after']);
  expect(run.connections.filter((e) => e.type === 'connectionstate').map((e) => e.state)).toEqual(['reconnecting', 'open', 'closed']);
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1000, unsentFrames: 0 }]);
});

test.for(CODES)('the server closes with %i and reconnect is false: the channel closes with the code the engine reports for it (a plain WebSocket beside it); send() then throws E_UNEXPECTED', async (code) => {
  const server = TestServer.create();
  const steps: Step[] = [
    { op: 'establish', name: 'live' },
    { op: 'send', on: 'live', data: `!close ${code} chaos` },
    { op: 'await-state', on: 'live', state: 'closed' },
    { op: 'send', on: 'live', data: 'late' },
  ];
  const engine = await engineClose(code);
  const run = start(bed, { steps }, { endpoints: live(server, { reconnect: false }) });
  const history = value<History>(await run.step(2));
  expect(history.states).toEqual(['open', 'closed']);
  expect(history.close).toMatchObject({ code: engine.page, unsent: [] });
  const late = await run.step(3);
  expect([late.ok, late.error?.code]).toEqual([false, 'E_UNEXPECTED']);
  await ended(run.session, server);
  const { sockets } = await server.state();
  expect(sockets.map((s) => [s.closeCode, s.closedBy, s.received])).toEqual([[engine.server, 'server', [`!close ${code} chaos`]]]);
  expect(run.connections.filter((e) => e.type === 'connectionclose')).toHaveLength(1);
});

// ---- drops: the TCP connection ends without a close frame ----

test('a drop (1006) while the session needs the socket: reconnecting, then open, and the server gets the next frame on a new socket', async () => {
  const server = TestServer.create();
  const run = start(bed, {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'await-state', on: 'live', state: 'open', count: 2 },
      { op: 'send', on: 'live', data: 'after' },
      { op: 'expect', on: 'live', count: 1 },
    ],
  }, { endpoints: live(server) });
  value(await run.step(0));
  expect(await server.drop('live')).toBe(1);
  expect(value<History>(await run.step(1)).states).toEqual(['open', 'reconnecting', 'open']);
  expect(value(await run.step(3))).toEqual(['after']);
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => [s.closeCode, s.closedBy])).toEqual([[1006, 'server'], [1000, 'client']]);
});

test('a drop with reconnect false: the channel closes with 1006 and the connection record says so', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }, { op: 'await-state', on: 'live', state: 'closed' }] }, { endpoints: live(server, { reconnect: false }) });
  value(await run.step(0));
  expect(await server.drop('live')).toBe(1);
  const history = value<History>(await run.step(1));
  expect(history.states).toEqual(['open', 'closed']);
  expect(history.close?.code).toBe(1006);
  const result = await ended(run.session, server);
  expect(result.connections.map((c) => [c.name, c.closeCode])).toEqual([['live', 1006]]);
});

const duringReconnect: { name: string; faults: Partial<Faults>; endpoint: Partial<WebSocketEndpoint> }[] = [
  { name: 'every reconnect refused', faults: { refuse: ['live'] }, endpoint: { reconnect: { ...FAST, retries: 2 } } },
  { name: 'every reconnect never answered', faults: { hang: ['live'] }, endpoint: { reconnect: { ...FAST, retries: 2 }, connectTimeout: 200 } },
];

test.for(duringReconnect)('a drop, then $name: the connection fails after its retries, the channel closes, connectionclose is dispatched, send() throws E_UNEXPECTED', async ({ faults, endpoint }) => {
  const server = TestServer.create();
  const run = start(bed, {
    steps: [{ op: 'establish', name: 'live' }, { op: 'await-state', on: 'live', state: 'failed' }, { op: 'send', on: 'live', data: 'late' }],
  }, { endpoints: live(server, endpoint) });
  value(await run.step(0));
  await server.faults(faults);
  expect(await server.drop('live')).toBe(1);
  const history = value<History>(await run.step(1));
  expect(history.states).toEqual(['open', 'reconnecting', 'failed']);
  expect(history.close).not.toBeNull();
  const late = await run.step(2);
  expect([late.ok, late.error?.code]).toEqual([false, 'E_UNEXPECTED']);
  await ended(run.session, server);
  expect(run.connections.filter((e) => e.type === 'connectionstate').map((e) => e.state)).toEqual(['reconnecting', 'failed']);
  expect(run.connections.filter((e) => e.type === 'connectionclose')).toHaveLength(1);
  expect((await server.state()).sockets.map((s) => s.closeCode)).toEqual([1006]);
});

test('a drop while reconnects are refused, the refusal lifted meanwhile: the connection opens again', async () => {
  const server = TestServer.create();
  const run = start(bed, {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'await-state', on: 'live', state: 'reconnecting' },
      { op: 'await-state', on: 'live', state: 'open', count: 2 },
      { op: 'send', on: 'live', data: 'after' },
      { op: 'expect', on: 'live', count: 1 },
    ],
  }, { endpoints: live(server, { reconnect: { minDelay: 100, maxDelay: 100, jitter: 0, retries: 100 } }) });
  value(await run.step(0));
  await server.faults({ refuse: ['live'] });
  await server.drop('live');
  value(await run.step(1));
  await server.faults({ refuse: [] });
  expect(value<History>(await run.step(2)).states).toEqual(['open', 'reconnecting', 'open']);
  expect(value(await run.step(4))).toEqual(['after']);
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => s.closeCode)).toEqual([1006, 1000]);
});

test('the socket of a reconnect dropped too: reconnecting again, and open on a third socket', async () => {
  const server = TestServer.create();
  const run = start(bed, {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'await-state', on: 'live', state: 'open', count: 2 },
      { op: 'await-state', on: 'live', state: 'open', count: 3 },
      { op: 'send', on: 'live', data: 'third' },
      { op: 'expect', on: 'live', count: 1 },
    ],
  }, { endpoints: live(server) });
  value(await run.step(0));
  await server.drop('live');
  value(await run.step(1));
  await server.waitFor((s) => s.sockets.length === 2 && s.sockets[1]!.open, 10_000);
  await server.drop('live');
  expect(value<History>(await run.step(2)).states).toEqual(['open', 'reconnecting', 'open', 'reconnecting', 'open']);
  expect(value(await run.step(4))).toEqual(['third']);
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => s.closeCode)).toEqual([1006, 1006, 1000]);
});

// ---- a silent server ----

test('a server gone silent is found by the heartbeat: the socket is closed with 4000 and reconnected', async () => {
  const server = TestServer.create();
  await server.faults({ mute: ['live'] });
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }, { op: 'await-state', on: 'live', state: 'reconnecting' }] }, {
    endpoints: live(server, { heartbeat: { interval: 100, timeout: 100, ping: 'chaos-ping' } }),
  });
  expect(value<History>(await run.step(1)).states).toEqual(['open', 'reconnecting']);
  await ended(run.session, server);
  const first = (await server.state()).sockets[0]!;
  expect([first.closeCode, first.closedBy]).toEqual([4000, 'client']);
  expect(first.received).toContain('chaos-ping');
});

test('a server gone silent, reconnect false: the heartbeat closes the channel with 4000', async () => {
  const server = TestServer.create();
  await server.faults({ mute: ['live'] });
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }, { op: 'await-state', on: 'live', state: 'closed' }] }, {
    endpoints: live(server, { reconnect: false, heartbeat: { interval: 100, timeout: 100 } }),
  });
  expect(value<History>(await run.step(1)).close?.code).toBe(4000);
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => [s.closeCode, s.closedBy])).toEqual([[4000, 'client']]);
});

// ---- very large frames ----

const MiB = 1024 * 1024;
/**
 * Moving hundreds of MiB between threads and processes takes far longer on a busy machine than anything else
 * here, and the engine may still be collecting the previous case's buffers when the next worker starts.
 */
const LARGE = { timeout: 180_000 };
const LARGE_STEP_MS = 150_000;

test.for([64 * MiB, 256 * MiB])('a binary frame of %i bytes from the server reaches the handler whole', LARGE, async (bytes) => {
  const server = TestServer.create();
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }, { op: 'expect', on: 'live', count: 1 }] }, { endpoints: live(server) });
  value(await run.step(0, 'step', LARGE_STEP_MS));
  const sent = await fetch(`${server.apiUrl}chaos/frame?bytes=${bytes}&channel=live`);
  expect(await sent.json()).toEqual({ sent: 1 });
  expect(value(await run.step(1, 'step', LARGE_STEP_MS))).toEqual([{ binary: bytes }]);
  await ended(run.session, server);
});

test('a binary frame of 64 MiB from the handler, under a sendBuffer.maxBytes of 128 MiB, reaches the server whole, and its echo comes back whole', LARGE, async () => {
  const server = TestServer.create();
  const run = start(bed, {
    steps: [{ op: 'establish', name: 'live' }, { op: 'send', on: 'live', binary: 64 * MiB }, { op: 'expect', on: 'live', count: 1 }],
  }, { endpoints: live(server, { sendBuffer: { maxBytes: 128 * MiB } }) });
  expect(value(await run.step(2, 'step', LARGE_STEP_MS))).toEqual([{ binary: 64 * MiB }]);
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => [s.receivedCount, s.receivedBytes])).toEqual([[1, 64 * MiB]]);
});

test('a binary frame of 64 MiB from the handler, over the default sendBuffer.maxBytes (16 MiB): send() throws E_OUTOFMEMORY naming the limit; nothing reaches the server', LARGE, async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [{ op: 'establish', name: 'live' }, { op: 'send', on: 'live', binary: 64 * MiB }] }, { endpoints: live(server) });
  const refused = await run.step(1, 'step', LARGE_STEP_MS);
  expect([refused.ok, refused.error?.code]).toEqual([false, 'E_OUTOFMEMORY']);
  expect(refused.error?.message).toContain('maxBytes');
  await ended(run.session, server);
  expect((await server.state()).sockets.map((s) => [s.receivedCount, s.closeCode])).toEqual([[0, 1000]]);
});
