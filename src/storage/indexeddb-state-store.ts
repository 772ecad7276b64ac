/**
 * A {@link StateStore} in IndexedDB through idb-keyval: one database of its
 * own per store (idb-keyval's `createStore` cannot add an object store to a
 * database that exists), opened lazily on the first call, never at import or
 * construction.
 */
import { createStore, del, get, promisifyRequest, set, update, type UseStore } from 'idb-keyval';
import type { StateChanges, StateStore } from './state-store.ts';

/** The object store inside each database. */
export const STATE_OBJECT_STORE = 'state';

/** The IndexedDB database that holds the state of the manager named `name`. */
export function stateDatabaseName(name: string): string {
  return `syncmgr-state:${name}`;
}

export class IndexedDbStateStore implements StateStore {
  /** The IndexedDB database's name. */
  readonly databaseName: string;
  #use: UseStore | null = null;

  /** Opens nothing: the database opens on the first call (and again after `close()`). */
  constructor(databaseName: string) {
    this.databaseName = databaseName;
  }

  // Every method is async so that a synchronous throw (no `indexedDB`, or
  // `indexedDB.open` throwing in a locked-down context) becomes a rejection.

  async get(key: string): Promise<unknown> {
    return get(key, this.#store());
  }

  async set(key: string, value: unknown): Promise<void> {
    return set(key, value, this.#store());
  }

  async delete(key: string): Promise<void> {
    return del(key, this.#store());
  }

  async update(key: string, updater: (old: unknown) => unknown): Promise<void> {
    return update(key, updater, this.#store());
  }

  // idb-keyval's keys() and entries() read the whole database; a prefix is one key range.

  async keys(prefix: string): Promise<string[]> {
    return this.#store()('readonly', (store) => promisifyRequest(store.getAllKeys(prefixRange(prefix)))) as Promise<string[]>;
  }

  async entries(prefix: string): Promise<[string, unknown][]> {
    return this.#store()('readonly', async (store) => {
      const range = prefixRange(prefix);
      const [keys, values] = await Promise.all([promisifyRequest(store.getAllKeys(range)), promisifyRequest(store.getAll(range))]);
      return keys.map((key, i): [string, unknown] => [key as string, values[i]]);
    });
  }

  /** One readwrite transaction for the whole batch (idb-keyval's setMany and delMany would be two). */
  async write(changes: StateChanges): Promise<void> {
    if (changes.size === 0) return;
    return this.#store()('readwrite', (store) => {
      try {
        for (const [key, value] of changes) {
          if (value === undefined) store.delete(key);
          else store.put(value, key);
        }
      } catch (error) {
        // A value that cannot be cloned throws from put(): abort, so none of the batch is written.
        store.transaction.abort();
        throw error;
      }
      return promisifyRequest(store.transaction);
    });
  }

  /** Closes the database connection if it is open; the next call opens it again. */
  async close(): Promise<void> {
    const use = this.#use;
    if (!use) return;
    this.#use = null;
    try {
      // Close once this (empty) transaction has completed, so that nothing is pending and the connection is closed at once.
      const db = await use('readonly', (store) => promisifyRequest(store.transaction).then(() => store.transaction.db));
      db.close();
    } catch {
      // It never opened: nothing to close.
    }
  }

  #store(): UseStore {
    return (this.#use ??= createStore(this.databaseName, STATE_OBJECT_STORE));
  }
}

/** The key range of every string that starts with `prefix`; `undefined` (all keys) for `''`. */
function prefixRange(prefix: string): IDBKeyRange | undefined {
  if (prefix === '') return undefined;
  // The strings that start with `prefix` are those ≥ prefix and < prefix with its last code unit
  // raised by one (trailing U+FFFF units cannot be raised: they are dropped first).
  const stem = prefix.replace(/\uffff+$/, '');
  if (stem === '') return IDBKeyRange.lowerBound(prefix);
  const upper = stem.slice(0, -1) + String.fromCharCode(stem.charCodeAt(stem.length - 1) + 1);
  return IDBKeyRange.bound(prefix, upper, false, true);
}
