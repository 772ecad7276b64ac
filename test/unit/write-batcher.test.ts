import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { STATE_FLUSH_INTERVAL, WriteBatcher } from '../../src/storage/write-batcher.ts';
import { MemoryStateStore } from '../../src/storage/memory-state-store.ts';
import type { StateChanges } from '../../src/storage/state-store.ts';

/** A memory store that records every write() batch. */
class CountingStore extends MemoryStateStore {
  readonly batches: Map<string, unknown>[] = [];
  fail: unknown = null;
  override async write(changes: StateChanges): Promise<void> {
    this.batches.push(new Map(changes));
    if (this.fail) throw this.fail;
    return super.write(changes);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WriteBatcher', () => {
  test('a lone change is written at once; changes during the interval are written together when it ends', async () => {
    const store = new CountingStore();
    const batcher = new WriteBatcher(store, { onError: () => {} });
    batcher.put('a', 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.batches.map((b) => [...b])).toEqual([[['a', 1]]]);
    batcher.put('b', 1);
    batcher.put('b', 2);
    batcher.put('a', undefined);
    await vi.advanceTimersByTimeAsync(STATE_FLUSH_INTERVAL - 1);
    expect(store.batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.batches.map((b) => [...b])).toEqual([[['a', 1]], [['b', 2], ['a', undefined]]]);
    expect(await store.entries('')).toEqual([['b', 2]]);
  });

  test('a flood of 10,000 changes over 2 s costs at most 1 + 2000 / interval writes', async () => {
    const store = new CountingStore();
    const batcher = new WriteBatcher(store, { onError: () => {} });
    for (let i = 0; i < 10_000; i++) {
      batcher.put(`k${i % 100}`, i);
      if (i % 50 === 0) await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(STATE_FLUSH_INTERVAL);
    expect(store.batches.length).toBeLessThanOrEqual(1 + Math.ceil(2000 / STATE_FLUSH_INTERVAL) + 1);
    expect(batcher.pendingCount).toBe(0);
    expect(await store.get('k99')).toBe(9999);
  });

  test('flush() writes what is pending now, after the write in flight; peek sees unwritten changes', async () => {
    const store = new CountingStore();
    const batcher = new WriteBatcher(store, { onError: () => {} });
    batcher.put('a', 1);
    await vi.advanceTimersByTimeAsync(0);
    batcher.put('b', 2);
    expect(batcher.peek('b')).toEqual({ found: true, value: 2 });
    expect(batcher.peek('zz')).toEqual({ found: false });
    expect([...batcher.peekPrefix('')]).toEqual([['b', 2]]);
    await batcher.flush(); // before the interval ends
    expect(store.batches.map((b) => [...b.keys()])).toEqual([['a'], ['b']]);
    expect(batcher.peek('b')).toEqual({ found: false });
  });

  test('a failed write goes to onError with its batch; later writes go on', async () => {
    const store = new CountingStore();
    const failures: [unknown, string[]][] = [];
    const batcher = new WriteBatcher(store, { onError: (error, batch) => void failures.push([error, [...batch.keys()]]) });
    store.fail = new Error('quota');
    batcher.put('a', 1);
    await batcher.flush();
    store.fail = null;
    batcher.put('b', 2);
    await batcher.flush();
    expect(failures).toEqual([[store.fail ?? expect.any(Error), ['a']]]);
    expect(await store.keys('')).toEqual(['b']);
  });

  test('a lazy value is built once per write, however often it changed', async () => {
    const store = new CountingStore();
    const batcher = new WriteBatcher(store, { onError: () => {} });
    let builds = 0;
    let n = 0;
    const journal = () => (builds++, { n });
    for (n = 1; n <= 1000; n++) batcher.putLazy('journal', journal);
    n = 1000;
    await vi.advanceTimersByTimeAsync(STATE_FLUSH_INTERVAL);
    expect(builds).toBe(1); // the 1000 changes of one task go into one write
    expect(await store.get('journal')).toEqual({ n: 1000 });
  });

  test('close() flushes and stops the timer', async () => {
    const store = new CountingStore();
    const batcher = new WriteBatcher(store, { onError: () => {} });
    batcher.put('a', 1);
    batcher.put('b', 1);
    await batcher.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(await store.keys('')).toEqual(['a', 'b']);
  });
});
