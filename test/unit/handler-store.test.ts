import { describe, expect, test } from 'vitest';
import { checkStoreKey, checkStorePrefix, checkStoreValue } from '../../src/state/store-input.ts';
import { MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from '../../src/protocol/types.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { checkValue, estimateSize } from '../../src/protocol/value-size.ts';

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return SyncError.is(error) ? error.code : 'not a SyncError';
  }
}

describe('ctx.store input checks', () => {
  test('keys are strings of 1 to MAX_STORE_KEY_LENGTH characters', () => {
    expect(checkStoreKey('cursor', 'h', 'get')).toBe('cursor');
    expect(checkStoreKey('../manager/meta', 'h', 'get')).toBe('../manager/meta');
    expect(checkStoreKey('k'.repeat(MAX_STORE_KEY_LENGTH), 'h', 'get')).toHaveLength(MAX_STORE_KEY_LENGTH);
    for (const bad of ['', 'k'.repeat(MAX_STORE_KEY_LENGTH + 1), 5, null, undefined, {}, ['a']]) {
      expect(code(() => checkStoreKey(bad, 'h', 'set'))).toBe('E_INVALIDARG');
    }
    expect(() => checkStoreKey(7, 'notes', 'set')).toThrow(/Handler 'notes': ctx\.store\.set\(key\).*not number/);
  });

  test('a prefix may be empty or absent', () => {
    expect(checkStorePrefix(undefined, 'h', 'keys')).toBe('');
    expect(checkStorePrefix(null, 'h', 'keys')).toBe('');
    expect(checkStorePrefix('cursor:', 'h', 'keys')).toBe('cursor:');
    expect(code(() => checkStorePrefix(3, 'h', 'keys'))).toBe('E_INVALIDARG');
  });

  test('values: not undefined, at most MAX_STORE_VALUE_BYTES', () => {
    expect(code(() => checkStoreValue({ cursor: 5, seen: ['a', 'b'] }, 'h', 'k'))).toBeNull();
    expect(code(() => checkStoreValue(null, 'h', 'k'))).toBeNull();
    expect(code(() => checkStoreValue(new Uint8Array(MAX_STORE_VALUE_BYTES - 100), 'h', 'k'))).toBeNull();
    expect(code(() => checkStoreValue(undefined, 'h', 'k'))).toBe('E_INVALIDARG');
    expect(() => checkStoreValue(undefined, 'h', 'k')).toThrow(/ctx\.store\.delete\('k'\)/);
    expect(code(() => checkStoreValue(new Uint8Array(MAX_STORE_VALUE_BYTES + 1), 'h', 'k'))).toBe('E_INVALIDARG');
    expect(code(() => checkStoreValue('x'.repeat(MAX_STORE_VALUE_BYTES / 2 + 1), 'h', 'k'))).toBe('E_INVALIDARG');
  });
});

describe('estimateSize', () => {
  test('counts strings at two bytes a unit, binary data at its length, keys of objects and maps', () => {
    expect(estimateSize('abc')).toBe(6);
    expect(estimateSize(new ArrayBuffer(100))).toBe(100);
    expect(estimateSize(new Uint16Array(10))).toBe(20);
    // A key: two bytes a unit and one for the entry; a Map's entry: one, plus its key and value.
    expect(estimateSize({ ab: 1 })).toBe(4 + 1 + 8);
    expect(estimateSize(new Map([['k', 'v']]))).toBe(1 + 4);
    // An array: 8, one byte per slot, then its elements.
    expect(estimateSize([1, 2])).toBe(8 + 2 + 16);
  });

  test('survives cycles and stops early past the limit', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(estimateSize(a)).toBeGreaterThan(0);
    const big = Array.from({ length: 1000 }, () => 'x'.repeat(1000));
    expect(estimateSize(big, 10_000)).toBeLessThan(20_000);
  });
});

describe('checkValue', () => {
  test('pays for an array\'s length before its slots: a sparse array of length 2³²−1 is over the limit at once', () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    const t0 = performance.now();
    const check = checkValue(sparse, 1 << 20);
    expect(check.size).toBeGreaterThan(1 << 20);
    expect(check.problem).toBeNull();
    // Bounded work: nowhere near the seconds a walk over every slot takes.
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('a Map of two million empty entries is over the limit after about a million of them: the walk pays for each entry as it visits it', { timeout: 60_000 }, () => {
    let visited = 0;
    class CountingMap<K, V> extends Map<K, V> {
      override *[Symbol.iterator](): MapIterator<[K, V]> {
        for (const entry of super[Symbol.iterator]()) {
          visited++;
          yield entry;
        }
      }
    }
    const big = new CountingMap<number, undefined>();
    for (let i = 0; i < 2_000_000; i++) big.set(i, undefined);
    expect(checkValue(big, 1 << 20).size).toBeGreaterThan(1 << 20);
    expect(visited).toBeLessThan(1_100_000);
  });

  test('names what cannot be stored and where', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } }).WebAssembly;
    expect(checkValue({ mod: new wasm.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) }).problem).toBe('value.mod is a WebAssembly.Module, which IndexedDB cannot store');
    expect(checkValue({ a: [1, () => 2] }).problem).toBe('value.a[1] is a function, which cannot be stored');
    expect(checkValue(new Map([['k', Symbol('s')]])).problem).toBe('value entry 0 is a Symbol, which cannot be stored');
    expect(checkValue(new SharedArrayBuffer(8)).problem).toBe('value is a SharedArrayBuffer, which IndexedDB cannot store');
    expect(checkValue(new Uint8Array(new SharedArrayBuffer(8))).problem).toBe('value is a view of a SharedArrayBuffer, which cannot be stored');
  });

  test('accepts what IndexedDB stores', () => {
    for (const [i, value] of [null, 1, 'x', true, 10n, [1, , 3], new Date(), /re/, new Map([[1, { a: 1 }]]), new Set([1]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2)), new Error('e'), Object.create(null), new (class Point { x = 1; })()].entries()) {
      expect(checkValue(value).problem, `value ${i}`).toBeNull();
    }
  });
});
