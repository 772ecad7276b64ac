/**
 * When storage fails, the manager keeps going in memory: one
 * `storagefallback` event, one log entry, no crash at start-up and no
 * unhandled rejection. Failures: an injected store that throws, IndexedDB
 * whose open throws (private mode), a write refused for quota, and a real
 * blocked upgrade that never answers.
 */
import { expect, test } from 'vitest';
import { cookie, noUnhandledRejections, scripted, testBed } from '../fixtures/harness.ts';
import {
  IndexedDbStateStore, stateDatabaseName, type StateChanges, type StateStore, type StorageFallbackEvent, type SyncManager,
} from '../../src/index.ts';

noUnhandledRejections();
const bed = testBed();

function tracked(options: Parameters<typeof bed.manager>[0]): { m: SyncManager; fallbacks: StorageFallbackEvent[] } {
  const m = bed.manager(options);
  const fallbacks: StorageFallbackEvent[] = [];
  m.addEventListener('storagefallback', (e) => fallbacks.push(e));
  return { m, fallbacks };
}

/** A store whose every call fails, as a broken or forbidden database does. */
function failingStore(): StateStore & { calls: number } {
  const fail = () => {
    store.calls++;
    return Promise.reject(new DOMException('The operation failed for reasons unrelated to the database itself.', 'UnknownError'));
  };
  const store = { calls: 0, get: fail, set: fail, delete: fail, update: fail, keys: fail, entries: fail, write: fail };
  return store;
}

/** Runs a session that uses choices, the log and ctx.store; returns its result. */
async function exercise(m: SyncManager) {
  m.setItemChecked('h1', 'b', false);
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
        steps: [
          { op: 'store-set', key: 'cursor', value: 9 },
          { op: 'store-get', key: 'cursor' },
          { op: 'log', level: 'information', text: 'synced a' },
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
        ],
      },
    }),
  });
  const result = await session.done;
  const cursor = await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'step' && r.index === 1);
  return { result, cursor: cursor.value };
}

test('an injected store that always fails: the manager starts, syncs and keeps state in memory, with one warning event and one log entry', async () => {
  void bed.reports; // listening before the session starts
  const store = failingStore();
  const { m, fallbacks } = tracked({ handlers: [scripted('h1')], storage: store });
  expect(m.storage).toBe('custom');
  const { result, cursor } = await exercise(m);
  expect(result.outcome).toBe('succeeded');
  expect(result.handlers[0]!.items.map((i) => i.id)).toEqual(['a']);
  expect(cursor).toBe(9);
  expect(m.storage).toBe('memory');
  expect(fallbacks).toHaveLength(1);
  expect(fallbacks[0]!.error).toMatchObject({ code: 'E_FAIL' });
  expect(fallbacks[0]!.error.message).toMatch(/custom state store failed \(UnknownError: .*kept in memory from now on/);
  const log = m.log();
  expect(log.map((e) => [e.level, e.handlerId, e.errorId])).toEqual([['warning', null, 'syncmgr:storage-fallback'], ['information', 'h1', expect.any(String)]]);
  expect(m.items('h1').map((r) => [r.id, r.checked, r.status])).toEqual([['a', true, 'succeeded'], ['b', false, null]]);
  expect(m.sessions().map((s) => s.outcome)).toEqual(['succeeded']);
  // Once in memory, the failed store is not called again.
  const calls = store.calls;
  await exercise(m);
  await m.flush();
  expect(store.calls).toBe(calls);
  expect(fallbacks).toHaveLength(1);
});

test('IndexedDB whose open throws (a private or locked-down context) falls back to memory at start-up', async () => {
  void bed.reports; // listening before the session starts
  const open = indexedDB.open;
  indexedDB.open = () => {
    throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
  };
  bed.cleanup(() => (indexedDB.open = open));
  const { m, fallbacks } = tracked({ handlers: [scripted('h1')] });
  expect(m.storage).toBe('indexeddb');
  await m.load();
  expect(m.storage).toBe('memory');
  expect(fallbacks).toHaveLength(1);
  expect(fallbacks[0]!.error.message).toMatch(/indexeddb state store failed \(InvalidStateError/);
  const { result, cursor } = await exercise(m);
  expect(result.outcome).toBe('succeeded');
  expect(cursor).toBe(9);
  expect(m.log().filter((e) => e.handlerId === null)).toHaveLength(1);
});

test('a write refused mid-session (quota exceeded) falls back once; the session ends normally and nothing is lost', async () => {
  void bed.reports; // listening before the session starts
  const real = new IndexedDbStateStore(`fallback-quota-${Date.now()}`);
  let writes = 0;
  const quota: StateStore = {
    get: (k) => real.get(k), set: (k, v) => real.set(k, v), delete: (k) => real.delete(k), update: (k, u) => real.update(k, u),
    keys: (p) => real.keys(p), entries: (p) => real.entries(p), close: () => real.close(),
    // The first two writes (the journal, the selection) pass; then the disk is full.
    write: (changes: StateChanges) => (++writes > 2 ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : real.write(changes)),
  };
  const { m, fallbacks } = tracked({ handlers: [scripted('h1')], storage: quota });
  const { result, cursor } = await exercise(m);
  expect(result.outcome).toBe('succeeded');
  expect(cursor).toBe(9);
  expect(fallbacks).toHaveLength(1);
  expect(fallbacks[0]!.error.cause).toMatchObject({ name: 'QuotaExceededError' });
  expect(m.storage).toBe('memory');
  expect(m.items('h1').map((r) => [r.id, r.status])).toEqual([['a', 'succeeded'], ['b', null]]);
  expect(m.sessions()).toHaveLength(1);
  expect(m.log().map((e) => e.errorId)).toContain('syncmgr:storage-fallback');
});

test('a blocked IndexedDB upgrade (another connection holds the old version) falls back after timeouts.storage', async () => {
  void bed.reports; // listening before the session starts
  const { m, fallbacks } = tracked({ handlers: [scripted('h1')], timeouts: { storage: 300 } });
  const name = stateDatabaseName(m.name);
  // An old connection that ignores versionchange, and an upgrade waiting for it: every later open queues behind.
  const old = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('state');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const upgrade = indexedDB.open(name, 2);
  const blocked = new Promise((r) => (upgrade.onblocked = r));
  upgrade.onsuccess = () => upgrade.result.close();
  await blocked;
  const started = performance.now();
  await m.load();
  expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  expect(fallbacks).toHaveLength(1);
  expect(fallbacks[0]!.error.cause).toMatchObject({ code: 'E_TIMEOUT' });
  expect(fallbacks[0]!.error.message).toMatch(/did not answer within 300 ms/);
  const { result } = await exercise(m);
  expect(result.outcome).toBe('succeeded');
  old.close();
});
