import { afterEach, expect, test } from 'vitest';

// Nothing here imports the library statically: the dynamic imports below are
// the first evaluation of its modules in this test file's page.

const touched: string[] = [];
const restore: (() => void)[] = [];

/** Counts a call made from the library's own modules (vitest's import wrapper draws random numbers itself). */
function note(key: string): void {
  if (new Error().stack?.includes('/src/')) touched.push(key);
}

function watch<T extends object>(owner: T, key: keyof T & string): void {
  const original = owner[key];
  const counted = new Proxy(original as object, {
    apply(target, self, args) {
      note(key);
      return Reflect.apply(target as (...a: unknown[]) => unknown, self, args);
    },
    construct(target, args) {
      note(key);
      return Reflect.construct(target as new (...a: unknown[]) => object, args);
    },
  });
  Object.defineProperty(owner, key, { value: counted, configurable: true, writable: true });
  restore.push(() => Object.defineProperty(owner, key, { value: original, configurable: true, writable: true }));
}

afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

test('importing either entry point opens nothing, starts nothing and draws no randomness', async () => {
  watch(Math, 'random');
  watch(crypto, 'randomUUID');
  watch(globalThis, 'Worker');
  watch(globalThis, 'WebSocket');
  watch(globalThis, 'MessageChannel');
  watch(globalThis, 'BroadcastChannel');
  watch(globalThis, 'fetch');
  watch(indexedDB, 'open');
  watch(navigator.locks, 'request');
  const main = await import('../../src/index.ts');
  const handler = await import('../../src/handler.ts');
  expect(typeof main.SyncManager).toBe('function');
  expect(typeof handler.defineHandler).toBe('function');
  expect(touched).toEqual([]);
  // The watch itself works: a call from the library is seen.
  new main.SyncManager({ name: 'purity', handlers: [{ id: 'h', worker: () => new Worker('data:,') }] }).synchronize({ handlers: [] });
  expect(touched).toContain('randomUUID');
});
