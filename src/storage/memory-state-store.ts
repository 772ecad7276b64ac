/**
 * A {@link StateStore} in memory: the default where IndexedDB is missing
 * (Deno), the fallback when IndexedDB fails, and the double of unit tests.
 * Values are structured clones, as in IndexedDB, so a value changed after
 * `set` or after `get` never changes what is stored.
 */
import type { StateChanges, StateStore } from './state-store.ts';

export class MemoryStateStore implements StateStore {
  readonly #data = new Map<string, unknown>();

  async get(key: string): Promise<unknown> {
    return structuredClone(this.#data.get(key));
  }

  async set(key: string, value: unknown): Promise<void> {
    this.#data.set(key, structuredClone(value));
  }

  async delete(key: string): Promise<void> {
    this.#data.delete(key);
  }

  async update(key: string, updater: (old: unknown) => unknown): Promise<void> {
    this.#data.set(key, structuredClone(updater(structuredClone(this.#data.get(key)))));
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.#data.keys()].filter((key) => key.startsWith(prefix)).sort(byCodeUnit);
  }

  async entries(prefix: string): Promise<[string, unknown][]> {
    return (await this.keys(prefix)).map((key) => [key, structuredClone(this.#data.get(key))]);
  }

  async write(changes: StateChanges): Promise<void> {
    // Clone everything first: one value that cannot be cloned leaves the store untouched.
    const cloned = [...changes].map(([key, value]) => [key, value === undefined ? undefined : structuredClone(value)] as const);
    for (const [key, value] of cloned) {
      if (value === undefined) this.#data.delete(key);
      else this.#data.set(key, value);
    }
  }
}

/** IndexedDB's order of string keys: by UTF-16 code unit (also what `<` does). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
