import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../fixtures/harness.ts';
import type { Report } from '../fixtures/harness.ts';
import type { SocketScenario } from '../../workers/fixtures/socket-handler.ts';
import { SyncError, type ConnectionEvent } from '../../src/index.ts';

const socketWorker = () => new Worker(new URL('../../workers/fixtures/socket-handler.ts', import.meta.url), { type: 'module' });

const bed = testBed();

let sessionId = '';
/**
 * The first report `name` of a handler of the current session (workers of earlier tests may still be talking),
 * within the reports' default bound unless given: the first report waits for the worker's start.
 */
function phase(handlerId: string, name: string, timeout?: number): Promise<Report> {
  return bed.reports.wait((r) => r.sessionId === sessionId && r.handlerId === handlerId && r.phase === name, timeout);
}

function of(handlerId: string, name: string): Report[] {
  return bed.reports.of(handlerId, name).filter((r) => r.sessionId === sessionId);
}

test('a socket dropped mid-session reconnects; frames sent during the outage reach the server after it, in order', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
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
  const states: (string | null)[] = [];
  m.addEventListener('connectionstate', (e: ConnectionEvent) => states.push(e.state));
  const scenario: SocketScenario = { mode: 'outage', endpoint: 'live', frames: ['q1', 'q2', 'q3'] };
  const session = m.synchronize({ cookie: { s: scenario } });
  sessionId = session.id;
  await phase('s', 'established');
  await server.waitFor((s) => s.sockets.length === 1 && s.sockets[0]!.open);
  expect(await server.drop('live')).toBe(1);

  const queued = await phase('s', 'queued');
  expect(queued.value).toEqual({ bufferedAmount: 6, readyState: 0 });
  expect((await phase('s', 'echo')).value).toBe('after');

  const state = await server.waitFor((s) => s.sockets.length === 2 && s.sockets[1]!.received.length === 4 && s);
  expect(state.sockets[0]!.closeCode).toBe(1006);
  expect(state.sockets[1]!.received).toEqual(['q1', 'q2', 'q3', 'after']);
  // The url and protocols functions ran again for the reconnect: a fresh token per attempt.
  expect(connects).toBe(2);
  expect(state.sockets.map((s) => s.protocol)).toEqual(['token-1', 'token-2']);
  expect(of('s', 'state').map((r) => r.value)).toEqual(['reconnecting', 'open']);
  expect(states).toEqual(['reconnecting', 'open']);

  reports.release(session.id, 's');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1000, unsentFrames: 0 }]);
  expect(states.at(-1)).toBe('closed');
  await server.waitFor((s) => s.sockets.every((x) => !x.open));
  await noLiveWorkers();
});

test('the url function runs again at every reconnect', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const tokens: string[] = [];
  const m = bed.manager({
    endpoints: {
      live: {
        kind: 'websocket',
        url: async () => {
          tokens.push(`t${tokens.length + 1}`);
          return `${server.wsUrl('live')}?token=${tokens.at(-1)}`;
        },
        reconnect: { minDelay: 20, maxDelay: 50 },
      },
    },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const session = m.synchronize({ cookie: { s: { mode: 'listen', endpoint: 'live' } satisfies SocketScenario } });
  sessionId = session.id;
  await phase('s', 'established');
  for (let drop = 1; drop <= 2; drop++) {
    await server.waitFor((s) => s.sockets.filter((x) => x.open).length === 1);
    await server.drop('live');
    await server.waitFor((s) => s.sockets.length === drop + 1 && s.sockets[drop]!.open);
  }
  expect(tokens).toEqual(['t1', 't2', 't3']);
  reports.release(session.id, 's');
  await session.done;
});

test('reconnecting gives up after `retries` attempts: the connection fails and the channel hears it', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { retries: 2, minDelay: 20, maxDelay: 40 } } },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const errors: string[] = [];
  const states: (string | null)[] = [];
  m.addEventListener('connectionstate', (e) => states.push(e.state));
  m.addEventListener('connectionclose', (e) => errors.push(`close ${e.code}`));
  const session = m.synchronize({ cookie: { s: { mode: 'listen', endpoint: 'live' } satisfies SocketScenario } });
  sessionId = session.id;
  await phase('s', 'established');
  await server.waitFor((s) => s.sockets[0]?.open);
  await server.faults({ refuse: ['live'] });
  expect(await server.drop('live')).toBe(1);
  const close = await phase('s', 'close');
  expect(close.value).toMatchObject({ code: 1006 });
  expect(of('s', 'state').map((r) => r.value)).toEqual(['reconnecting', 'failed']);
  expect(states).toEqual(['reconnecting', 'failed']);
  expect(errors).toEqual(['close 1006']);
  reports.release(session.id, 's');
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1006 }]);
  // One socket, then two refused attempts: nothing more.
  expect((await server.state()).sockets).toHaveLength(1);
});

test('frames beyond the reconnect queue are refused with E_OUTOFMEMORY, and queued frames come back unsent when it fails', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { retries: 1, minDelay: 300, maxDelay: 300 }, sendBuffer: { maxQueuedFrames: 3 } } },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const session = m.synchronize({ cookie: { s: { mode: 'overflow', endpoint: 'live' } satisfies SocketScenario } });
  sessionId = session.id;
  await phase('s', 'established');
  await server.waitFor((s) => s.sockets[0]?.open);
  await server.faults({ refuse: ['live'] });
  expect(await server.drop('live')).toBe(1);
  const refused = await phase('s', 'refused');
  const { sent, error } = refused.value as { sent: number; error: { code: string; message: string } };
  expect(sent).toBe(3);
  expect(error.code).toBe('E_OUTOFMEMORY');
  expect(error.message).toContain("endpoint 'live'");
  expect(error.message).toContain('sendBuffer.maxQueuedFrames');
  const close = await phase('s', 'close');
  expect(close.value).toEqual({ code: 1006, unsent: ['q0', 'q1', 'q2'] });
  reports.release(session.id, 's');
  const result = await session.done;
  expect((await server.state()).sockets[0]!.received).toEqual([]);
  // The three frames waited in the worker's channel, and the session result counts them too
  // (the fourth, refused by send() itself, never left the handler's hands).
  expect(result.connections).toMatchObject([{ name: 'live', unsentFrames: 3 }]);
});

test('a server that never completes the upgrade fails within the connect timeout with a clear error', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  await server.faults({ hang: ['slow'] });
  const m = bed.manager({
    endpoints: { slow: { kind: 'websocket', url: server.wsUrl('slow'), connectTimeout: 300 } },
    handlers: [scripted('h')],
  });
  const started = performance.now();
  const session = m.synchronize({ cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'slow' }] } } } });
  sessionId = session.id;
  const step = await reports.waitStep('h', 0);
  const elapsed = performance.now() - started;
  expect(step.ok).toBe(false);
  expect(step.error).toMatchObject({ code: 'E_TIMEOUT' });
  expect(step.error!.message).toContain("Endpoint 'slow'");
  expect(step.error!.message).toContain('longer than 300 ms');
  expect(elapsed).toBeLessThan(3000);
  await session.done;
});

test('route() picks which handlers of a shared socket receive a frame; one that throws sends it to all and says so', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: {
      live: {
        kind: 'websocket',
        url: server.wsUrl('live'),
        route: (frame) => {
          if (typeof frame !== 'string') return null;
          if (frame === 'boom') throw new Error('route broke');
          return frame.startsWith('to:') ? frame.slice(3, 4) : null;
        },
      },
    },
    handlers: [{ id: 'a', worker: socketWorker }, { id: 'b', worker: socketWorker }],
  });
  const errors: string[] = [];
  m.addEventListener('connectionerror', (e) => errors.push(`${e.name}: ${SyncError.is(e.error) ? e.error.code : ''} ${e.error?.message}`));
  const listen: SocketScenario = { mode: 'listen', endpoint: 'live' };
  const session = m.synchronize({ cookie: { a: listen, b: listen } });
  sessionId = session.id;
  await phase('a', 'established');
  await phase('b', 'established');
  for (const frame of ['to:a one', 'to:b two', 'everyone', 'boom']) await server.send(frame, 'live');
  await reports.wait((r) => r.sessionId === sessionId && r.handlerId === 'a' && r.value === 'boom');
  await reports.wait((r) => r.sessionId === sessionId && r.handlerId === 'b' && r.value === 'boom');
  expect(of('a', 'frame').map((r) => r.value)).toEqual(['to:a one', 'everyone', 'boom']);
  expect(of('b', 'frame').map((r) => r.value)).toEqual(['to:b two', 'everyone', 'boom']);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^live: E_FAIL .*route\(\) threw.*route broke/);
  expect((await server.state()).sockets).toHaveLength(1);
  reports.release(session.id, 'a');
  reports.release(session.id, 'b');
  await session.done;
});

test('backpressure: awaited sends follow the network, and a handler that does not await is stopped at sendBuffer.maxBytes', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const highWaterMark = 256 * 1024;
  const maxBytes = 1024 * 1024;
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('sink'), sendBuffer: { highWaterMark, maxBytes } } },
    handlers: [{ id: 's', worker: socketWorker }],
  });
  const scenario: SocketScenario = { mode: 'flood', endpoint: 'live', count: 128, size: 65536 };
  const session = m.synchronize({ cookie: { s: scenario } });
  sessionId = session.id;
  const awaited = (await phase('s', 'awaited', 20_000)).value as { peak: number; waited: number };
  // Never more than the high-water mark plus one frame on its way; and sends really waited.
  expect(awaited.peak).toBeLessThanOrEqual(highWaterMark + 65536);
  expect(awaited.waited).toBeGreaterThan(0);
  const refused = (await phase('s', 'refused', 20_000)).value as { sent: number; bufferedAmount: number; error: { code: string; message: string } };
  expect(refused.error.code).toBe('E_OUTOFMEMORY');
  expect(refused.error.message).toContain('sendBuffer.maxBytes');
  expect(refused.bufferedAmount).toBeLessThanOrEqual(maxBytes);
  expect(refused.sent).toBeLessThanOrEqual(maxBytes / 65536);
  // Every frame the handler was allowed to send reaches the server.
  const expected = (128 + refused.sent) * 65536;
  await server.waitFor((s) => s.sockets[0]!.receivedBytes === expected, 20_000);
  reports.release(session.id, 's');
  await session.done;
});
