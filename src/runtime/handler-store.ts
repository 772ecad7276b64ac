/**
 * `ctx.store`: a handler's own persistent key-value store (cursors,
 * checkpoints), kept by the manager across sessions and reloads. The worker
 * never opens IndexedDB: every call goes to the manager, the single writer,
 * which keeps each handler's keys apart from every other handler's and from
 * its own.
 */
import type * as Comlink from 'comlink';
import { SyncError } from '../protocol/sync-error.ts';
import { unwrap } from '../protocol/wire.ts';
import type { CoordinatorApi } from '../protocol/worker-api.ts';
import { storeValueProblem } from '../protocol/value-size.ts';

export interface HandlerStore {
  /** The value stored under `key`, or `undefined`. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Stores a structured clone of `value` (not `undefined`: use `delete`).
   * Keys: 1 to `MAX_STORE_KEY_LENGTH` characters; values: at most
   * `MAX_STORE_VALUE_BYTES`; at most `MAX_STORE_KEYS` keys per handler.
   * Bad input rejects with `E_INVALIDARG` (a full store: `E_OUTOFMEMORY`).
   * Visible to `get` at once; written to IndexedDB with the manager's next batch.
   */
  set(key: string, value: unknown): Promise<void>;
  /** Deletes `key`; resolves `true` if it existed. */
  delete(key: string): Promise<boolean>;
  /** This handler's keys that start with `prefix` (default: all), sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** This handler's `[key, value]` pairs whose key starts with `prefix` (default: all), sorted by key. */
  entries<T = unknown>(prefix?: string): Promise<[string, T][]>;
}

/** @internal */
export function createHandlerStore(coordinator: Comlink.Remote<CoordinatorApi<MessagePort>>, handlerId: string): HandlerStore {
  return {
    async get<T>(key: string) {
      return unwrap(await coordinator.storeGet(key)) as T | undefined;
    },
    async set(key, value) {
      // Checked here first, so that nothing unstorable (or too big) is sent at all.
      const problem = typeof key === 'string' ? storeValueProblem(value, key) : null;
      if (problem !== null) throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ${problem}`);
      unwrap(await coordinator.storeSet(key, value));
    },
    async delete(key) {
      return unwrap(await coordinator.storeDelete(key));
    },
    async keys(prefix) {
      return unwrap(await coordinator.storeKeys(prefix ?? null));
    },
    async entries<T>(prefix?: string) {
      return unwrap(await coordinator.storeEntries(prefix ?? null)) as [string, T][];
    },
  };
}
