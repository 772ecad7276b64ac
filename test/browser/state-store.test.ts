/**
 * The StateStore contract against the IndexedDB store (real IndexedDB, a
 * database per store), and its laziness: nothing opens before the first call.
 */
import { afterEach, expect, test, vi } from 'vitest';
import { runStateStoreContract } from '../fixtures/state-store-contract.ts';
import { IndexedDbStateStore, SyncManager, stateDatabaseName } from '../../src/index.ts';
import { scripted } from '../fixtures/harness.ts';

let stores = 0;
runStateStoreContract('IndexedDbStateStore', () => new IndexedDbStateStore(`contract-${++stores}-${Date.now()}`));

afterEach(() => {
  vi.restoreAllMocks();
});

test('neither the store nor a manager opens IndexedDB before the first call; the manager opens its own database, named after it', async () => {
  const open = vi.spyOn(indexedDB, 'open');
  const store = new IndexedDbStateStore(`lazy-${Date.now()}`);
  const name = `lazy-manager-${Date.now()}`;
  const m = new SyncManager({ name, handlers: [scripted('h1')] });
  expect(m.storage).toBe('indexeddb');
  expect(m.loaded).toBe(false);
  await new Promise((r) => setTimeout(r, 20));
  expect(open).not.toHaveBeenCalled();
  expect(await store.get('k')).toBeUndefined();
  expect(open).toHaveBeenCalledTimes(1);
  m.log(); // first use
  await m.load();
  expect(m.loaded).toBe(true);
  expect(open.mock.calls.map((c) => c[0])).toEqual([store.databaseName, stateDatabaseName(name)]);
  expect(stateDatabaseName(name)).toBe(`syncmgr-state:${name}`);
  await store.close();
  await m.close();
});

test('close() releases the connection: the database can then be deleted without blocking', async () => {
  const store = new IndexedDbStateStore(`closable-${Date.now()}`);
  await store.set('k', 1);
  await store.close();
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.deleteDatabase(store.databaseName);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('blocked: the store kept its connection open'));
  });
});
