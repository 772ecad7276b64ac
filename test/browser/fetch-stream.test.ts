/// <reference types="@vitest/browser-playwright" />
// Issue 3, streamed response bodies: a 20 MiB download reaches the worker in
// chunks before the server has even finished sending it, intact, while the
// main thread holds only the chunks in flight (backpressure from the worker's
// reader, what crossed the channel's port, and the main isolate's ArrayBuffer
// memory read over CDP). Small bodies cross whole.
import { afterEach, expect, test } from 'vitest';
import { cdp } from 'vitest/browser';
import { TestServer, type RequestRecord } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed, type Report } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { FetchEndpoint } from '../../src/index.ts';
import { FetchConnection } from '../../src/connections/fetch-connection.ts';
import { validateEndpoints, type ResolvedEndpoint } from '../../src/connections/endpoint-config.ts';
import { FetchChannel } from '../../src/runtime/fetch-channel.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { STREAM_WINDOW_BYTES } from '../../src/connections/fetch-options.ts';
import type { FetchDown } from '../../src/protocol/fetch-messages.ts';
import { pattern, sha256 } from '../../workers/fixtures/script.ts';

const bed = testBed();
let stopWatching = () => {};
// Registered after the bed's, so it runs before it (after-hooks run in reverse order): the patch is undone before the managers close.
afterEach(() => {
  stopWatching();
});

const MiB = 1024 * 1024;
const SIZE = 20 * MiB;
/** Larger than every buffer between the server and the handler (loopback's socket buffers grow to tens of MiB): the server cannot finish it before the handler reads it. */
const HUGE = 256 * MiB;

function step(sessionId: string, index: number, timeout = 15_000): Promise<Report> {
  return bed.reports.stepOf(sessionId, 'stream-h', index, timeout);
}

function start(api: Omit<FetchEndpoint, 'kind'>, steps: Step[]) {
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', ...api } }, handlers: [scripted('stream-h')] });
  return { m, session: m.synchronize({ cookie: { scripts: { 'stream-h': { steps: [{ op: 'establish', name: 'api' }, ...steps] } } } }) };
}



/**
 * What response bodies the main thread posts on fetch channels' ports, seen
 * by wrapping `MessagePort.prototype.postMessage` on this page (where the
 * manager runs): bodies sent whole and streamed, the bytes and the largest
 * chunk of streamed bodies, and chunks whose buffer was not transferred.
 */
function watchBodies() {
  const seen = { whole: 0, streamed: 0, streamedBytes: 0, largestChunk: 0, copiedChunks: 0 };
  const original = MessagePort.prototype.postMessage as (this: MessagePort, message: unknown, transfer?: unknown) => void;
  MessagePort.prototype.postMessage = function (this: MessagePort, message: unknown, transfer?: unknown) {
    const down = message as FetchDown | null;
    if (down && typeof down === 'object' && 'type' in down) {
      if (down.type === 'response') {
        if (down.body instanceof ArrayBuffer) seen.whole += 1;
        else if (down.body === 'streamed') seen.streamed += 1;
      } else if (down.type === 'chunk') {
        // Read before posting: a transferred buffer is detached afterwards.
        const bytes = down.data.byteLength;
        seen.streamedBytes += bytes;
        seen.largestChunk = Math.max(seen.largestChunk, bytes);
        if (!(Array.isArray(transfer) && transfer.includes(down.data))) seen.copiedChunks += 1;
      }
    }
    original.call(this, message, transfer);
  } as typeof MessagePort.prototype.postMessage;
  stopWatching = () => {
    MessagePort.prototype.postMessage = original;
  };
  return seen;
}

/** Samples the main isolate's ArrayBuffer backing store (CDP Runtime.getHeapUsage) until stopped; answers the peak above the start. */
function sampleMainMemory() {
  const session = cdp();
  let running = true;
  let base = -1;
  let peak = 0;
  const loop = (async () => {
    while (running) {
      const { backingStorageSize } = await session.send('Runtime.getHeapUsage');
      if (base < 0) base = backingStorageSize;
      peak = Math.max(peak, backingStorageSize - base);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}

const bytesRecord = (requests: RequestRecord[]) => requests.find((r) => r.path === 'bytes');
const round = (x: number) => Math.round(x * 10) / 10;

test('a 20 MiB download reaches the worker in chunks long before the server has sent it all, intact, transferred chunk by chunk and never whole in the main thread', { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const bodies = watchBodies();
  const stopSampling = sampleMainMemory();
  // Paced: the server waits 2 ms after each 64 KiB, so sending 20 MiB takes at least 640 ms.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}&paceMs=2`, responseBody: 'stream', afterFirstChunk: 'report' },
  ]);

  const first = await reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
  expect(bytesRecord((await server.state()).requests)).toMatchObject({ status: 200, finished: false, aborted: false });

  const done = await step(session.id, 1, 30_000);
  const peak = await stopSampling();
  await session.done;
  const value = done.value as { bytes: number; chunks: number; sha256: string; firstChunkMs: number; totalMs: number };
  expect(value.bytes).toBe(SIZE);
  expect(value.sha256).toBe(await sha256(pattern(SIZE)));
  expect(value.chunks).toBeGreaterThan(10);
  expect(value.firstChunkMs).toBeLessThan(value.totalMs / 4);
  expect(bytesRecord((await server.state()).requests)).toMatchObject({ finished: true, aborted: false });
  // The main thread streamed it as transferred chunks and never read it whole.
  expect(bodies).toMatchObject({ whole: 0, streamed: 1, streamedBytes: SIZE, copiedChunks: 0 });
  // Every chunk is transferred, so the main isolate's ArrayBuffer memory does not grow with the body.
  expect(peak).toBeLessThan(4 * MiB);
  console.log(`[fetch-stream] paced 20 MiB: first chunk after ${round(value.firstChunkMs)} ms (${(first.value as { bytes: number }).bytes} B), `
    + `last byte after ${round(value.totalMs)} ms, ${value.chunks} chunks; main-isolate ArrayBuffer peak +${round(peak / MiB)} MiB`);
  await noLiveWorkers();
});

test('backpressure: while the handler does not read, the main thread does not read ahead', { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const bodies = watchBodies();
  // Not paced: without backpressure the main thread would have all 20 MiB within a few hundred ms.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}`, responseBody: 'stream', afterFirstChunk: 'wait' },
  ]);
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
  await new Promise((r) => setTimeout(r, 500));
  const passed = bodies.streamedBytes;
  // The window plus the chunks read before the handler stopped (an engine hands out a few MiB at a time).
  expect(passed).toBeLessThan(STREAM_WINDOW_BYTES + 6 * MiB);
  reports.release(session.id, 'stream-h');
  const value = (await step(session.id, 1, 30_000)).value as { bytes: number; sha256: string };
  await session.done;
  expect(value.bytes).toBe(SIZE);
  expect(value.sha256).toBe(await sha256(pattern(SIZE)));
  expect(bodies.streamedBytes).toBe(SIZE);
  expect(bodies.largestChunk).toBeLessThanOrEqual(4 * MiB);
  console.log(`[fetch-stream] the main thread passed ${round(passed / MiB)} MiB of 20 MiB while the handler paused 500 ms`);
  await noLiveWorkers();
});

test('figures: time to the first chunk and to the last byte of 20 MiB, and the main isolate\'s ArrayBuffer memory left after it', { timeout: 90_000 }, async () => {
  void bed.reports; // listening before the session starts
  const session = cdp();
  const runs: Record<string, { firstChunkMs: number; totalMs: number; left: number }[]> = {};
  for (let rep = 0; rep < 3; rep++) {
    for (const responseBody of ['stream', 'whole'] as const) {
      const server = TestServer.create();
      await session.send('HeapProfiler.collectGarbage');
      const { backingStorageSize: base } = await session.send('Runtime.getHeapUsage');
      const { m, session: s } = start({ url: server.apiUrl }, [{ op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}`, responseBody }]);
      const value = (await step(s.id, 1, 30_000)).value as { bytes: number; firstChunkMs: number; totalMs: number };
      // Before any GC: ArrayBuffers the main isolate still holds, live or garbage.
      const { backingStorageSize: after } = await session.send('Runtime.getHeapUsage');
      await s.done;
      await m.close();
      expect(value.bytes).toBe(SIZE);
      (runs[responseBody] ??= []).push({ firstChunkMs: value.firstChunkMs, totalMs: value.totalMs, left: after - base });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = Object.entries(runs).map(([label, list]) => {
    const first = median(list.map((r) => r.firstChunkMs));
    const total = median(list.map((r) => r.totalMs));
    if (label === 'stream') expect(first).toBeLessThan(total / 2);
    return `${label}: first chunk ${round(first)} ms, last byte ${round(total)} ms, main-isolate ArrayBuffers left +${round(median(list.map((r) => r.left)) / MiB)} MiB`;
  });
  expect(median(runs.stream!.map((r) => r.left))).toBeLessThan(4 * MiB);
  console.log(`[fetch-stream] 20 MiB, medians of 3 (Vitest's Playwright page: absolute times are slower than a bare browser):\n  ${rows.join('\n  ')}`);
});

test('aborting from the worker ends the request on the server, before the response and mid-stream; so does cancelling the body', { timeout: 30_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // The bodies are larger than loopback can buffer, and the first request is aborted only once the
  // server has it: the server sees each request end early, however slow the machine is.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch', on: 'api', path: 'slow?ms=120000', read: 'text', abortOnRelease: true },
    { op: 'fetch-stream', on: 'api', path: `bytes?n=${HUGE}`, responseBody: 'stream', afterFirstChunk: 'abort' },
    { op: 'fetch-stream', on: 'api', path: `bytes?n=${HUGE}&c=1`, responseBody: 'stream', afterFirstChunk: 'cancel' },
    { op: 'wait' },
  ]);
  await server.waitFor((s) => s.requests.some((r) => r.path === 'slow'), 15_000);
  reports.release(session.id, 'stream-h');
  const beforeResponse = await step(session.id, 1);
  expect(beforeResponse.ok).toBe(false);
  expect(beforeResponse.error?.message).toBe('fixture: aborted on release');
  const midStream = await step(session.id, 2);
  expect(midStream.ok).toBe(false);
  expect(midStream.error).toMatchObject({ code: 'E_ABORT', message: 'fixture: aborted after the first chunk' });
  const cancelled = await step(session.id, 3);
  expect(cancelled.value).toMatchObject({ status: 200, cancelled: true });
  // The handler still runs (it waits), so it is its abort, not the end of the session, that the server sees.
  const records = await server.waitFor((s) => (s.requests.length === 3 && s.requests.every((r) => r.aborted) ? s.requests : null), 15_000);
  reports.release(session.id, 'stream-h');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');

  expect(records.map((r) => [r.path, r.query, r.aborted, r.finished])).toEqual([
    ['slow', 'ms=120000', true, false],
    ['bytes', `n=${HUGE}`, true, false],
    ['bytes', `n=${HUGE}&c=1`, true, false],
  ]);
  // Nothing was left running for the end of the session to abort.
  expect(result.connections.map((c) => c.abortedRequests)).toEqual([0]);
  await noLiveWorkers();
});

test('the end of the session aborts a body still streaming: the server sees the connection closed', { timeout: 30_000 }, async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch', on: 'api', path: `bytes?n=${HUGE}`, responseBody: 'stream', noAwait: true },
    { op: 'wait', ms: 300 },
  ]);
  const result = await session.done;
  expect(result.connections.map((c) => [c.name, c.abortedRequests])).toEqual([['api', 1]]);
  const record = await server.waitFor((s) => s.requests.find((r) => r.path === 'bytes' && r.aborted));
  expect(record).toMatchObject({ status: 200, finished: false });
  await noLiveWorkers();
});

test('when the connection closes (the session ends), a body still streaming errors with E_ABORT on the handler\'s side', async () => {
  // The two ends wired on the page itself (a worker would be terminated with the session before it could report).
  const server = TestServer.create();
  const endpoint = validateEndpoints({ api: { kind: 'fetch', url: server.apiUrl } }).get('api') as ResolvedEndpoint<'fetch'>;
  const connection = await FetchConnection.open(endpoint, new AbortController().signal);
  const channel = new FetchChannel(connection.attach());
  const response = await channel.fetch(`bytes?n=${HUGE}`, { responseBody: 'stream' });
  const reader = response.body!.getReader();
  expect((await reader.read()).value!.byteLength).toBeGreaterThan(0);
  expect(await connection.close()).toEqual({ closeCode: null, abortedRequests: 1 });
  const error = await reader.read().then(() => null, (e: unknown) => e);
  expect(SyncError.is(error, 'E_ABORT')).toBe(true);
  expect((error as Error).message).toContain('the sync session ended');
  expect(channel.open).toBe(false);
  await expect(channel.fetch('health')).rejects.toMatchObject({ code: 'E_ABORT' });
  expect(await server.waitFor((s) => s.requests.find((r) => r.path === 'bytes' && r.aborted))).toMatchObject({ finished: false });
});

test('small bodies cross whole; a body of unknown length crosses whole when it ends within wholeBodyLimit, else it streams', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const bodies = watchBodies();
  const { session } = start({ url: server.apiUrl, wholeBodyLimit: MiB }, [
    { op: 'fetch', on: 'api', path: 'bytes?n=100000', read: 'bytes' }, // 1: known, small → whole
    { op: 'fetch', on: 'api', path: 'bytes?n=100000&chunked=1', read: 'bytes' }, // 2: unknown, small → whole
    { op: 'fetch', on: 'api', path: `bytes?n=${3 * MiB}&chunked=1`, read: 'bytes' }, // 3: unknown, large → streamed
    { op: 'fetch', on: 'api', path: `bytes?n=${3 * MiB}`, read: 'bytes' }, // 4: known, large → streamed
    { op: 'fetch', on: 'api', path: `bytes?n=${3 * MiB}`, read: 'bytes', responseBody: 'whole' }, // 5: asked whole
    { op: 'fetch', on: 'api', path: 'bytes?n=1000', read: 'bytes', responseBody: 'stream' }, // 6: asked streamed
  ]);
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  const sizes = [100000, 100000, 3 * MiB, 3 * MiB, 3 * MiB, 1000];
  for (const [i, size] of sizes.entries()) {
    expect((await step(session.id, i + 1)).value, `step ${i + 1}`).toMatchObject({ status: 200, bytes: size, sha256: await sha256(pattern(size)) });
  }
  // The probe-less endpoint sends nothing else whole: exactly the three whole bodies and the three streamed ones.
  expect(bodies.whole).toBe(3);
  expect(bodies.streamed).toBe(3);
  expect(bodies.streamedBytes).toBe(3 * MiB + 3 * MiB + 1000);
  await noLiveWorkers();
});
