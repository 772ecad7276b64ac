/**
 * Writes are batched: a flood of progress calls, each changing an item's
 * status (so each one changes the journal), costs a bounded number of
 * IndexedDB writes, counted twice: at the StateStore (a counting wrapper over
 * the real IndexedDB store) and at IndexedDB itself (readwrite transactions
 * opened on the database).
 */
import { afterEach, expect, test } from 'vitest';
import { Reports, scripted } from '../fixtures/harness.ts';
import type { Cookie } from '../../workers/fixtures/script.ts';
import {
  IndexedDbStateStore, STATE_FLUSH_INTERVAL, SyncManager, stateDatabaseName, type StateChanges, type StateStore,
} from '../../src/index.ts';
import { estimateSize } from '../../src/storage/value-size.ts';

let reports: Reports | undefined;
let m: SyncManager | undefined;
const undo: (() => void)[] = [];
afterEach(async () => {
  await m?.close();
  m = undefined;
  for (const fn of undo.splice(0)) fn();
  reports?.close();
});

/** Counts readwrite transactions IndexedDB opens on the database `name`. */
function countTransactions(name: string): { readwrite: number } {
  const counts = { readwrite: 0 };
  const original = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    if (this.name === name && args[1] === 'readwrite') counts.readwrite++;
    return original.apply(this, args);
  } as IDBDatabase['transaction'];
  undo.push(() => (IDBDatabase.prototype.transaction = original));
  return counts;
}

/** An IndexedDB state store that records every batched write (keys and estimated bytes). */
function countingStore(database: string): { store: StateStore; writes: { keys: number; bytes: number }[] } {
  const real = new IndexedDbStateStore(database);
  const writes: { keys: number; bytes: number }[] = [];
  const store: StateStore = {
    get: (k) => real.get(k), set: (k, v) => real.set(k, v), delete: (k) => real.delete(k), update: (k, u) => real.update(k, u),
    keys: (p) => real.keys(p), entries: (p) => real.entries(p), close: () => real.close(),
    write: (changes: StateChanges) => {
      writes.push({ keys: changes.size, bytes: [...changes].reduce((n, [k, v]) => n + 2 * k.length + estimateSize(v), 0) });
      return real.write(changes);
    },
  };
  return { store, writes };
}

test('10,000 progress calls in one session cost at most 2 + ⌈duration / STATE_FLUSH_INTERVAL⌉ IndexedDB writes', async () => {
  reports = new Reports();
  const name = `writes-${Date.now()}`;
  const database = stateDatabaseName(name);
  const { store: counting, writes } = countingStore(database);
  const idb = countTransactions(database);
  m = new SyncManager({ name, handlers: [scripted('h1')], storage: counting });
  await m.load();
  const atLoad = { writes: writes.length, readwrite: idb.readwrite };
  let statusChanges = 0;
  m.addEventListener('itemstatus', () => statusChanges++);

  const items = Array.from({ length: 10 }, (_, i) => ({ id: `item-${i}`, name: `Item ${i}` }));
  const CALLS = 10_000;
  const started = performance.now();
  const session = m.synchronize({
    cookie: { scripts: { h1: { items, steps: [
      { op: 'progress-flood', items: items.map((i) => i.id), count: CALLS },
      ...items.map((i) => ({ op: 'progress' as const, item: i.id, update: { status: 'succeeded' as const } })),
    ] } } } satisfies Cookie,
  });
  const result = await session.done;
  const duration = performance.now() - started;
  expect(result.outcome).toBe('succeeded');
  const flood = await reports.wait((r) => r.sessionId === session.id && r.phase === 'step' && r.index === 0);
  expect(flood.value).toMatchObject({ calls: CALLS });
  // Every call changed a status, so every call changed what is stored (the journal).
  expect(statusChanges).toBeGreaterThanOrEqual(CALLS);

  const sessionWrites = writes.slice(atLoad.writes);
  const bound = 2 + Math.ceil(duration / STATE_FLUSH_INTERVAL);
  const sizes = sessionWrites.map((w) => w.bytes);
  console.info(`[state-writes] ${CALLS} progress calls (${statusChanges} status changes) in ${Math.round(duration)} ms: `
    + `${sessionWrites.length} writes (bound ${bound}), ${idb.readwrite - atLoad.readwrite} IndexedDB readwrite transactions; `
    + `keys per write ${sessionWrites.map((w) => w.keys).join(',')}; bytes per write ${sizes.join(',')} (max ${Math.max(...sizes)}, total ${sizes.reduce((a, b) => a + b, 0)}); `
    + `at load: ${atLoad.readwrite} readwrite transaction(s)`);
  expect(sessionWrites.length).toBeLessThanOrEqual(bound);
  expect(sessionWrites.length).toBeLessThan(CALLS / 100);
  // Each StateStore write is one IndexedDB transaction; nothing else writes during the session.
  expect(idb.readwrite - atLoad.readwrite).toBe(sessionWrites.length);

  // What was written is the final picture, and the journal is gone.
  await m.close();
  m = undefined;
  const check = new IndexedDbStateStore(database);
  expect(await check.get('manager/journal')).toBeUndefined();
  expect(((await check.get('manager/items/h1')) as { status: string }[]).map((r) => r.status)).toEqual(Array(10).fill('succeeded'));
  await check.close();
});

test('a session of 8 handlers writes no more for its handlers than for one: at most 2 + ⌈duration / STATE_FLUSH_INTERVAL⌉ writes, not one per handler', async () => {
  const name = `writes-many-${Date.now()}`;
  const { store, writes } = countingStore(stateDatabaseName(name));
  const ids = Array.from({ length: 8 }, (_, i) => `h${i}`);
  m = new SyncManager({ name, handlers: ids.map((id) => scripted(id)), storage: store });
  await m.load();
  const before = writes.length;
  const started = performance.now();
  const result = await m.synchronize().done;
  const duration = performance.now() - started;
  expect(result.handlers.map((h) => h.outcome)).toEqual(Array(8).fill('succeeded'));
  const sessionWrites = writes.length - before;
  console.info(`[state-writes] 8 handlers, ${Math.round(duration)} ms: ${sessionWrites} writes (keys per write ${writes.slice(before).map((w) => w.keys).join(',')})`);
  expect(sessionWrites).toBeLessThanOrEqual(2 + Math.ceil(duration / STATE_FLUSH_INTERVAL));
  // Every handler's selection and final item states are in what was written.
  await m.close();
  m = undefined;
  const check = new IndexedDbStateStore(stateDatabaseName(name));
  expect(await check.get('manager/journal')).toBeUndefined();
  for (const id of ids) expect(((await check.get(`manager/items/${id}`)) as { status: string }[]).map((r) => r.status)).toEqual(['succeeded']);
  await check.close();
});
