/**
 * Where the manager's state is written: the store of the moment (the one the
 * app configured, or memory after a fallback), the {@link WriteBatcher} in
 * front of it, and the storage time limit.
 *
 * Every store call runs within the configured `timeout`. The first call that
 * fails (throws, or does not answer in time) moves everything to a
 * {@link MemoryStateStore}, once: what can be kept is copied over and the
 * owner is told, so that it reports it once. Later failures wait for that same
 * fallback; nothing rejects unhandled and nothing crashes.
 */
import { SyncError } from '../protocol/sync-error.ts';
import type { StateStore } from '../storage/state-store.ts';
import { MemoryStateStore } from '../storage/memory-state-store.ts';
import { WriteBatcher } from '../storage/write-batcher.ts';
import { KEYS } from './records.ts';

/** What backs the state now: `custom` is an app's own store. */
export type StorageKind = 'indexeddb' | 'memory' | 'custom';

/**
 * Where the manager keeps its state: `'indexeddb'` (its own database,
 * `syncmgr-state:<name>`), `'memory'` (lost on reload), or a custom
 * {@link StateStore}.
 */
export type StorageOption = 'indexeddb' | 'memory' | StateStore;

/** Where the state is written, as the manager was configured. */
export interface BackingStoreOptions {
  /** The manager's name: the IndexedDB store is its own database. */
  readonly name: string;
  readonly storage: StorageOption;
  /** Milliseconds a store call may take before the store counts as failed. */
  readonly timeout: number;
  /** Batching interval (ms); default `STATE_FLUSH_INTERVAL`. */
  readonly flushInterval?: number;
  /** Builds the IndexedDB store (kept out of this folder, which runs without DOM types). */
  openIndexedDb(name: string): StateStore;
}

/** What the storage needs from the state it writes. */
export interface StorageOwner {
  /** Whether the stored state is in memory. Before, nothing is queued: the owner applies changes again after the load. */
  loaded(): boolean;
  /** Every manager key as it should be stored now; written to the memory store when a fallback comes after the load. */
  snapshot(): Map<string, unknown>;
  /** The store failed and the state lives in memory from now on; told once, with the report to show. */
  fellBack(report: SyncError): void;
  /** The store refused to clone the values of `keys` (the rest of their batch was written): they live in memory only. */
  unstorable(keys: string[]): void;
}

export class BackingStore {
  readonly #options: BackingStoreOptions;
  readonly #owner: StorageOwner;
  #store: StateStore | null = null;
  #kind: StorageKind;
  #batcher: WriteBatcher | null = null;
  #fallback: Promise<void> | null = null;

  constructor(options: BackingStoreOptions, owner: StorageOwner) {
    this.#options = options;
    this.#owner = owner;
    this.#kind = typeof options.storage === 'string' ? options.storage : 'custom';
  }

  /** What backs the state now (`memory` after a fallback). */
  get kind(): StorageKind {
    return this.#kind;
  }

  /** Changes are queued (the state is loaded); before, {@link put} ignores them. */
  get writable(): boolean {
    return this.#owner.loaded();
  }

  /**
   * Opens the configured store, reads it with `read` within the time limit
   * and starts batching writes. A store that fails falls back to memory, and
   * the answer is then no rows. Call once.
   */
  async open(read: (store: StateStore) => Promise<[string, unknown][]>): Promise<[string, unknown][]> {
    let rows: [string, unknown][] = [];
    try {
      this.#store = this.#createStore();
      rows = await this.#guard(read(this.#store), 'reading the stored state');
    } catch (error) {
      await this.#fallBack(error);
    }
    this.#batcher = new WriteBatcher(
      // Every write goes to the store of the moment, within the time limit.
      { write: (changes) => this.#guard(this.#store!.write(changes), 'writing state') },
      { interval: this.#options.flushInterval, onError: (error, batch) => this.#writeFailed(error, batch) },
    );
    return rows;
  }

  /** Queues a change (`undefined` deletes); before the load ends nothing is queued (changes are applied again after it). */
  put(key: string, value: unknown): void {
    if (this.#owner.loaded()) this.#batcher!.put(key, value);
  }

  /** Like {@link put}, for a value built only when it is written: see {@link WriteBatcher.putLazy}. */
  putLazy(key: string, make: () => unknown): void {
    if (this.#owner.loaded()) this.#batcher!.putLazy(key, make);
  }

  /** The newest unwritten change of `key`; see {@link WriteBatcher.peek}. Only after {@link open}. */
  peek(key: string): ReturnType<WriteBatcher['peek']> {
    return this.#batcher!.peek(key);
  }

  /** The unwritten changes of keys under `prefix` (`undefined`: deleted). Only after {@link open}. */
  peekPrefix(prefix: string): Map<string, unknown> {
    return this.#batcher!.peekPrefix(prefix);
  }

  /** Writes every queued change now; resolves when written (or kept in memory after a fallback). Never rejects. */
  flush(): Promise<void> {
    return this.#batcher?.flush() ?? Promise.resolve();
  }

  /** Flushes, stops batching and closes the store. Never rejects. */
  async close(): Promise<void> {
    await this.#batcher?.close();
    try {
      await this.#guard(Promise.resolve(this.#store?.close?.()), 'closing the store');
    } catch {
      // Best effort: the state is written; a store that cannot close is left to the GC.
    }
  }

  /** Reads from the store; a failure moves to memory and reads there. Only after {@link open}. */
  async read<T>(read: (store: StateStore) => Promise<T>): Promise<T> {
    const store = this.#store!;
    try {
      return await this.#guard(read(store), 'reading state');
    } catch (error) {
      await this.#fallBack(error); // once: later failures wait for the same fallback
      if (this.#store === store) throw error; // the memory store itself refused: not a storage failure
      return read(this.#store!);
    }
  }

  #createStore(): StateStore {
    const storage = this.#options.storage;
    if (storage === 'memory') return new MemoryStateStore();
    if (storage === 'indexeddb') return this.#options.openIndexedDb(this.#options.name);
    return storage;
  }

  async #writeFailed(error: unknown, batch: Map<string, unknown>): Promise<void> {
    // A value the store cannot clone is that value's fault, not the store's: the batch is written
    // key by key, the refused keys are reported, and the store stays. Any other failure falls back.
    if ((error as Error)?.name === 'DataCloneError' && (await this.#writeEach(batch))) return;
    await this.#fallBack(error);
    try {
      await this.#store!.write(batch);
    } catch {
      // The memory store refuses only what cannot be cloned, which never reaches it.
    }
  }

  /** Writes `batch` one key at a time; `false` as soon as a write fails for another reason than cloning. */
  async #writeEach(batch: Map<string, unknown>): Promise<boolean> {
    const refused: string[] = [];
    for (const [key, value] of batch) {
      try {
        await this.#guard(this.#store!.write(new Map([[key, value]])), 'writing state');
      } catch (error) {
        if ((error as Error)?.name !== 'DataCloneError') return false;
        refused.push(key);
      }
    }
    if (refused.length > 0) this.#owner.unstorable(refused);
    return true;
  }

  /** Moves the state to memory, once: keeps what it can, tells the owner once. */
  #fallBack(error: unknown): Promise<void> {
    return (this.#fallback ??= (async () => {
      const failed = this.#store;
      const kind = this.#kind;
      const memory = new MemoryStateStore();
      if (failed) {
        try {
          // Keep the handlers' keys if the failed store can still read them.
          await memory.write(new Map(await this.#guard(failed.entries(KEYS.handlersPrefix), 'copying handler keys')));
        } catch {
          // Unreadable: the handlers start over.
        }
        // Not awaited: a store that hangs (a blocked upgrade) would hang its close too.
        void (async () => failed.close?.())().catch(() => {});
      }
      if (this.#owner.loaded()) await memory.write(this.#owner.snapshot());
      this.#store = memory;
      this.#kind = 'memory';
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.#owner.fellBack(new SyncError('E_FAIL', `The ${kind} state store failed (${why}); choices, item states, the log, the history and handler stores are kept in memory from now on and will not survive a reload.`, { cause: error }));
    })());
  }

  /** Rejects with `E_TIMEOUT` when `promise` does not settle within the storage time limit. */
  #guard<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SyncError('E_TIMEOUT', `The state store did not answer within ${this.#options.timeout} ms while ${what} (a blocked IndexedDB upgrade never answers).`)), this.#options.timeout);
    });
    promise.catch(() => {}); // if the limit wins, a late rejection is not unhandled
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }
}
