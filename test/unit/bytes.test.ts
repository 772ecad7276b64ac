import { describe, expect, test } from 'vitest';
import { joinChunks, ownBuffer } from '../../src/internal/bytes.ts';

describe('byte buffers that cross threads', () => {
  test('ownBuffer hands over the buffer of a chunk that covers it, and copies a chunk that is a view on part of one', () => {
    const whole = new Uint8Array([1, 2, 3]);
    expect(ownBuffer(whole)).toBe(whole.buffer);
    const part = new Uint8Array(new Uint8Array([0, 1, 2, 3, 4]).buffer, 1, 3);
    const copy = ownBuffer(part);
    expect(copy).not.toBe(part.buffer);
    expect([...new Uint8Array(copy)]).toEqual([1, 2, 3]);
  });

  test('joinChunks joins in order; one covering chunk is not copied; none gives an empty buffer', () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array(new Uint8Array([9, 3, 4]).buffer, 1, 2);
    expect([...new Uint8Array(joinChunks([a, b], 4))]).toEqual([1, 2, 3, 4]);
    expect(joinChunks([a], 2)).toBe(a.buffer);
    expect(joinChunks([], 0).byteLength).toBe(0);
  });
});
