// DESIGN.md §2 rules 3 and 4: the same name gives every handler of a session
// the same underlying connection (one socket, one attempt), frames flow both
// ways for every handler; a later call for another name opens it without
// disturbing the connections already open, and its failure leaves them alone.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed, type Script, allClosed } from '../fixtures/harness.ts';
import type { ConnectionEvent } from '../../src/index.ts';
import { deferred } from '../../src/internal/deferred.ts';

const bed = testBed();

const sorted = (values: unknown): string[] => [...(values as unknown[])].map(String).sort();

test('two handlers establishing the same websocket one after the other share one socket, and frames flow both ways for both', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [scripted('first'), scripted('second')] });
  const first: Script = {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'wait' },
      { op: 'send', on: 'live', data: 'from-first' },
      { op: 'expect', on: 'live', count: 3 },
    ],
  };
  const second: Script = {
    steps: [
      { op: 'wait' },
      { op: 'establish', name: 'live' },
      { op: 'send', on: 'live', data: 'from-second' },
      { op: 'expect', on: 'live', count: 3 },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { first, second } } });

  await reports.stepOf(session.id, 'first', 0);
  const before = await server.state();
  expect(before.sockets.map((s) => [s.channel, s.open])).toEqual([['live', true]]);

  // `second` listens for its release once it reported entering synchronize (its first step is the wait).
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'second' && r.phase === 'synchronize');
  reports.release(session.id, 'second');
  await reports.stepOf(session.id, 'second', 1);
  const after = await server.state();
  expect(after.sockets.map((s) => [s.id, s.open])).toEqual([[before.sockets[0]!.id, true]]);
  // One socket on the server: one send reaches it, and through it both handlers.
  expect(await server.send('from-server', 'live')).toBe(1);
  reports.release(session.id, 'first');
  const result = await session.done;

  expect(await reports.failures(session.id, 'first', 'second')).toEqual([]);
  const everything = ['from-first', 'from-second', 'from-server'];
  expect(sorted((await reports.stepOf(session.id, 'first', 3)).value)).toEqual(everything);
  expect(sorted((await reports.stepOf(session.id, 'second', 3)).value)).toEqual(everything);
  expect(result.connections.map((c) => [c.name, c.handlers])).toEqual([['live', ['first', 'second']]]);
  const state = await allClosed(server);
  expect(state.sockets).toHaveLength(1);
  expect(sorted(state.sockets[0]!.received)).toEqual(['from-first', 'from-second']);
  expect(state.sockets[0]!.closeCode).toBe(1000);
  await noLiveWorkers();
});

test('two handlers establishing the same websocket at the same moment share one attempt and one socket', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // The url function runs once per connection attempt; holding it keeps the first attempt pending while the second call arrives.
  let attempts = 0;
  const asked = deferred<void>();
  const gate = deferred<void>();
  const m = bed.manager({
    endpoints: {
      live: {
        kind: 'websocket',
        url: async () => {
          attempts += 1;
          asked.resolve();
          await gate.promise;
          return server.wsUrl('live');
        },
      },
    },
    handlers: [scripted('left'), scripted('right')],
  });
  const script = (data: string): Script => ({
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'send', on: 'live', data },
      { op: 'expect', on: 'live', count: 3 },
    ],
  });
  const session = m.synchronize({ cookie: { scripts: { left: script('from-left'), right: script('from-right') } } });

  // Both handlers are in synchronize, whose first step is the establish call.
  await Promise.all(['left', 'right'].map((h) => reports.wait((r) => r.sessionId === session.id && r.handlerId === h && r.phase === 'synchronize')));
  await asked.promise;
  // A short bounded wait for the second call to reach the manager while the first attempt is held.
  await new Promise((r) => setTimeout(r, 150));
  // Neither establish step has returned: after both workers answered a flush, its report would be here.
  await Promise.all(['left', 'right'].map((h) => reports.flush(session.id, h)));
  expect(reports.all.filter((r) => r.sessionId === session.id && r.phase === 'step')).toEqual([]);
  expect(attempts).toBe(1);
  gate.resolve();

  await Promise.all([reports.stepOf(session.id, 'left', 0), reports.stepOf(session.id, 'right', 0)]);
  expect(await server.send('from-server', 'live')).toBe(1);
  const result = await session.done;

  expect(await reports.failures(session.id, 'left', 'right')).toEqual([]);
  expect(attempts).toBe(1);
  const everything = ['from-left', 'from-right', 'from-server'];
  expect(sorted((await reports.stepOf(session.id, 'left', 2)).value)).toEqual(everything);
  expect(sorted((await reports.stepOf(session.id, 'right', 2)).value)).toEqual(everything);
  expect(result.connections).toHaveLength(1);
  expect(sorted(result.connections[0]!.handlers)).toEqual(['left', 'right']);
  const state = await allClosed(server);
  expect(state.sockets).toHaveLength(1);
  expect(sorted(state.sockets[0]!.received)).toEqual(['from-left', 'from-right']);
  expect(state.sockets[0]!.closeCode).toBe(1000);
  await noLiveWorkers();
});

test('a later call for another name opens it without disturbing the first socket, which keeps flowing while the second connects', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const asked = deferred<void>();
  const gate = deferred<void>();
  const m = bed.manager({
    endpoints: {
      live: { kind: 'websocket', url: server.wsUrl('live') },
      other: {
        kind: 'websocket',
        url: async () => {
          asked.resolve();
          await gate.promise;
          return server.wsUrl('other');
        },
      },
    },
    handlers: [scripted('worker-h')],
  });
  const script: Script = {
    steps: [
      { op: 'establish', name: 'live' }, // 0
      { op: 'send', on: 'live', data: 'a1' }, // 1
      { op: 'expect', on: 'live', count: 1 }, // 2
      { op: 'send', on: 'live', data: 'a2' }, // 3
      { op: 'expect', on: 'live', count: 2 }, // 4
      { op: 'establish', name: 'other' }, // 5
      { op: 'send', on: 'live', data: 'a3' }, // 6
      { op: 'expect', on: 'live', count: 4 }, // 7
      { op: 'send', on: 'other', data: 'b1' }, // 8
      { op: 'expect', on: 'other', count: 1 }, // 9
      { op: 'send', on: 'live', data: 'a4' }, // 10
      { op: 'expect', on: 'live', count: 5 }, // 11
      { op: 'wait' }, // 12
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'worker-h': script } } });

  await asked.promise;
  // While `other` is connecting, the first socket still delivers.
  expect(await server.send('during-connect', 'live')).toBe(1);
  gate.resolve();

  expect((await reports.stepOf(session.id, 'worker-h', 7)).value).toEqual(['a1', 'a2', 'during-connect', 'a3']);
  expect((await reports.stepOf(session.id, 'worker-h', 9)).value).toEqual(['b1']);
  expect((await reports.stepOf(session.id, 'worker-h', 11)).value).toEqual(['a1', 'a2', 'during-connect', 'a3', 'a4']);
  const during = await server.state();
  const live = during.sockets.filter((s) => s.channel === 'live');
  expect(live).toHaveLength(1);
  expect(live[0]).toMatchObject({ open: true, closeCode: null, closedAt: null, received: ['a1', 'a2', 'a3', 'a4'] });
  expect(during.sockets.filter((s) => s.channel === 'other').map((s) => [s.open, s.received])).toEqual([[true, ['b1']]]);
  expect(session.openConnections().sort()).toEqual(['live', 'other']);

  reports.release(session.id, 'worker-h');
  const result = await session.done;
  expect(await reports.failures(session.id, 'worker-h')).toEqual([]);
  expect(result.connections.map((c) => [c.name, c.closeCode])).toEqual([['live', 1000], ['other', 1000]]);
  const state = await allClosed(server);
  expect(state.sockets.map((s) => [s.channel, s.closeCode])).toEqual([['live', 1000], ['other', 1000]]);
  await noLiveWorkers();
});

test('a second endpoint the server refuses rejects with E_FAIL naming it, the handler and the cause; the first stays open and usable', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  await server.faults({ refuse: ['refused'] });
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, broken: { kind: 'websocket', url: server.wsUrl('refused') } },
    handlers: [scripted('refuse-h')],
  });
  const events: { type: string; name: string; handlerId: string | null; error: Error | null }[] = [];
  for (const type of ['connectionopen', 'connectionerror', 'connectionclose'] as const) {
    m.addEventListener(type, (e: ConnectionEvent) => events.push({ type: e.type, name: e.name, handlerId: e.handlerId, error: e.error }));
  }
  const script: Script = {
    steps: [
      { op: 'establish', name: 'live' }, // 0
      { op: 'send', on: 'live', data: 'before' }, // 1
      { op: 'expect', on: 'live', count: 1 }, // 2
      { op: 'establish', name: 'broken' }, // 3: fails
      { op: 'send', on: 'live', data: 'after' }, // 4
      { op: 'expect', on: 'live', count: 2 }, // 5
      { op: 'wait' }, // 6
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'refuse-h': script } } });

  const failed = await reports.stepOf(session.id, 'refuse-h', 3);
  expect(failed.ok).toBe(false);
  expect(failed.error?.code).toBe('E_FAIL');
  expect(failed.error?.message).toContain("'broken'");
  expect(failed.error?.message).toContain('refuse-h');
  expect(failed.error?.message).toMatch(/could not connect/);

  expect((await reports.stepOf(session.id, 'refuse-h', 5)).value).toEqual(['before', 'after']);
  const during = await server.state();
  expect(during.sockets.map((s) => [s.channel, s.open, s.closeCode, s.received])).toEqual([['live', true, null, ['before', 'after']]]);
  expect(events.filter((e) => e.type === 'connectionclose')).toEqual([]);
  const errors = events.filter((e) => e.type === 'connectionerror');
  expect(errors.map((e) => [e.name, e.handlerId, (e.error as { code?: string } | null)?.code])).toEqual([['broken', 'refuse-h', 'E_FAIL']]);
  expect(session.openConnections()).toEqual(['live']);

  reports.release(session.id, 'refuse-h');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections.map((c) => [c.name, c.closeCode])).toEqual([['live', 1000]]);
  const state = await allClosed(server);
  expect(state.sockets.map((s) => [s.channel, s.closeCode])).toEqual([['live', 1000]]);
  await noLiveWorkers();
});
