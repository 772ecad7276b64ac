// DESIGN.md §2 rules 1, 3 and 4 under Deno, with the scripted fixture handler
// of the browser tests against the demo's endpoint server: null and no
// argument mean the default endpoint; the same name is one connection (one
// socket at the server) for every handler of the session; another name opens
// without disturbing the first, and its failure leaves the first alone.
import assert from 'node:assert/strict';
import type { ConnectionEvent } from '../../src/index.ts';
import { deferred } from '../../src/internal/deferred.ts';
import { allClosed } from '../fixtures/server.ts';
import { scripted } from '../fixtures/scripted.ts';
import type { Script } from '../../workers/fixtures/script.ts';
import { test } from './bed.ts';

const sorted = (values: unknown): string[] => [...(values as unknown[])].map(String).sort();

test('null, no argument and the default endpoint name give one websocket connection: one socket at the server, closed with 1000', async ({ server, reports, manager }) => {
  const m = manager({
    // `other` comes first, so picking "the first endpoint" instead of the default would show.
    endpoints: { other: { kind: 'websocket', url: server.wsUrl('other') }, live: { kind: 'websocket', url: server.wsUrl('live') } },
    defaultEndpoint: 'live',
    handlers: [scripted('def-h')],
  });
  const script: Script = {
    steps: [
      { op: 'establish', name: null, as: 'by-null' },
      { op: 'establish', name: 'omit', as: 'by-omit' },
      { op: 'establish', name: 'live', as: 'by-name' },
      { op: 'send', on: 'by-null', data: 'via-null' },
      { op: 'send', on: 'by-omit', data: 'via-omit' },
      { op: 'send', on: 'by-name', data: 'via-name' },
      { op: 'expect', on: 'by-null', count: 3 },
      { op: 'expect', on: 'by-omit', count: 3 },
      { op: 'expect', on: 'by-name', count: 3 },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'def-h': script } } });
  const result = await session.done;

  assert.deepEqual(await reports.failures(session.id, 'def-h'), []);
  for (const i of [0, 1, 2]) assert.deepEqual((await reports.stepOf(session.id, 'def-h', i)).value, { name: 'live', kind: 'websocket', protocol: '' });
  // The three channels hang off one socket: each sees the echo of every frame, whichever channel sent it.
  const frames = ['via-name', 'via-null', 'via-omit'];
  for (const i of [6, 7, 8]) assert.deepEqual(sorted((await reports.stepOf(session.id, 'def-h', i)).value), frames);

  assert.deepEqual(result.connections.map((c) => [c.name, c.kind, c.handlers, c.closeCode]), [['live', 'websocket', ['def-h'], 1000]]);
  const state = await allClosed(server);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.open, s.closeCode, s.closedBy]), [['live', false, 1000, 'client']]);
  assert.deepEqual(sorted(state.sockets[0]!.received), frames);
});

test('null and no argument with a fetch default endpoint give the default, and its requests reach the server', async ({ server, reports, manager }) => {
  const m = manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, api: { kind: 'fetch', url: server.apiUrl } },
    defaultEndpoint: 'api',
    handlers: [scripted('def-f')],
  });
  const script: Script = {
    steps: [
      { op: 'establish', name: null, as: 'by-null' },
      { op: 'establish', name: 'omit', as: 'by-omit' },
      { op: 'fetch', on: 'by-null', path: 'health', read: 'json' },
      { op: 'fetch', on: 'by-omit', path: 'health', read: 'json' },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'def-f': script } } });
  const result = await session.done;

  assert.deepEqual(await reports.failures(session.id, 'def-f'), []);
  for (const i of [0, 1]) assert.deepEqual((await reports.stepOf(session.id, 'def-f', i)).value, { name: 'api', kind: 'fetch', protocol: '' });
  for (const i of [2, 3]) {
    const value = (await reports.stepOf(session.id, 'def-f', i)).value as { status: number; json: unknown };
    assert.deepEqual([value.status, value.json], [200, { ok: true }]);
  }
  assert.deepEqual(result.connections.map((c) => [c.name, c.kind, c.handlers]), [['api', 'fetch', ['def-f']]]);
  const state = await server.state();
  assert.deepEqual(state.requests.map((r) => [r.method, r.path, r.status]), [['GET', 'health', 200], ['GET', 'health', 200]]);
  assert.deepEqual(state.sockets, []);
});

test('two handlers establishing the same websocket one after the other share one socket, and frames flow both ways for both', async ({ server, reports, manager }) => {
  const m = manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [scripted('first'), scripted('second')] });
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
  assert.deepEqual(before.sockets.map((s) => [s.channel, s.open]), [['live', true]]);

  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'second' && r.phase === 'synchronize');
  reports.release(session.id, 'second');
  await reports.stepOf(session.id, 'second', 1);
  const after = await server.state();
  assert.deepEqual(after.sockets.map((s) => [s.id, s.open]), [[before.sockets[0]!.id, true]]);
  // One socket on the server: one send from the server reaches it, and through it both handlers.
  assert.equal(await server.send('from-server', 'live'), 1);
  reports.release(session.id, 'first');
  const result = await session.done;

  assert.deepEqual(await reports.failures(session.id, 'first', 'second'), []);
  const everything = ['from-first', 'from-second', 'from-server'];
  assert.deepEqual(sorted((await reports.stepOf(session.id, 'first', 3)).value), everything);
  assert.deepEqual(sorted((await reports.stepOf(session.id, 'second', 3)).value), everything);
  assert.deepEqual(result.connections.map((c) => [c.name, c.handlers]), [['live', ['first', 'second']]]);
  const state = await allClosed(server);
  assert.equal(state.sockets.length, 1);
  assert.deepEqual(sorted(state.sockets[0]!.received), ['from-first', 'from-second']);
  assert.equal(state.sockets[0]!.closeCode, 1000);
});

test('two handlers establishing the same websocket at the same moment share one attempt and one socket', async ({ server, reports, manager }) => {
  // The url function runs once per connection attempt; holding it keeps the first attempt pending while the second call arrives.
  let attempts = 0;
  const asked = deferred<void>();
  const gate = deferred<void>();
  const m = manager({
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

  await Promise.all(['left', 'right'].map((h) => reports.wait((r) => r.sessionId === session.id && r.handlerId === h && r.phase === 'synchronize')));
  await asked.promise;
  // A short bounded wait for the second call to reach the manager while the first attempt is held.
  await new Promise((r) => setTimeout(r, 150));
  // Neither establish step has returned: after both workers answered a flush, its report would be here.
  await Promise.all(['left', 'right'].map((h) => reports.flush(session.id, h)));
  assert.deepEqual(reports.all.filter((r) => r.sessionId === session.id && r.phase === 'step'), []);
  assert.equal(attempts, 1);
  gate.resolve();

  await Promise.all([reports.stepOf(session.id, 'left', 0), reports.stepOf(session.id, 'right', 0)]);
  assert.equal(await server.send('from-server', 'live'), 1);
  const result = await session.done;

  assert.deepEqual(await reports.failures(session.id, 'left', 'right'), []);
  assert.equal(attempts, 1);
  const everything = ['from-left', 'from-right', 'from-server'];
  assert.deepEqual(sorted((await reports.stepOf(session.id, 'left', 2)).value), everything);
  assert.deepEqual(sorted((await reports.stepOf(session.id, 'right', 2)).value), everything);
  assert.deepEqual(result.connections.map((c) => [c.name, [...c.handlers].sort()]), [['live', ['left', 'right']]]);
  const state = await allClosed(server);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.closeCode]), [['live', 1000]]);
  assert.deepEqual(sorted(state.sockets[0]!.received), ['from-left', 'from-right']);
});

test('a later call for another name opens it without disturbing the first socket, which keeps flowing while the second connects', async ({ server, reports, manager }) => {
  const asked = deferred<void>();
  const gate = deferred<void>();
  const m = manager({
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
      { op: 'establish', name: 'other' }, // 3
      { op: 'send', on: 'live', data: 'a2' }, // 4
      { op: 'expect', on: 'live', count: 3 }, // 5
      { op: 'send', on: 'other', data: 'b1' }, // 6
      { op: 'expect', on: 'other', count: 1 }, // 7
      { op: 'wait' }, // 8
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'worker-h': script } } });

  await asked.promise;
  // While `other` is connecting, the first socket still delivers.
  assert.equal(await server.send('during-connect', 'live'), 1);
  gate.resolve();

  assert.deepEqual((await reports.stepOf(session.id, 'worker-h', 5)).value, ['a1', 'during-connect', 'a2']);
  assert.deepEqual((await reports.stepOf(session.id, 'worker-h', 7)).value, ['b1']);
  const during = await server.state();
  assert.deepEqual(during.sockets.map((s) => [s.channel, s.open, s.closeCode, s.received]), [['live', true, null, ['a1', 'a2']], ['other', true, null, ['b1']]]);
  assert.deepEqual(session.openConnections().sort(), ['live', 'other']);

  reports.release(session.id, 'worker-h');
  const result = await session.done;
  assert.deepEqual(await reports.failures(session.id, 'worker-h'), []);
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode]), [['live', 1000], ['other', 1000]]);
  const state = await allClosed(server);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.closeCode]), [['live', 1000], ['other', 1000]]);
});

test('a second endpoint the server refuses rejects with E_FAIL naming it, the handler and the cause; the first stays open and usable', async ({ server, reports, manager }) => {
  await server.faults({ refuse: ['refused'] });
  const m = manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, broken: { kind: 'websocket', url: server.wsUrl('refused') } },
    handlers: [scripted('refuse-h')],
  });
  const events: [string, string, string | null, string | undefined][] = [];
  for (const type of ['connectionopen', 'connectionerror', 'connectionclose'] as const) {
    m.addEventListener(type, (e: ConnectionEvent) => events.push([e.type, e.name, e.handlerId, (e.error as { code?: string } | null)?.code]));
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
  assert.equal(failed.ok, false);
  assert.equal(failed.error?.code, 'E_FAIL');
  assert.match(failed.error!.message, /'broken'/);
  assert.match(failed.error!.message, /refuse-h/);
  assert.match(failed.error!.message, /could not connect/);

  assert.deepEqual((await reports.stepOf(session.id, 'refuse-h', 5)).value, ['before', 'after']);
  const during = await server.state();
  assert.deepEqual(during.sockets.map((s) => [s.channel, s.open, s.closeCode, s.received]), [['live', true, null, ['before', 'after']]]);
  assert.deepEqual(events, [['connectionopen', 'live', 'refuse-h', undefined], ['connectionerror', 'broken', 'refuse-h', 'E_FAIL']]);
  assert.deepEqual(session.openConnections(), ['live']);

  reports.release(session.id, 'refuse-h');
  const result = await session.done;
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode]), [['live', 1000]]);
  const state = await allClosed(server);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.closeCode]), [['live', 1000]]);
});
