// What Deno lacks of the web platform the library is written for, found by
// feature test, and what the manager does instead: no IndexedDB (state in
// memory, also when IndexedDB is asked for), no `location` (endpoint URLs
// must be absolute), no `navigator.onLine` (taken as online), and a
// WebSocket close code of 0 where the standard says 1006 (the manager says
// 1006). What it has and the library relies on: module workers, Web Locks
// (how the manager learns a worker died), BroadcastChannel (only the test
// fixtures use it). No `document` or `window`: the manager and the handler
// runtime never touch them, as every test of this suite shows.
import assert from 'node:assert/strict';
import type { StorageFallbackEvent } from '../../src/index.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { liveWorkers } from '../fixtures/live-workers.ts';
import { scripted } from '../fixtures/scripted.ts';
import type { Script } from '../../workers/fixtures/script.ts';
import { SANITIZED, test } from './bed.ts';

const g = globalThis as Record<string, unknown>;

Deno.test({
  ...SANITIZED,
  name: `Deno ${Deno.version.deno} has no indexedDB, document, window, location or navigator.onLine; it has module workers, MessageChannel, Web Locks and BroadcastChannel`,
  fn() {
    // If one of these fails, Deno has changed: README's Deno section says what the library does without each.
    assert.deepEqual(
      Object.fromEntries(['indexedDB', 'document', 'window', 'location'].map((name) => [name, typeof g[name]])),
      { indexedDB: 'undefined', document: 'undefined', window: 'undefined', location: 'undefined' },
    );
    assert.equal((navigator as { onLine?: boolean }).onLine, undefined);
    assert.deepEqual(
      [typeof Worker, typeof MessageChannel, typeof BroadcastChannel, typeof WebSocket, typeof navigator.locks?.request],
      ['function', 'function', 'function', 'function', 'function'],
    );
  },
});

test('without indexedDB the manager keeps its state in memory: choices, item states, the log and ctx.store last across its sessions, not beyond the manager', async (bed) => {
  const script: Script = {
    items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
    steps: [
      { op: 'store-get', key: 'cursor' },
      { op: 'store-set', key: 'cursor', value: 7 },
      { op: 'log', level: 'information', text: 'synced a' },
      { op: 'progress', item: 'a', update: { status: 'succeeded' } },
    ],
  };
  const name = `deno-memory-${Date.now()}`;
  const m = bed.manager({ name, handlers: [scripted('h')] });
  assert.equal(m.storage, 'memory');
  m.setItemChecked('h', 'b', false);
  const first = m.synchronize({ cookie: { scripts: { h: script } } });
  await first.done;
  assert.equal((await bed.reports.stepOf(first.id, 'h', 0)).value, undefined);
  const second = m.synchronize({ cookie: { scripts: { h: script } } });
  const result = await second.done;
  // The second session read what the first stored, and synced only the item the user left checked.
  assert.equal((await bed.reports.stepOf(second.id, 'h', 0)).value, 7);
  assert.deepEqual(result.handlers[0]!.items.map((i) => i.id), ['a']);
  assert.deepEqual(m.items('h').map((r) => [r.id, r.checked, r.status]), [['a', true, 'succeeded'], ['b', false, null]]);
  assert.deepEqual(m.log().map((e) => e.text), ['synced a', 'synced a']);
  assert.deepEqual(m.sessions().map((s) => s.outcome), ['succeeded', 'succeeded']);
  assert.equal(m.storage, 'memory');

  // Memory is the manager's own: another manager of the same name starts empty.
  const again = bed.manager({ name, handlers: [scripted('h')] });
  await again.load();
  assert.deepEqual([again.items('h'), again.log(), again.sessions()], [[], [], []]);
});

test("storage: 'indexeddb' where there is none falls back to memory at start-up, with one storagefallback event and one warning in the log", async (bed) => {
  const m = bed.manager({ storage: 'indexeddb', handlers: [scripted('h')] });
  const fallbacks: StorageFallbackEvent[] = [];
  m.addEventListener('storagefallback', (e) => fallbacks.push(e));
  assert.equal(m.storage, 'indexeddb');
  await m.load();
  assert.equal(m.storage, 'memory');
  assert.equal(fallbacks.length, 1);
  assert.equal(SyncError.is(fallbacks[0]!.error, 'E_FAIL'), true);
  assert.match(fallbacks[0]!.error.message, /indexeddb state store failed .*kept in memory from now on/);
  const result = await m.synchronize({ cookie: { scripts: { h: { steps: [{ op: 'store-set', key: 'k', value: 1 }, { op: 'store-get', key: 'k' }] } } } }).done;
  assert.equal(result.outcome, 'succeeded');
  assert.deepEqual(m.log().map((e) => [e.level, e.errorId]), [['warning', 'syncmgr:storage-fallback']]);
  assert.equal(fallbacks.length, 1);
});

test('without location a relative endpoint URL fails establishConnection with E_FAIL naming the endpoint; absolute URLs work, and a fetch endpoint without a probe is taken as online', async (bed) => {
  const m = bed.manager({
    endpoints: {
      relativeApi: { kind: 'fetch', url: '/api/' },
      relativeLive: { kind: 'websocket', url: '/ws/live' },
      api: { kind: 'fetch', url: bed.server.apiUrl },
    },
    handlers: [scripted('h')],
  });
  const steps: Script['steps'] = [
    { op: 'establish', name: 'relativeApi' },
    { op: 'establish', name: 'relativeLive' },
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'health', read: 'json' },
  ];
  const session = m.synchronize({ cookie: { scripts: { h: { steps } } } });
  await session.done;
  for (const [i, name] of ['relativeApi', 'relativeLive'].entries()) {
    const r = await bed.reports.stepOf(session.id, 'h', i);
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'E_FAIL');
    assert.match(r.error!.message, new RegExp(`Endpoint '${name}': computing its url`));
  }
  assert.deepEqual((await bed.reports.stepOf(session.id, 'h', 2)).value, { name: 'api', kind: 'fetch', protocol: '' });
  assert.equal(((await bed.reports.stepOf(session.id, 'h', 3)).value as { status: number }).status, 200);
  assert.deepEqual((await bed.server.state()).requests.map((r) => r.path), ['health']);
});

test("Deno's WebSocket says close code 0 for a cut connection where the standard says 1006; the manager's channel, events and result say 1006", async (bed) => {
  // The platform's own event, on a socket the server cuts without a close frame.
  const raw = new WebSocket(bed.server.wsUrl('raw'));
  await new Promise((resolve) => raw.addEventListener('open', resolve, { once: true }));
  const rawClose = new Promise<number>((resolve) => raw.addEventListener('close', (e) => resolve(e.code), { once: true }));
  raw.addEventListener('error', () => {}, { once: true });
  assert.equal(await bed.server.drop('raw'), 1);
  assert.equal(await rawClose, 0);

  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: bed.server.wsUrl('live'), reconnect: false } }, handlers: [scripted('h')] });
  const closes: (number | null)[] = [];
  m.addEventListener('connectionclose', (e) => closes.push(e.code));
  const session = m.synchronize({ cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'live' }, { op: 'await-state', on: 'live', state: 'closed' }] } } } });
  await bed.reports.stepOf(session.id, 'h', 0);
  await bed.server.waitFor((s) => s.sockets.find((x) => x.channel === 'live')?.open);
  assert.equal(await bed.server.drop('live'), 1);
  const history = (await bed.reports.stepOf(session.id, 'h', 1)).value as { states: string[]; close: { code: number; wasClean: boolean } };
  const result = await session.done;
  assert.deepEqual([history.states, history.close.code, history.close.wasClean], [['open', 'closed'], 1006, false]);
  assert.deepEqual(closes, [1006]);
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode]), [['live', 1006]]);
});

test('Deno has Web Locks: a handler worker holds its life lock, so a worker that closes itself is found at once, not at a time limit', async (bed) => {
  const m = bed.manager({ handlers: [{ ...scripted('h1'), timeouts: { ready: 8000, handler: 20_000 } }, scripted('ok')] });
  const script: Script = { steps: [{ op: 'progress', item: 'a', update: { status: 'updating' } }, { op: 'wait' }, { op: 'close-self' }] };
  const session = m.synchronize({ cookie: { scripts: { h1: script } } });
  await bed.reports.stepOf(session.id, 'h1', 0);
  // synchronize() runs once the worker holds its lock: it is counted through it.
  assert.ok((await liveWorkers()) >= 1);
  const t0 = performance.now();
  bed.reports.release(session.id, 'h1');
  const result = await session.done;
  assert.ok(performance.now() - t0 < 4000, `found after ${performance.now() - t0} ms`);
  const h1 = result.handlers[0]!;
  assert.deepEqual([h1.outcome, h1.endedIn], ['crashed', 'synchronizing']);
  assert.equal(SyncError.is(h1.error, 'E_FAIL'), true);
  assert.match(h1.error!.message, /'h1': its worker ended unexpectedly/);
  assert.equal(result.handlers[1]!.outcome, 'succeeded');
});
