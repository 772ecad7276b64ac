import { expect, test } from 'vitest';
import { BURST_GAP_MS, FrameBatcher, MAX_BATCH_FRAMES, UNBATCHED_BYTES, type FramePort } from '../../src/internal/frame-batcher.ts';
import type { Frame } from '../../src/protocol/api.ts';

/** A port that records what is posted (a frame or an array of frames) and what is transferred. */
function recorder() {
  const posted: { message: Frame | Frame[]; transfer: ArrayBuffer[] }[] = [];
  const port: FramePort = { postMessage: (message, transfer) => posted.push({ message, transfer }) };
  const ticks: (() => void)[] = [];
  const batcher = new FrameBatcher(port, (fn) => ticks.push(fn));
  const tick = () => ticks.splice(0).forEach((fn) => fn());
  return { posted, batcher, tick, ticks };
}

const idle = () => {
  const until = performance.now() + BURST_GAP_MS * 3;
  while (performance.now() < until) { /* let the gap pass */ }
};

test('frames apart from each other are posted at once, one message each, with no tick scheduled', () => {
  const { posted, batcher, ticks } = recorder();
  batcher.push('a');
  idle();
  batcher.push('b');
  expect(posted.map((p) => p.message)).toEqual(['a', 'b']);
  expect(ticks).toHaveLength(0);
});

test('a burst of small frames: the first goes at once, the rest in one message at the next tick, in order', () => {
  const { posted, batcher, tick } = recorder();
  const small = new ArrayBuffer(100);
  batcher.push('a');
  batcher.push('b');
  batcher.push(small);
  expect(posted.map((p) => p.message)).toEqual(['a']);
  tick();
  expect(posted).toHaveLength(2);
  expect(posted[1]!.message).toEqual(['b', small]);
  expect(posted[1]!.transfer).toEqual([small]);
});

test(`a binary frame of ${UNBATCHED_BYTES} bytes or more is never held for the tick: what is queued goes first, then the frame alone`, () => {
  const { posted, batcher, tick } = recorder();
  const big1 = new ArrayBuffer(UNBATCHED_BYTES);
  const big2 = new ArrayBuffer(64 * 1024);
  batcher.push('a');
  batcher.push('b'); // queued: part of a burst
  batcher.push(big1);
  batcher.push(big2);
  expect(posted.map((p) => p.message)).toEqual(['a', 'b', big1, big2]);
  expect(posted.slice(2).map((p) => p.transfer)).toEqual([[big1], [big2]]);
  tick();
  expect(posted).toHaveLength(4);
});

test(`a batch is posted as soon as it holds ${MAX_BATCH_FRAMES} frames`, () => {
  const { posted, batcher } = recorder();
  batcher.push('first');
  for (let i = 0; i < MAX_BATCH_FRAMES; i++) batcher.push(`f${i}`);
  expect(posted).toHaveLength(2);
  expect((posted[1]!.message as Frame[]).length).toBe(MAX_BATCH_FRAMES);
});
