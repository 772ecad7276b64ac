// Issue 3's fetch channels under Deno, against the demo's endpoint server:
// a streamed response body reaches the worker in transferred chunks before
// the server has sent it all, intact, and the main thread does not read
// ahead of a handler that stops reading (fetch-stream.test.ts in the
// browser); the end of the session aborts a body still streaming; 503, 429
// and network errors are retried, honouring Retry-After, and retries give up
// after the configured count (fetch-retry.test.ts).
import assert from 'node:assert/strict';
import type { FetchEndpoint, SyncManager, SyncSession } from '../../src/index.ts';
import { STREAM_WINDOW_BYTES } from '../../src/connections/fetch-options.ts';
import type { FetchDown } from '../../src/protocol/fetch-messages.ts';
import { scripted } from '../fixtures/scripted.ts';
import { TestServer, type Faults, type RequestRecord } from '../fixtures/server.ts';
import { pattern, sha256, type Report, type Step } from '../../workers/fixtures/script.ts';
import { test, type Bed } from './bed.ts';

const MiB = 1024 * 1024;
const SIZE = 20 * MiB;
/** Larger than every buffer between the server and the handler: the server cannot finish it before the session ends. */
const HUGE = 256 * MiB;
/** Fast retries, so the tests do not wait for the default backoff. */
const FAST = { minDelay: 20, maxDelay: 40 };

/** One scripted handler `h` over a fetch endpoint `api` of the bed's tenant; its first step establishes it. */
function start(bed: Bed, api: Omit<FetchEndpoint, 'kind' | 'url'>, steps: Step[]): { m: SyncManager; session: SyncSession } {
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: bed.server.apiUrl, ...api } }, handlers: [scripted('h')] });
  return { m, session: m.synchronize({ cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'api' }, ...steps] } } } }) };
}

function step(bed: Bed, session: SyncSession, index: number, timeout = 15_000): Promise<Report> {
  return bed.reports.stepOf(session.id, 'h', index, timeout);
}

/**
 * What response bodies the main thread posts on fetch channels' ports, seen
 * by wrapping `MessagePort.prototype.postMessage` (the manager runs in this
 * thread): bodies sent whole and streamed, the bytes and the largest chunk of
 * streamed bodies, and chunks whose buffer was not transferred. Undone by the
 * returned `stop`.
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
  const stop = () => {
    MessagePort.prototype.postMessage = original;
  };
  return { seen, stop };
}

const bytesRecord = (requests: RequestRecord[]) => requests.find((r) => r.path === 'bytes');
const summary = (requests: RequestRecord[]) => requests.map((r) => [r.method, r.path, r.status]);
const header = (value: unknown, name: string) => new Map((value as { headers: [string, string][] }).headers).get(name);

test('a 20 MiB download reaches the worker in chunks long before the server has sent it all, intact, transferred chunk by chunk and never whole', async (bed) => {
  const { seen, stop } = watchBodies();
  try {
    // Paced: the server waits 2 ms after each 64 KiB, so sending 20 MiB takes at least 640 ms.
    const { session } = start(bed, {}, [
      { op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}&paceMs=2`, responseBody: 'stream', afterFirstChunk: 'report' },
    ]);
    await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
    const atFirst = bytesRecord((await bed.server.state()).requests);
    assert.deepEqual([atFirst?.status, atFirst?.finished, atFirst?.aborted], [200, false, false]);

    const done = await step(bed, session, 1, 30_000);
    await session.done;
    const value = done.value as { bytes: number; chunks: number; sha256: string; firstChunkMs: number; totalMs: number };
    assert.equal(value.bytes, SIZE);
    assert.equal(value.sha256, await sha256(pattern(SIZE)));
    assert.ok(value.chunks > 10, `${value.chunks} chunks`);
    assert.ok(value.firstChunkMs < value.totalMs / 4, `first chunk after ${value.firstChunkMs} ms of ${value.totalMs} ms`);
    const atEnd = bytesRecord((await bed.server.state()).requests);
    assert.deepEqual([atEnd?.finished, atEnd?.aborted], [true, false]);
    // The main thread streamed it as transferred chunks and never posted it whole.
    assert.deepEqual(seen, { whole: 0, streamed: 1, streamedBytes: SIZE, largestChunk: seen.largestChunk, copiedChunks: 0 });
    assert.ok(seen.largestChunk <= STREAM_WINDOW_BYTES, `largest chunk ${seen.largestChunk} B`);
    console.log(`[fetch-stream] paced 20 MiB under Deno: first chunk after ${Math.round(value.firstChunkMs)} ms, last byte after ${Math.round(value.totalMs)} ms, ${value.chunks} chunks, largest ${Math.round(seen.largestChunk / 1024)} KiB`);
  } finally {
    stop();
  }
}, { timeout: 60_000 });

test('backpressure: while the handler does not read, the main thread does not read ahead', async (bed) => {
  const { seen, stop } = watchBodies();
  try {
    // Not paced: without backpressure the main thread would have all 20 MiB within a few hundred ms.
    const { session } = start(bed, {}, [
      { op: 'fetch-stream', on: 'api', path: `bytes?n=${SIZE}`, responseBody: 'stream', afterFirstChunk: 'wait' },
    ]);
    await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'first-chunk', 15_000);
    // Not a synchronisation: the time the main thread gets to read ahead, if it would.
    await new Promise((r) => setTimeout(r, 500));
    const passed = seen.streamedBytes;
    // The window plus the chunks read before the handler stopped.
    assert.ok(passed < STREAM_WINDOW_BYTES + 6 * MiB, `${passed} B passed while the handler paused`);
    bed.reports.release(session.id, 'h');
    const value = (await step(bed, session, 1, 30_000)).value as { bytes: number; sha256: string };
    await session.done;
    assert.equal(value.bytes, SIZE);
    assert.equal(value.sha256, await sha256(pattern(SIZE)));
    assert.equal(seen.streamedBytes, SIZE);
  } finally {
    stop();
  }
}, { timeout: 60_000 });

test('the end of the session aborts a body still streaming: the server sees the request cut', async (bed) => {
  const { session } = start(bed, {}, [
    { op: 'fetch', on: 'api', path: `bytes?n=${HUGE}`, responseBody: 'stream', noAwait: true },
    { op: 'wait', ms: 300 },
  ]);
  const result = await session.done;
  assert.deepEqual(result.connections.map((c) => [c.name, c.abortedRequests]), [['api', 1]]);
  const record = await bed.server.waitFor((s) => s.requests.find((r) => r.path === 'bytes' && r.aborted));
  assert.deepEqual([record.status, record.finished], [200, false]);
});

test('a 503 with Retry-After: 1 is retried after that delay, with headers evaluated again, and the handler gets the 200', async (bed) => {
  await bed.server.faults({ apiFail: { status: 503, retryAfter: 1, count: 1, paths: ['notes'] } });
  let headerCalls = 0;
  const { session } = start(bed, { retry: FAST, headers: () => ({ 'x-attempt': String(++headerCalls) }) }, [
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
  ]);
  await session.done;

  const answer = (await step(bed, session, 1)).value as { status: number; json: { notes: unknown[] } };
  assert.equal(answer.status, 200);
  assert.ok(Array.isArray(answer.json.notes));
  const requests = (await bed.server.state()).requests;
  assert.deepEqual(summary(requests), [['GET', 'notes', 503], ['GET', 'notes', 200]]);
  // Retry-After (1 s) replaced the 20 ms backoff.
  assert.ok(requests[1]!.startedAt - requests[0]!.startedAt >= 1000, `retried after ${requests[1]!.startedAt - requests[0]!.startedAt} ms`);
  // The response the handler got is the last attempt's; the headers were evaluated for each attempt.
  assert.equal(header(answer, 'x-request-id'), String(requests[1]!.id));
  assert.deepEqual(requests.map((r) => r.headers['x-attempt']), ['1', '2']);
});

test('a 429 and a network error (the server cuts the connection) are retried; a 400 is not', async (bed) => {
  const cases: { fault: Partial<Faults>; records: unknown[][]; status: number }[] = [
    { fault: { apiFail: { status: 429, count: 1, paths: ['notes'] } }, records: [['notes', 429, false], ['notes', 200, false]], status: 200 },
    { fault: { apiReset: { count: 1, paths: ['notes'] } }, records: [['notes', null, true], ['notes', 200, false]], status: 200 },
    { fault: { apiFail: { status: 400, count: 1, paths: ['notes'] } }, records: [['notes', 400, false]], status: 400 },
  ];
  for (const c of cases) {
    const server = TestServer.create(bed.origin);
    await server.faults(c.fault);
    const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: FAST } }, handlers: [scripted('h')] });
    const session = m.synchronize({ cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'api' }, { op: 'fetch', on: 'api', path: 'notes', read: 'json' }] } } } });
    await session.done;
    const label = JSON.stringify(c.fault);
    assert.equal(((await step(bed, session, 1)).value as { status: number }).status, c.status, label);
    assert.deepEqual((await server.state()).requests.map((r) => [r.path, r.status, r.aborted]), c.records, label);
  }
});

test('retries give up after the configured count: the handler gets the last response, or E_FAIL for network errors', async (bed) => {
  await bed.server.faults({ apiFail: { status: 503, paths: ['notes'] }, apiReset: { paths: ['changes'] } });
  const { session } = start(bed, { retry: { ...FAST, retries: 2 } }, [
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
    { op: 'fetch', on: 'api', path: 'changes', read: 'json' },
  ]);
  await session.done;

  const answer = await step(bed, session, 1);
  const requests = (await bed.server.state()).requests;
  const notes = requests.filter((r) => r.path === 'notes');
  assert.deepEqual(summary(notes), [['GET', 'notes', 503], ['GET', 'notes', 503], ['GET', 'notes', 503]]);
  assert.equal((answer.value as { status: number }).status, 503);
  assert.equal(header(answer.value, 'x-request-id'), String(notes[2]!.id));

  const failed = await step(bed, session, 2);
  assert.equal(failed.ok, false);
  assert.equal(failed.error?.code, 'E_FAIL');
  assert.match(failed.error!.message, /'api': GET "changes" \(at [^)]*\) failed \(3 attempts\)/);
  assert.deepEqual(requests.filter((r) => r.path === 'changes').map((r) => r.aborted), [true, true, true]);
});
