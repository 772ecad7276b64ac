/// <reference types="@vitest/browser-playwright" />
// Issue 3, streamed response bodies: a 20 MiB download reaches the worker in
// chunks before the server has even finished sending it, intact, while the
// main thread holds only the chunks in flight (backpressure from the worker's
// reader, what crossed the channel's port, in every engine whatever its body
// reader hands out at once; and, in Chromium, the main isolate's ArrayBuffer
// memory read over CDP). Small bodies cross whole. Tests that need a body
// still streaming when something ends it use a held one (`holdAfter`), which
// no engine can have read to its end first.
import { afterEach, expect, test } from 'vitest';
import { cdp } from 'vitest/browser';
import { TestServer, type RequestRecord } from '../fixtures/server.ts';
import { HAS_CDP } from '../fixtures/cdp.ts';
import { noLiveWorkers, scripted, testBed, type Report } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { FetchEndpoint } from '../../src/index.ts';
import { FetchConnection } from '../../src/connections/fetch-connection.ts';
import { validateEndpoints, type ResolvedEndpoint } from '../../src/connections/endpoint-config.ts';
import { FetchChannel } from '../../src/runtime/fetch-channel.ts';
import { BodySender } from '../../src/connections/response-body.ts';
import { BodyReceiver } from '../../src/runtime/body-receiver.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { STREAM_WINDOW_BYTES } from '../../src/connections/fetch-options.ts';
import type { FetchDown, FetchUp } from '../../src/protocol/fetch-messages.ts';
import { pattern, sha256 } from '../../workers/fixtures/script.ts';

const bed = testBed();
let stopWatching = () => {};
// Registered after the bed's, so it runs before it (after-hooks run in reverse order): the patch is undone before the managers close.
afterEach(() => {
  stopWatching();
});

const MiB = 1024 * 1024;
const SIZE = 20 * MiB;
/** A body of SIZE bytes of which the server sends only the first MiB, then holds the response open until the client goes away: still streaming whatever the engine buffers. */
const HELD = `bytes?n=${SIZE}&holdAfter=${MiB}`;

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
 * chunk of streamed bodies, chunks whose buffer was not transferred, and the
 * most bytes posted and not yet read by the handler at any post (`ahead`:
 * what was posted less the credit the handler's reads gave, seen by wrapping
 * `BodySender.prototype.credit`); and, for the log, the largest chunk one
 * read of a stream reader on this page answered (the engine's body reader
 * among them).
 */
function watchBodies() {
  const seen = { whole: 0, streamed: 0, streamedBytes: 0, largestChunk: 0, copiedChunks: 0, credited: 0, ahead: 0, largestRead: 0 };
  const originalRead = ReadableStreamDefaultReader.prototype.read;
  ReadableStreamDefaultReader.prototype.read = async function (this: ReadableStreamDefaultReader<unknown>) {
    const result = await originalRead.call(this);
    if (result.value instanceof Uint8Array) seen.largestRead = Math.max(seen.largestRead, result.value.byteLength);
    return result;
  } as typeof originalRead;
  const original = MessagePort.prototype.postMessage as (this: MessagePort, message: unknown, transfer?: unknown) => void;
  const originalCredit = BodySender.prototype.credit;
  BodySender.prototype.credit = function (this: BodySender, bytes: number) {
    seen.credited += bytes;
    originalCredit.call(this, bytes);
  };
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
        seen.ahead = Math.max(seen.ahead, seen.streamedBytes - seen.credited);
        if (!(Array.isArray(transfer) && transfer.includes(down.data))) seen.copiedChunks += 1;
      }
    }
    original.call(this, message, transfer);
  } as typeof MessagePort.prototype.postMessage;
  stopWatching = () => {
    MessagePort.prototype.postMessage = original;
    BodySender.prototype.credit = originalCredit;
    ReadableStreamDefaultReader.prototype.read = originalRead;
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

test('a 20 MiB download reaches the worker in chunks long before the server has sent it all, intact, transferred chunk by chunk, never more than STREAM_WINDOW_BYTES ahead of the handler', { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const bodies = watchBodies();
  // Paced: the server waits 2 ms after each 64 KiB, so sending 20 MiB takes at least 640 ms.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}&paceMs=2`, responseBody: 'stream', afterFirstChunk: 'report' },
  ]);

  const first = await reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
  expect(bytesRecord((await server.state()).requests)).toMatchObject({ status: 200, finished: false, aborted: false });

  const done = await step(session.id, 1, 30_000);
  await session.done;
  const value = done.value as { bytes: number; chunks: number; sha256: string; firstChunkMs: number; totalMs: number };
  expect(value.bytes).toBe(SIZE);
  expect(value.sha256).toBe(await sha256(pattern(SIZE)));
  expect(value.chunks).toBeGreaterThan(10);
  expect(value.firstChunkMs).toBeLessThan(value.totalMs / 4);
  expect(bytesRecord((await server.state()).requests)).toMatchObject({ finished: true, aborted: false });
  // The main thread streamed it as transferred chunks, never read it whole, and never got more than the window ahead.
  expect(bodies).toMatchObject({ whole: 0, streamed: 1, streamedBytes: SIZE, copiedChunks: 0 });
  expect(bodies.ahead).toBeLessThanOrEqual(STREAM_WINDOW_BYTES);
  expect(bodies.largestChunk).toBeLessThanOrEqual(STREAM_WINDOW_BYTES);
  console.log(`[fetch-stream] paced 20 MiB: first chunk after ${round(value.firstChunkMs)} ms (${(first.value as { bytes: number }).bytes} B), `
    + `last byte after ${round(value.totalMs)} ms, ${value.chunks} chunks, the largest ${round(bodies.largestChunk / MiB)} MiB, at most ${round(bodies.ahead / MiB)} MiB ahead of the handler`);
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
  const first = (await reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000)).value as { bytes: number };
  // Not synchronisation: time for a main thread without backpressure to read on (it would pass the bound below long before).
  await new Promise((r) => setTimeout(r, 500));
  const passed = bodies.streamedBytes;
  // The window plus the one chunk the handler read before it stopped, however much the engine's reader hands out at once.
  expect(passed).toBeLessThanOrEqual(STREAM_WINDOW_BYTES + first.bytes);
  reports.release(session.id, 'stream-h');
  const value = (await step(session.id, 1, 30_000)).value as { bytes: number; sha256: string };
  await session.done;
  expect(value.bytes).toBe(SIZE);
  expect(value.sha256).toBe(await sha256(pattern(SIZE)));
  expect(bodies.streamedBytes).toBe(SIZE);
  expect(bodies.largestChunk).toBeLessThanOrEqual(STREAM_WINDOW_BYTES);
  expect(bodies.ahead).toBeLessThanOrEqual(STREAM_WINDOW_BYTES);
  console.log(`[fetch-stream] the main thread passed ${round(passed / MiB)} MiB of 20 MiB while the handler paused 500 ms after a first chunk of ${round(first.bytes / MiB)} MiB; `
    + `largest chunk posted ${round(bodies.largestChunk / MiB)} MiB, largest read of the engine's body reader ${round(bodies.largestRead / MiB)} MiB`);
  await noLiveWorkers();
});

/**
 * A BodySender and a BodyReceiver, the two ends of a streamed body, on a real
 * MessageChannel of this page, sending `prefix` and then `chunks` as the
 * network's reader would hand them out (in every engine, whatever its own
 * reader does). `seen` tells what was posted: each chunk's size and whether
 * its buffer was one of the source's, transferred as it was; and the most
 * bytes posted and not yet read (`ahead`).
 */
function wiredBody(prefix: Uint8Array<ArrayBuffer>[], chunks: Uint8Array<ArrayBuffer>[]) {
  const sources = new Set<ArrayBuffer>([...prefix, ...chunks].map((c) => c.buffer));
  const seen = { posted: [] as { bytes: number; own: boolean }[], postedBytes: 0, readBytes: 0, ahead: 0, ended: null as FetchDown | null };
  const { port1, port2 } = new MessageChannel();
  const controller = new AbortController();
  let pulls = 0;
  const queue = [...chunks];
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls += 1;
      const next = queue.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
    cancel() {
      queue.length = 0;
    },
  }, { highWaterMark: 0 });
  const sender = new BodySender('api', 1, (down, transfer = []) => {
    if (down.type === 'chunk') {
      seen.posted.push({ bytes: down.data.byteLength, own: sources.has(down.data) && transfer.includes(down.data) });
      seen.postedBytes += down.data.byteLength;
      seen.ahead = Math.max(seen.ahead, seen.postedBytes - seen.readBytes);
    } else seen.ended = down;
    port1.postMessage(down, transfer);
  }, controller.signal);
  port1.onmessage = (e: MessageEvent<FetchUp>) => {
    if (e.data.type === 'credit') sender.credit(e.data.bytes);
  };
  const receiver = new BodyReceiver(1, (up) => port2.postMessage(up), () => {});
  port2.onmessage = (e: MessageEvent<FetchDown>) => {
    const m = e.data;
    if (m.type === 'chunk') receiver.chunk(m.data);
    else if (m.type === 'end') receiver.end();
  };
  const sent = sender.send(source.getReader(), [...prefix]);
  const reader = receiver.stream.getReader();
  return {
    seen,
    sent,
    controller,
    pulls: () => pulls,
    /** Reads one chunk as the handler would; counts it as read before its credit can reach the sender. */
    async read(): Promise<Uint8Array | null> {
      const r = await reader.read();
      if (r.done) return null;
      seen.readBytes += r.value.byteLength;
      return r.value;
    },
    close() {
      port1.close();
      port2.close();
    },
  };
}

test('a chunk larger than STREAM_WINDOW_BYTES crosses in pieces as the handler reads, never more than the window unread; chunks that fit cross whole, their buffers transferred', async () => {
  const W = STREAM_WINDOW_BYTES;
  const sizes = [2 * W + 3, W - 1, 100, W, W / 2, W + W / 2];
  const all = pattern(sizes.reduce((a, b) => a + b, 0));
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0, i = 0; i < sizes.length; offset += sizes[i]!, i++) parts.push(all.slice(offset, offset + sizes[i]!));
  // The first comes as the prefix (what finding out the body is large read), the others from the reader.
  const body = wiredBody(parts.slice(0, 1), parts.slice(1));

  // The handler has read nothing: exactly the window is posted, the first piece of the prefix, and the network's reader is not asked.
  await expect.poll(() => body.seen.postedBytes, { timeout: 10_000, interval: 1 }).toBe(W);
  expect(body.seen.posted).toEqual([{ bytes: W, own: false }]);
  expect(body.pulls()).toBe(0);

  const got: Uint8Array[] = [];
  for (let chunk = await body.read(); chunk; chunk = await body.read()) got.push(chunk);
  await body.sent;
  expect(body.seen.ended).toEqual({ type: 'end', id: 1 });
  const joined = new Uint8Array(got.reduce((a, c) => a + c.byteLength, 0));
  got.reduce((offset, c) => (joined.set(c, offset), offset + c.byteLength), 0);
  expect(joined.byteLength).toBe(all.byteLength);
  expect(joined.every((b, i) => b === all[i])).toBe(true);

  expect(body.seen.ahead).toBeLessThanOrEqual(W);
  expect(Math.max(...body.seen.posted.map((p) => p.bytes))).toBeLessThanOrEqual(W);
  // The chunks that fit the window are posted as they came, transferred, never copied; only the two larger ones are cut.
  expect(body.seen.posted.filter((p) => p.own).map((p) => p.bytes)).toEqual([W - 1, 100, W, W / 2]);
  expect(body.seen.posted.filter((p) => !p.own).reduce((a, p) => a + p.bytes, 0)).toBe(2 * W + 3 + W + W / 2);
  body.close();
});

test('aborting while a large chunk waits for credit ends the body with the abort reason and cancels the network\'s reader', async () => {
  const W = STREAM_WINDOW_BYTES;
  const body = wiredBody([], [pattern(3 * W), pattern(10)]);
  await expect.poll(() => body.seen.postedBytes, { timeout: 10_000, interval: 1 }).toBe(W);
  const reason = new SyncError('E_ABORT', 'test: aborted mid-chunk');
  body.controller.abort(reason);
  await body.sent;
  expect(body.seen.ended).toMatchObject({ type: 'body-error', id: 1, error: { code: 'E_ABORT', message: 'test: aborted mid-chunk' } });
  expect(body.seen.postedBytes).toBe(W);
  // The second chunk was never asked for.
  expect(body.pulls()).toBe(1);
  body.close();
});

test.runIf(HAS_CDP)('(Chromium only: the main isolate\'s ArrayBuffer memory is read over CDP) figures: time to the first chunk and to the last byte of 20 MiB, and that memory at its peak and left after it', { timeout: 90_000 }, async () => {
  void bed.reports; // listening before the session starts
  const session = cdp();
  const runs: Record<string, { firstChunkMs: number; totalMs: number; left: number; peak: number }[]> = {};
  for (let rep = 0; rep < 3; rep++) {
    for (const responseBody of ['stream', 'whole'] as const) {
      const server = TestServer.create();
      await session.send('HeapProfiler.collectGarbage');
      const { backingStorageSize: base } = await session.send('Runtime.getHeapUsage');
      const stopSampling = sampleMainMemory();
      const { m, session: s } = start({ url: server.apiUrl }, [{ op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}`, responseBody }]);
      const value = (await step(s.id, 1, 30_000)).value as { bytes: number; firstChunkMs: number; totalMs: number };
      const peak = await stopSampling();
      // Before any GC: ArrayBuffers the main isolate still holds, live or garbage.
      const { backingStorageSize: after } = await session.send('Runtime.getHeapUsage');
      await s.done;
      await m.close();
      expect(value.bytes).toBe(SIZE);
      (runs[responseBody] ??= []).push({ firstChunkMs: value.firstChunkMs, totalMs: value.totalMs, left: after - base, peak });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = Object.entries(runs).map(([label, list]) => {
    const first = median(list.map((r) => r.firstChunkMs));
    const total = median(list.map((r) => r.totalMs));
    if (label === 'stream') expect(first).toBeLessThan(total / 2);
    return `${label}: first chunk ${round(first)} ms, last byte ${round(total)} ms, main-isolate ArrayBuffers at the peak +${round(median(list.map((r) => r.peak)) / MiB)} MiB, left +${round(median(list.map((r) => r.left)) / MiB)} MiB`;
  });
  // Every chunk is transferred, so the main isolate's ArrayBuffer memory does not grow with a streamed body.
  expect(median(runs.stream!.map((r) => r.peak))).toBeLessThan(4 * MiB);
  expect(median(runs.stream!.map((r) => r.left))).toBeLessThan(4 * MiB);
  console.log(`[fetch-stream] 20 MiB, medians of 3 (Vitest's Playwright page: absolute times are slower than a bare browser):\n  ${rows.join('\n  ')}`);
});

test('aborting from the worker ends the request on the server, before the response and mid-stream; so does cancelling the body', { timeout: 30_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // The bodies are held open by the server, and the first request is aborted only once the
  // server has it: the server sees each request end early, however slow the machine is.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch', on: 'api', path: 'slow?ms=120000', read: 'text', abortOnRelease: true },
    { op: 'fetch-stream', on: 'api', path: HELD, responseBody: 'stream', afterFirstChunk: 'abort' },
    { op: 'fetch-stream', on: 'api', path: `${HELD}&c=1`, responseBody: 'stream', afterFirstChunk: 'cancel' },
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
    ['bytes', HELD.slice('bytes?'.length), true, false],
    ['bytes', `${HELD.slice('bytes?'.length)}&c=1`, true, false],
  ]);
  // Nothing was left running for the end of the session to abort.
  expect(result.connections.map((c) => c.abortedRequests)).toEqual([0]);
  await noLiveWorkers();
});

/** Churns this page's heap (where the manager runs) so that its garbage collector runs. */
function collectGarbage(): void {
  let keep: number[][] = [];
  for (let i = 0; i < 400; i++) {
    keep.push(new Array<number>(50_000).fill(i));
    if (keep.length > 20) keep = [];
  }
}

test("an abort reaches the network after the page's garbage collector ran, before the response and mid-stream (WebKit dropped the aborts of collected Requests)", { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // One request waiting for its response and one mid-stream: each holds one of the browser's few
  // connections to the host, which the test's own requests to the server's control API share.
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch', on: 'api', path: 'slow?ms=120000&c=1', noAwait: true },
    { op: 'fetch-stream', on: 'api', path: HELD, responseBody: 'stream', afterFirstChunk: 'wait' },
  ]);
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
  await server.waitFor((s) => s.requests.length === 2, 15_000);
  for (let round = 0; round < 3; round++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The cancelled handler aborts its requests (its signal); the manager aborts them on the network.
  session.cancel();
  await session.done;
  const records = await server.waitFor((s) => (s.requests.every((r) => r.aborted) ? s.requests : null), 15_000);
  // The two requests start at once: the server may record either first.
  expect(records.map((r) => [r.path, r.aborted, r.finished]).sort()).toEqual([['bytes', true, false], ['slow', true, false]]);
  await noLiveWorkers();
});

test('the end of the session aborts a body still streaming: the server sees the connection closed', { timeout: 30_000 }, async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const { session } = start({ url: server.apiUrl }, [
    { op: 'fetch', on: 'api', path: HELD, responseBody: 'stream', noAwait: true },
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
  const response = await channel.fetch(HELD, { responseBody: 'stream' });
  const reader = response.body!.getReader();
  expect((await reader.read()).value!.byteLength).toBeGreaterThan(0);
  expect(await connection.close()).toEqual({ closeCode: null, abortedRequests: 1 });
  // Chunks posted before the close may still be read; then the body errors, it never ends.
  let error: unknown = null;
  let bytes = 0;
  for (;;) {
    const r = await reader.read().catch((e: unknown) => {
      error = e;
      return null;
    });
    if (r === null) break;
    expect(r.done).toBe(false);
    bytes += r.value!.byteLength;
  }
  expect(bytes).toBeLessThan(MiB);
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
