/**
 * The storage contract of syncmgr: a small asynchronous key-value store with
 * string keys and structured-cloneable values. It is dumb I/O; the policy
 * (key layout, batching, fallback, schema) lives one layer up, in the
 * manager's state (`state/`).
 *
 * Two implementations ship: {@link IndexedDbStateStore} (idb-keyval, one
 * database of its own) and {@link MemoryStateStore}. A custom store (another
 * database, a test double) implements this interface and should pass the
 * contract suite in `test/fixtures/state-store-contract.ts`.
 */

/**
 * A batch of changes for {@link StateStore.write}: a value to store under its
 * key, or `undefined` to delete the key.
 */
export type StateChanges = ReadonlyMap<string, unknown>;

export interface StateStore {
  /** The value stored under `key`, or `undefined`. */
  get(key: string): Promise<unknown>;
  /** Stores a structured clone of `value` under `key`; rejects (`DataCloneError`) when it cannot be cloned. */
  set(key: string, value: unknown): Promise<void>;
  /** Deletes `key`; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Atomic read-modify-write: `updater` receives the stored value (or
   * `undefined`) and returns the value to store. It runs inside the store's
   * transaction, so it must be synchronous.
   */
  update(key: string, updater: (old: unknown) => unknown): Promise<void>;
  /** The keys that start with `prefix` (`''`: every key), in ascending code-unit order. */
  keys(prefix: string): Promise<string[]>;
  /** The `[key, value]` pairs whose key starts with `prefix`, in ascending key order. */
  entries(prefix: string): Promise<[string, unknown][]>;
  /**
   * Applies a batch atomically, as one transaction: every change or none.
   * An `undefined` value deletes its key.
   */
  write(changes: StateChanges): Promise<void>;
  /** Releases the store (closes the database). Optional; later calls may reopen it. */
  close?(): void | Promise<void>;
}

/** The methods of {@link StateStore} that `value` lacks. */
export function missingStoreMethods(value: object): string[] {
  const v = value as Record<string, unknown>;
  return STORE_METHODS.filter((name) => typeof v[name] !== 'function');
}

const STORE_METHODS = ['get', 'set', 'delete', 'update', 'keys', 'entries', 'write'] as const;
