import { describe, expect, test } from 'vitest';
import { checkStoreKey, checkStorePrefix, checkStoreValue } from '../../src/state/store-input.ts';
import { MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from '../../src/protocol/types.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { estimateSize } from '../../src/storage/value-size.ts';

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
    expect(estimateSize({ ab: 1 })).toBe(4 + 8);
    expect(estimateSize(new Map([['k', 'v']]))).toBe(4);
    expect(estimateSize([1, 2])).toBe(8 + 16);
  });

  test('survives cycles and stops early past the limit', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(estimateSize(a)).toBeGreaterThan(0);
    const big = Array.from({ length: 1000 }, () => 'x'.repeat(1000));
    expect(estimateSize(big, 10_000)).toBeLessThan(20_000);
  });
});
