import { expect, test } from 'vitest';
import { BURST_GAP_MS, FrameBatcher, MAX_BATCH_BYTES, MAX_BATCH_FRAMES, type FramePort } from '../../src/internal/frame-batcher.ts';
import type { Frame } from '../../src/protocol/socket-messages.ts';

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

test('large binary frames in a burst are batched too, up to MAX_BATCH_BYTES, and keep their order', () => {
  const { posted, batcher, tick } = recorder();
  const size = 64 * 1024;
  const perBatch = MAX_BATCH_BYTES / size;
  const frames = Array.from({ length: perBatch + 4 }, () => new ArrayBuffer(size));
  batcher.push('a');
  for (const f of frames) batcher.push(f);
  tick();
  // 'a' alone, then MAX_BATCH_BYTES of frames in one message, then the last 4 at the tick.
  expect(posted.map((p) => (Array.isArray(p.message) ? p.message.length : 1))).toEqual([1, perBatch, 4]);
  expect(posted.flatMap((p) => p.transfer)).toEqual(frames);
});

test(`a batch is posted as soon as it holds ${MAX_BATCH_FRAMES} frames`, () => {
  const { posted, batcher } = recorder();
  batcher.push('first');
  for (let i = 0; i < MAX_BATCH_FRAMES; i++) batcher.push(`f${i}`);
  expect(posted).toHaveLength(2);
  expect((posted[1]!.message as Frame[]).length).toBe(MAX_BATCH_FRAMES);
});
