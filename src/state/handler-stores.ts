/**
 * The handlers' `ctx.store`: each handler's own keys, stored under
 * `handler/<id>/` next to the manager's state and written with the same
 * batches. Keys, prefixes and values come from a worker and are checked first
 * (`store-input.ts`).
 *
 * - Reads see the handler's latest writes, even those not yet written to the
 *   store.
 * - A handler keeps at most {@link MAX_STORE_KEYS} keys. To enforce it
 *   without reading the store on every `set`, the handler's key set is read
 *   once and then kept in memory.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { MAX_STORE_KEYS } from '../protocol/types.ts';
import { byCodeUnit } from '../storage/memory-state-store.ts';
import { checkStoreKey, checkStorePrefix, checkStoreValue } from './store-input.ts';
import { KEYS } from './records.ts';
import type { BackingStore } from './backing-store.ts';

/** Every call names the handler; the manager adds its namespace. */
export class HandlerStores {
  readonly #storage: Pick<BackingStore, 'read' | 'put' | 'peek' | 'peekPrefix'>;
  /** Loads the state; the storage is usable once it resolves. */
  readonly #load: () => Promise<void>;
  /** Each handler's keys (without its prefix), read on first use. */
  readonly #keys = new Map<string, Promise<Set<string>>>();

  constructor(storage: Pick<BackingStore, 'read' | 'put' | 'peek' | 'peekPrefix'>, load: () => Promise<void>) {
    this.#storage = storage;
    this.#load = load;
  }

  async get(handlerId: string, key: unknown): Promise<unknown> {
    const full = KEYS.handler(handlerId) + checkStoreKey(key, handlerId, 'get');
    await this.#load();
    const pending = this.#storage.peek(full);
    if (pending.found) return pending.value;
    return this.#storage.read((store) => store.get(full));
  }

  async set(handlerId: string, key: unknown, value: unknown): Promise<void> {
    const k = checkStoreKey(key, handlerId, 'set');
    checkStoreValue(value, handlerId, k);
    const keys = await this.#keysOf(handlerId);
    if (!keys.has(k) && keys.size >= MAX_STORE_KEYS) {
      throw new SyncError('E_OUTOFMEMORY', `Handler '${handlerId}': ctx.store holds ${keys.size} keys, the most a handler may keep; delete some before adding '${k}'.`);
    }
    keys.add(k);
    this.#storage.put(KEYS.handler(handlerId) + k, value);
  }

  /** Answers whether the key existed. */
  async delete(handlerId: string, key: unknown): Promise<boolean> {
    const k = checkStoreKey(key, handlerId, 'delete');
    const keys = await this.#keysOf(handlerId);
    const existed = keys.delete(k);
    if (existed) this.#storage.put(KEYS.handler(handlerId) + k, undefined);
    return existed;
  }

  /** The handler's keys that start with `prefix`, in code-unit order. */
  async keys(handlerId: string, prefix: unknown): Promise<string[]> {
    const p = checkStorePrefix(prefix, handlerId, 'keys');
    return [...(await this.#keysOf(handlerId))].filter((k) => k.startsWith(p)).sort(byCodeUnit);
  }

  /** The handler's entries whose keys start with `prefix`, in code-unit order of their keys. */
  async entries(handlerId: string, prefix: unknown): Promise<[string, unknown][]> {
    const full = KEYS.handler(handlerId) + checkStorePrefix(prefix, handlerId, 'entries');
    await this.#load();
    const rows = new Map(await this.#storage.read((store) => store.entries(full)));
    for (const [key, value] of this.#storage.peekPrefix(full)) {
      if (value === undefined) rows.delete(key);
      else rows.set(key, value);
    }
    const base = KEYS.handler(handlerId).length;
    return [...rows].sort((a, b) => byCodeUnit(a[0], b[0])).map(([key, value]) => [key.slice(base), value]);
  }

  /** Forgets the key sets read so far: after a fallback the memory store holds what was kept, and they are read from it again. */
  forget(): void {
    this.#keys.clear();
  }

  async #keysOf(handlerId: string): Promise<Set<string>> {
    await this.#load();
    let keys = this.#keys.get(handlerId);
    if (!keys) {
      const prefix = KEYS.handler(handlerId);
      keys = this.#storage.read((store) => store.keys(prefix)).then((stored) => {
        const set = new Set(stored.map((k) => k.slice(prefix.length)));
        for (const [key, value] of this.#storage.peekPrefix(prefix)) {
          if (value === undefined) set.delete(key.slice(prefix.length));
          else set.add(key.slice(prefix.length));
        }
        return set;
      });
      this.#keys.set(handlerId, keys);
      keys.catch(() => this.#keys.delete(handlerId));
    }
    return keys;
  }
}
