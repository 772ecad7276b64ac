/**
 * Batches writes to a {@link StateStore}: changes are collected by key (the
 * last change of a key wins) and written as one atomic `write()`. The first
 * change after a quiet period is written at once; changes that arrive while
 * the store is cooling down are written together when the interval ends. So a
 * flood of changes costs at most one write per interval, and a lone change
 * (a user's click) is written without delay.
 */
import type { StateStore } from './state-store.ts';

/** At most one batched write per this many milliseconds (explicit `flush()` calls aside). */
export const STATE_FLUSH_INTERVAL = 250;

export interface WriteBatcherOptions {
  /** Minimum time between two scheduled writes. Default {@link STATE_FLUSH_INTERVAL}. */
  interval?: number;
  /**
   * Called when a write fails, with the batch that was not written; the
   * batcher then goes on writing later batches to the same store (whose
   * `write` may itself send them elsewhere: the manager's state falls back
   * to memory that way). Must not throw.
   */
  onError(error: unknown, batch: Map<string, unknown>): Promise<void> | void;
}

export class WriteBatcher {
  readonly #store: Pick<StateStore, 'write'>;
  readonly #interval: number;
  readonly #onError: WriteBatcherOptions['onError'];
  #pending = new Map<string, unknown>();
  /** The batch being written now: its values are still visible to readers. */
  #inflight: Map<string, unknown> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(store: Pick<StateStore, 'write'>, options: WriteBatcherOptions) {
    this.#store = store;
    this.#interval = options.interval ?? STATE_FLUSH_INTERVAL;
    this.#onError = options.onError;
  }

  /** Records a change (`undefined` deletes) and schedules a write. */
  put(key: string, value: unknown): void {
    this.#pending.set(key, value);
    this.#schedule();
  }

  /**
   * Records a change whose value is computed only when it is written (or
   * peeked): a record that changes on every call but costs to build is then
   * built once per write, not once per change.
   */
  putLazy(key: string, value: () => unknown): void {
    this.put(key, new Lazy(value));
  }

  /** The newest change of `key` not yet written: `{ found: false }` when there is none. */
  peek(key: string): { found: true; value: unknown } | { found: false } {
    for (const batch of [this.#pending, this.#inflight]) {
      if (batch?.has(key)) return { found: true, value: resolve(batch.get(key)) };
    }
    return { found: false };
  }

  /** The unwritten changes of keys that start with `prefix` (`undefined`: deleted). */
  peekPrefix(prefix: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const batch of [this.#inflight, this.#pending]) {
      for (const [key, value] of batch ?? []) if (key.startsWith(prefix)) out.set(key, resolve(value));
    }
    return out;
  }

  /** How many changes wait to be written. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Writes every pending change now, after any write in flight; resolves when written (never rejects). */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#writePending());
    return this.#chain;
  }

  /** Flushes and stops scheduling; later `put`s are written only by `flush()`. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return; // cooling down: the timer writes
    void this.flush();
    this.#timer = setTimeout(this.#tick, this.#interval);
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#pending.size > 0) this.#schedule();
  };

  async #writePending(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, value] of batch) if (value instanceof Lazy) batch.set(key, value.make());
    this.#inflight = batch;
    try {
      await this.#store.write(batch);
    } catch (error) {
      try {
        await this.#onError(error, batch);
      } catch {
        // onError must not throw; if it does, the chain must still go on.
      }
    } finally {
      this.#inflight = null;
    }
  }
}

/** A value built when it is needed. */
class Lazy {
  readonly make: () => unknown;
  constructor(make: () => unknown) {
    this.make = make;
  }
}

function resolve(value: unknown): unknown {
  return value instanceof Lazy ? value.make() : value;
}
