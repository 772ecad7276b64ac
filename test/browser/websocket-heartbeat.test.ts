import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { testBed } from '../fixtures/harness.ts';
import type { SocketScenario } from '../../workers/fixtures/socket-handler.ts';
import { HEARTBEAT_CLOSE_CODE } from '../../src/index.ts';

const socketWorker = () => new Worker(new URL('../../workers/fixtures/socket-handler.ts', import.meta.url), { type: 'module' });

const bed = testBed();

// The pong timeout is far above a pong's way on a busy machine (Firefox relays frames through a slow
// main thread), so only a silent server makes the socket drop; the test waits on the server, not on time.
test('the heartbeat keeps a live socket, finds a silent one, drops it with 4000 and reconnects', { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: {
      live: { kind: 'websocket', url: server.wsUrl('live'), heartbeat: { interval: 150, timeout: 3000 }, reconnect: { minDelay: 20, maxDelay: 40 } },
    },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const states: (string | null)[] = [];
  m.addEventListener('connectionstate', (e) => states.push(e.state));
  const session = m.synchronize({ cookie: { s: { mode: 'listen', endpoint: 'live' } satisfies SocketScenario } });
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'established');

  // A server that answers (it echoes the pings) keeps the socket: pings go out, no reconnect.
  const pinged = await server.waitFor((s) => s.sockets[0]!.received.filter((f) => f === 'ping').length >= 2 && s, 20_000);
  expect(pinged.sockets).toHaveLength(1);
  expect(states).toEqual([]);

  // A silent server: the next ping gets no answer, the socket is dropped and replaced.
  await server.faults({ mute: ['live'] });
  const dropped = await server.waitFor((s) => s.sockets[0]!.closeCode !== null && s, 20_000);
  expect(dropped.sockets[0]!.closeCode).toBe(HEARTBEAT_CLOSE_CODE);
  await server.faults({ mute: [] });
  await server.waitFor((s) => s.sockets.some((x, i) => i > 0 && x.open));
  expect(states.slice(0, 2)).toEqual(['reconnecting', 'open']);
  // Pongs (here: echoed pings) never reach the handler: once the worker has answered a flush, a frame it got would have been reported.
  await reports.flush(session.id, 's');
  expect(reports.all.filter((r) => r.sessionId === session.id && r.phase === 'frame')).toEqual([]);
  reports.release(session.id, 's');
  await session.done;
});

// README "Heartbeat": a ping goes after `interval` ms without a frame, so an answered ping is followed by the
// next one `interval` after its answer. With a pong timeout of 2 minutes, a second ping that waited for the
// timeout to run out (as it once did) would not come within the test's bound.
test('an answered ping is followed by the next one an interval after the answer, not after the pong timeout', { timeout: 60_000 }, async () => {
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), heartbeat: { interval: 100, timeout: 120_000 } } },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const session = m.synchronize({ cookie: { s: { mode: 'listen', endpoint: 'live' } satisfies SocketScenario } });
  await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'established');
  const pinged = await server.waitFor((s) => s.sockets[0]!.received.filter((f) => f === 'ping').length >= 3 && s, 30_000);
  expect(pinged.sockets).toHaveLength(1);
  bed.reports.release(session.id, 's');
  await session.done;
});
