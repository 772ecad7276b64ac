// Issue 3's reconnecting WebSocket under Deno, with socket-handler.ts against
// the demo's endpoint server, which cuts the socket's TCP connection without
// a close frame: the connection reconnects with a fresh url and protocols,
// frames the handler sent during the outage reach the server after it, in
// order; with the server refusing, it gives up after `retries` attempts and
// the handler's channel hears it (websocket-reconnect.test.ts in the browser).
import assert from 'node:assert/strict';
import type { ConnectionState } from '../../src/index.ts';
import type { Report } from '../../workers/fixtures/script.ts';
import type { SocketScenario } from '../../workers/fixtures/socket-handler.ts';
import { test, type Bed } from './bed.ts';

const socketWorker = () => new Worker(new URL('../../workers/fixtures/socket-handler.ts', import.meta.url), { type: 'module' });

/** The first report `phase` of handler `s` in the session, within the reports' default bound unless given (the first waits for the worker's start). */
function phase(bed: Bed, sessionId: string, name: string, timeout?: number): Promise<Report> {
  return bed.reports.wait((r) => r.sessionId === sessionId && r.handlerId === 's' && r.phase === name, timeout);
}

function all(bed: Bed, sessionId: string, name: string): unknown[] {
  return bed.reports.all.filter((r) => r.sessionId === sessionId && r.handlerId === 's' && r.phase === name).map((r) => r.value);
}

test('a socket dropped mid-session reconnects with a fresh url and protocols; frames sent during the outage reach the server after it, in order', async (bed) => {
  const { server } = bed;
  let connects = 0;
  const m = bed.manager({
    endpoints: {
      live: {
        kind: 'websocket',
        url: () => {
          connects++;
          return server.wsUrl('live');
        },
        protocols: async () => [`token-${connects}`],
        reconnect: { minDelay: 50, maxDelay: 200 },
      },
    },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const states: (ConnectionState | null)[] = [];
  m.addEventListener('connectionstate', (e) => states.push(e.state));
  const scenario: SocketScenario = { mode: 'outage', endpoint: 'live', frames: ['q1', 'q2', 'q3'] };
  const session = m.synchronize({ cookie: { s: scenario } });
  await phase(bed, session.id, 'established');
  await server.waitFor((s) => s.sockets.length === 1 && s.sockets[0]!.open);
  assert.equal(await server.drop('live'), 1);

  assert.deepEqual((await phase(bed, session.id, 'queued')).value, { bufferedAmount: 6, readyState: 0 });
  assert.equal((await phase(bed, session.id, 'echo')).value, 'after');

  const state = await server.waitFor((s) => s.sockets.length === 2 && s.sockets[1]!.received.length === 4 && s);
  assert.equal(state.sockets[0]!.closeCode, 1006);
  assert.deepEqual(state.sockets[1]!.received, ['q1', 'q2', 'q3', 'after']);
  // The url and protocols functions ran again for the reconnect: a fresh token per attempt.
  assert.equal(connects, 2);
  assert.deepEqual(state.sockets.map((s) => s.protocol), ['token-1', 'token-2']);
  assert.deepEqual(all(bed, session.id, 'state'), ['reconnecting', 'open']);
  assert.deepEqual(states, ['reconnecting', 'open']);

  bed.reports.release(session.id, 's');
  const result = await session.done;
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode, c.unsentFrames]), [['live', 1000, 0]]);
  assert.equal(states.at(-1), 'closed');
  const closed = await server.waitFor((s) => s.sockets.every((x) => !x.open) && s);
  assert.deepEqual(closed.sockets.map((s) => s.closeCode), [1006, 1000]);
});

test('reconnecting gives up after `retries` attempts: the connection fails and the channel hears it', async (bed) => {
  const { server } = bed;
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { retries: 2, minDelay: 20, maxDelay: 40 } } },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const states: (ConnectionState | null)[] = [];
  const closes: (number | null)[] = [];
  m.addEventListener('connectionstate', (e) => states.push(e.state));
  m.addEventListener('connectionclose', (e) => closes.push(e.code));
  const session = m.synchronize({ cookie: { s: { mode: 'listen', endpoint: 'live' } satisfies SocketScenario } });
  await phase(bed, session.id, 'established');
  await server.waitFor((s) => s.sockets[0]?.open);
  await server.faults({ refuse: ['live'] });
  assert.equal(await server.drop('live'), 1);

  // The drop had no close frame: 1006, as in browsers (Deno's own close event says 0, see platform.test.ts).
  const close = (await phase(bed, session.id, 'close')).value as { code: number };
  assert.equal(close.code, 1006);
  assert.deepEqual(all(bed, session.id, 'state'), ['reconnecting', 'failed']);
  assert.deepEqual(states, ['reconnecting', 'failed']);
  assert.deepEqual(closes, [1006]);
  bed.reports.release(session.id, 's');
  const result = await session.done;
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode]), [['live', 1006]]);
  // One socket was ever open: the refused attempts never got past the upgrade.
  assert.deepEqual((await server.state()).sockets.map((s) => [s.open, s.closeCode]), [[false, 1006]]);
});
