/**
 * Chaos, the server's side of a fetch endpoint: 5xx and 429 storms (every
 * attempt counted by the server), every form of `Retry-After` (delay-seconds,
 * the three HTTP-date forms, junk ignored, too long ending the retries),
 * bodies that lie about their length or stall, gzip-coded bodies, answers
 * that never come, and probes that fail. Each case asserts what the README
 * documents and ends with no hang and no leak (cases.ts, `ended`).
 */
import { expect, test } from 'vitest';
import { limitFromSpawn, testBed } from '../../fixtures/harness.ts';
import { TestServer, type Faults } from '../../fixtures/server.ts';
import { pattern, sha256, type Step } from '../../../workers/fixtures/script.ts';
import type { FetchEndpoint } from '../../../src/index.ts';
import { ended, start, value, within, STEP_BOUND_MS } from './cases.ts';

const bed = testBed();

/** Retries at once, so the cases do not wait for the default backoff. */
const FAST = { retries: 3, minDelay: 10, maxDelay: 20, jitter: 0 };

function api(server: TestServer, extra: Partial<FetchEndpoint> = {}): { api: FetchEndpoint } {
  return { api: { kind: 'fetch', url: server.apiUrl, retry: FAST, ...extra } };
}

const establish: Step = { op: 'establish', name: 'api' };
const MiB = 1024 * 1024;

// ---- storms: every request fails ----

const storms: { status: number; attempts: number }[] = [
  ...[500, 502, 503, 504, 507, 429, 599].map((status) => ({ status, attempts: 4 })),
  ...[501, 505, 400, 403, 404, 409, 422].map((status) => ({ status, attempts: 1 })),
];

test.for(storms)('a storm of $status: the server sees $attempts attempt(s) of the GET and the handler gets the last $status', async ({ status, attempts }) => {
  const server = TestServer.create();
  await server.faults({ apiFail: { status, paths: ['notes'] } });
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'notes' }] }, { endpoints: api(server) });
  const answer = value<{ status: number; headers: [string, string][] }>(await run.step(1));
  expect(answer.status).toBe(status);
  await ended(run.session, server);
  const { requests } = await server.state();
  expect(requests.map((r) => [r.method, r.path, r.status])).toEqual(Array(attempts).fill(['GET', 'notes', status]));
  // The answer the handler got is the last attempt's.
  expect(new Map(answer.headers).get('x-request-id')).toBe(String(requests.at(-1)!.id));
});

test('a storm of 503 on a POST without an opt-in: one attempt, the handler gets the 503', async () => {
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 503, paths: ['echo'] } });
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'echo', body: 'x' }] }, { endpoints: api(server) });
  expect(value<{ status: number }>(await run.step(1)).status).toBe(503);
  await ended(run.session, server);
  expect((await server.state()).requests.map((r) => [r.method, r.status])).toEqual([['POST', 503]]);
});

test('a storm of cut connections: 4 attempts, then E_FAIL naming the endpoint and the attempts', async () => {
  const server = TestServer.create();
  await server.faults({ apiReset: { paths: ['notes'] } });
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'notes' }] }, { endpoints: api(server) });
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.code]).toEqual([false, 'E_FAIL']);
  expect(failed.error?.message).toMatch(/'api': GET "notes" \(at [^)]*\) failed \(4 attempts\)/);
  await ended(run.session, server);
  expect((await server.state()).requests.map((r) => [r.path, r.aborted])).toEqual(Array(4).fill(['notes', true]));
});

// ---- Retry-After ----

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
/** The three HTTP-date forms of RFC 9110 §5.6.7. */
const FORMS: Record<string, (d: Date) => string> = {
  'IMF-fixdate': (d) => d.toUTCString(),
  'RFC 850': (d) => `${LONG_DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`,
  asctime: (d) => `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${d.getUTCFullYear()}`,
};

/** Runs one GET of `chaos/retry-after` whose first answer is a 503 with `Retry-After: value`. */
async function retryAfter(value: string, extra: Partial<FetchEndpoint> = {}) {
  const server = TestServer.create();
  const path = `chaos/retry-after?status=503&count=1&value=${encodeURIComponent(value)}`;
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path }] }, { endpoints: api(server, extra) });
  const answer = await run.step(1);
  await ended(run.session, server);
  return { status: (answer.value as { status: number }).status, requests: (await server.state()).requests };
}

test.for(['0', '1'])('Retry-After: %s (delay-seconds) is waited out, then the retry gets the 200', async (seconds) => {
  const { status, requests } = await retryAfter(seconds);
  expect(status).toBe(200);
  expect(requests.map((r) => r.status)).toEqual([503, 200]);
  expect(requests[1]!.startedAt - requests[0]!.startedAt).toBeGreaterThanOrEqual(Number(seconds) * 1000);
});

test.for(Object.keys(FORMS))('Retry-After as a future %s is waited out until that time', async (form) => {
  // A whole second at least one second ahead (an HTTP-date has no fractions).
  const at = Math.ceil((Date.now() + 1000) / 1000) * 1000;
  const { status, requests } = await retryAfter(FORMS[form]!(new Date(at)));
  expect(status).toBe(200);
  expect(requests.map((r) => r.status)).toEqual([503, 200]);
  expect(requests[1]!.startedAt).toBeGreaterThanOrEqual(at - 100);
});

test.for(Object.keys(FORMS))('Retry-After as a past %s means retry now', async (form) => {
  const { status, requests } = await retryAfter(FORMS[form]!(new Date(Date.UTC(1994, 10, 6, 8, 49, 37))), { retry: { ...FAST, maxRetryAfter: 1000 } });
  expect(status).toBe(200);
  expect(requests.map((r) => r.status)).toEqual([503, 200]);
});

const tooLong: { name: string; value: () => string; retry?: Partial<NonNullable<FetchEndpoint['retry']> & object> }[] = [
  { name: '61 s against the default maxRetryAfter (60 s)', value: () => '61' },
  { name: 'an hour of delay-seconds', value: () => '3600' },
  { name: '2 s against a maxRetryAfter of 1 s', value: () => '2', retry: { maxRetryAfter: 1000 } },
  ...Object.keys(FORMS).map((form) => ({ name: `an ${form} an hour ahead`, value: () => FORMS[form]!(new Date(Date.now() + 3_600_000)) })),
];

test.for(tooLong)('a Retry-After longer than maxRetryAfter ($name) ends the retries: one attempt, the handler gets the 503', async ({ value, retry }) => {
  const { status, requests } = await retryAfter(value(), retry ? { retry: { ...FAST, ...retry } } : { retry: { retries: 3, minDelay: 10, maxDelay: 20, jitter: 0 } });
  expect(status).toBe(503);
  expect(requests.map((r) => r.status)).toEqual([503]);
});

// Junk is ignored and the backoff is used. Under a maxRetryAfter of 1 s, any of these read as a delay of a
// second or more (a number, a date ahead) would end the retries instead.
const JUNK = [
  'soon', '-1', '1.5', '3 s', '', '1e3', '0x10', '+5', '2031-01-01T00:00:00Z',
  'Fri, 31 Feb 2031 10:00:00 GMT', 'Sun, 06 Nov 2033 25:00:00 GMT', 'Sun, 6 Nov 2033 08:49:37 GMT', 'Sun, 06 Nov 2033 08:49:37 UTC',
];

test.for(JUNK)('Retry-After %j is junk: ignored, the retry follows the backoff and gets the 200', async (junk) => {
  const { status, requests } = await retryAfter(junk, { retry: { ...FAST, maxRetryAfter: 1000 } });
  expect(status).toBe(200);
  expect(requests.map((r) => r.status)).toEqual([503, 200]);
});

// ---- bodies that lie or stall; gzip ----

interface Fetched {
  status: number;
  bytes: number;
  sha256: string;
}

test.for(['auto', 'whole', 'stream'] as const)('a Content-Length smaller than the body (%s): the handler gets exactly the declared bytes', async (responseBody) => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'chaos/length?declared=400&actual=1000', read: 'bytes', responseBody }] }, { endpoints: api(server) });
  const got = value<Fetched>(await run.step(1));
  expect([got.status, got.bytes, got.sha256]).toEqual([200, 400, await sha256(pattern(400))]);
  await ended(run.session, server);
  expect((await server.state()).requests).toHaveLength(1);
});

test.for(['auto', 'whole', 'stream'] as const)('a Content-Length larger than the body, the connection then cut (%s): the read fails, nothing hangs', async (responseBody) => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'chaos/length?declared=100000&actual=1000', read: 'bytes', responseBody }] }, { endpoints: api(server) });
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.code]).toEqual([false, 'E_FAIL']);
  expect(failed.error?.message).toContain("Endpoint 'api'");
  const result = await ended(run.session, server);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect((await server.state()).requests).toHaveLength(1);
});

test('a body that stalls after its first bytes, the handler aborting its read: the read fails with its reason, the server sees the request aborted', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch-stream', on: 'api', path: 'chaos/length?declared=100000&actual=100&stall=1', afterFirstChunk: 'abort' }] }, { endpoints: api(server) });
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.message]).toEqual([false, 'fixture: aborted after the first chunk']);
  await ended(run.session, server);
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('a body that stalls, read whole, the handler aborting once the server holds the request: the fetch rejects with the reason, the request is aborted', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'chaos/length?declared=100000&actual=100&stall=1', responseBody: 'whole', abortOnRelease: true }] }, { endpoints: api(server) });
  // Aborted only once the server holds the request, however long the worker took to send it.
  await server.waitFor((s) => s.requests.length === 1, 15_000);
  bed.reports.release(run.session.id, 'h');
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.message]).toEqual([false, 'fixture: aborted on release']);
  await ended(run.session, server);
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('a body that stalls while the session is cancelled: the handler ends cancelled, its read fails with E_ABORT, the request is aborted', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch-stream', on: 'api', path: 'chaos/length?declared=100000&actual=100&stall=1', afterFirstChunk: 'report' }] }, { endpoints: api(server) });
  await bed.reports.wait((r) => r.sessionId === run.session.id && r.phase === 'first-chunk', STEP_BOUND_MS);
  run.session.cancel();
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.code]).toEqual([false, 'E_ABORT']);
  const result = await ended(run.session, server);
  expect(result.handlers[0]!.outcome).toBe('cancelled');
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('a body that stalls past the handler time limit: timed-out with E_TIMEOUT, its worker terminated, the request aborted', { timeout: 60_000 }, async () => {
  const server = TestServer.create();
  // The limit runs from the spawn: it leaves room for the worker's start and for establishing and sending
  // on a busy machine, so the request is stalling when it passes.
  const handler = await limitFromSpawn(5000);
  const run = start(bed, { steps: [establish, { op: 'fetch-stream', on: 'api', path: 'chaos/length?declared=100000&actual=100&stall=1' }] }, {
    endpoints: api(server),
    registration: { timeouts: { handler } },
  });
  const result = await ended(run.session, server);
  expect([result.handlers[0]!.outcome, (result.handlers[0]!.error as { code?: string })?.code]).toEqual(['timed-out', 'E_TIMEOUT']);
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('an answer that never comes, the handler aborting while the server holds the request: the fetch rejects with the reason, the request is aborted', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'slow?ms=60000', abortOnRelease: true }] }, { endpoints: api(server) });
  await server.waitFor((s) => s.requests.length === 1, 15_000);
  bed.reports.release(run.session.id, 'h');
  const failed = await run.step(1);
  expect([failed.ok, failed.error?.message]).toEqual([false, 'fixture: aborted on release']);
  await ended(run.session, server);
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('an answer that never comes when the handler returns: the session ends, the request is aborted and counted', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'slow?ms=60000', noAwait: true }, { op: 'wait', ms: 200 }] }, { endpoints: api(server) });
  const result = await ended(run.session, server);
  expect(result.connections.map((c) => [c.name, c.abortedRequests])).toEqual([['api', 1]]);
  expect((await server.state()).requests.map((r) => r.aborted)).toEqual([true]);
});

test('an empty body with Content-Length 0 arrives empty', async () => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: 'chaos/length?declared=0&actual=0', read: 'bytes' }] }, { endpoints: api(server) });
  expect(value<Fetched>(await run.step(1)).bytes).toBe(0);
  await ended(run.session, server);
});

const gzips = [1000, 3 * MiB].flatMap((n) => (['auto', 'whole', 'stream'] as const).map((responseBody) => ({ n, responseBody })));

test.for(gzips)('a gzip-coded body of $n bytes ($responseBody) reaches the handler decoded', async ({ n, responseBody }) => {
  const server = TestServer.create();
  const run = start(bed, { steps: [establish, { op: 'fetch', on: 'api', path: `chaos/gzip?n=${n}`, read: 'bytes', responseBody }] }, { endpoints: api(server) });
  const got = value<Fetched>(await run.step(1));
  expect([got.status, got.bytes, got.sha256]).toEqual([200, n, await sha256(pattern(n))]);
  await ended(run.session, server);
});

// ---- probes ----

const probes: { name: string; faults?: Partial<Faults>; endpoint?: Partial<FetchEndpoint>; code: string; says?: string }[] = [
  { name: 'answered 503 every time', faults: { apiFail: { status: 503, paths: ['health'] } }, code: 'E_FAIL', says: 'answered 503' },
  { name: 'answered 404', faults: { apiFail: { status: 404, paths: ['health'] } }, code: 'E_FAIL', says: 'answered 404' },
  { name: 'answered 429 every time', faults: { apiFail: { status: 429, paths: ['health'] } }, code: 'E_FAIL', says: 'answered 429' },
  { name: 'of a path the server does not have', endpoint: { probe: 'no-such-path' }, code: 'E_FAIL', says: 'answered 404' },
  { name: 'cut every time', faults: { apiReset: { paths: ['health'] } }, code: 'E_FAIL' },
  { name: 'answered after connectTimeout', faults: { apiDelayMs: 5000 }, endpoint: { connectTimeout: 300 }, code: 'E_TIMEOUT' },
  { name: 'whose headers function throws', endpoint: { headers: () => { throw new Error('chaos: no credentials'); } }, code: 'E_FAIL' },
];

test.for(probes)('a probe $name: establishConnection rejects with $code naming the endpoint', async ({ faults, endpoint, code, says }) => {
  const server = TestServer.create();
  if (faults) await server.faults(faults);
  const run = start(bed, { steps: [establish] }, { endpoints: api(server, { probe: 'health', ...endpoint }) });
  const failed = await run.step(0);
  expect([failed.ok, failed.error?.code]).toEqual([false, code]);
  expect(failed.error?.message).toContain("'api'");
  if (says) expect(failed.error?.message).toContain(says);
  const result = await within(ended(run.session, server), 40_000, 'the end of the case');
  expect(result.handlers[0]!.outcome).toBe('succeeded');
});
