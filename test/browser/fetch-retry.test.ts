// Issue 3, fetch retries: network errors, 429 and 5xx are retried with
// backoff, honouring Retry-After; other 4xx never; POST only with an opt-in;
// retries give up after the configured count and the handler gets the last
// attempt's response; headers are evaluated per attempt; a 401 runs
// onUnauthorized once and is retried once with fresh headers; retries stop
// when the request or the session ends. Against the endpoint server's fault
// switches (apiFail, apiReset), whose request records show every attempt.
import { expect, test } from 'vitest';
import { TestServer, type RequestRecord } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed, type Report, type Script } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { FetchEndpoint, SyncManager, SyncSession } from '../../src/index.ts';

const bed = testBed();

/** Fast retries, so the tests do not wait for the default backoff. */
const FAST = { minDelay: 20, maxDelay: 40 };

function step(sessionId: string, index: number): Promise<Report> {
  return bed.reports.stepOf(sessionId, 'retry-h', index, 15_000);
}

/** The manager of the last run(): the next run() closes it (the bed has closed it already if it was an earlier test's; close() is idempotent). */
let previous: SyncManager | undefined;

/**
 * Runs one scripted handler against a fetch endpoint `api`; resolves with the
 * session result. `during` runs while the session does (e.g. to release a step).
 */
async function run(api: Omit<FetchEndpoint, 'kind'>, steps: Step[], extra: Partial<Script> = {}, during?: (session: SyncSession) => Promise<void>) {
  void bed.reports; // made before the session starts, if the test has not made them yet
  await previous?.close();
  const m = (previous = bed.manager({ endpoints: { api: { kind: 'fetch', ...api } }, handlers: [scripted('retry-h')] }));
  const session = m.synchronize({ cookie: { scripts: { 'retry-h': { steps: [{ op: 'establish', name: 'api' }, ...steps], ...extra } } } });
  await during?.(session);
  const result = await session.done;
  return { session, result };
}

const summary = (requests: RequestRecord[]) => requests.map((r) => [r.method, r.path, r.status]);
const header = (value: unknown, name: string) => new Map((value as { headers: [string, string][] }).headers).get(name);

test('a 503 with Retry-After: 1 is retried after that delay and the handler gets the 200', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 503, retryAfter: 1, count: 1, paths: ['notes'] } });
  let headerCalls = 0;
  const { session } = await run({ url: server.apiUrl, retry: FAST, headers: () => ({ 'x-attempt': String(++headerCalls) }) }, [
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
  ]);

  const answer = await step(session.id, 1);
  expect(answer.value).toMatchObject({ status: 200, json: { notes: expect.any(Array) } });
  const requests = (await server.state()).requests;
  expect(summary(requests)).toEqual([['GET', 'notes', 503], ['GET', 'notes', 200]]);
  // Retry-After (1 s) replaced the 20 ms backoff.
  expect(requests[1]!.startedAt - requests[0]!.startedAt).toBeGreaterThanOrEqual(1000);
  // The response the handler got is the last attempt's; the headers were evaluated for each attempt.
  expect(header(answer.value, 'x-request-id')).toBe(String(requests[1]!.id));
  expect(requests.map((r) => r.headers['x-attempt'])).toEqual(['1', '2']);
  await noLiveWorkers();
});

test('a 400 is not retried: one request, and the handler gets the 400', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 400, count: 1, paths: ['notes'] } });
  const { session } = await run({ url: server.apiUrl, retry: FAST }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);

  expect((await step(session.id, 1)).value).toMatchObject({ status: 400, json: { error: expect.stringContaining('injected') } });
  expect(summary((await server.state()).requests)).toEqual([['GET', 'notes', 400]]);
  await noLiveWorkers();
});

test('a POST is not retried without an opt-in; with an Idempotency-Key or idempotent: true it is, body and all; a PUT needs none', async () => {
  void bed.reports; // listening before the session starts
  const cases: { name: string; fetch: Partial<Extract<Step, { op: 'fetch' }>>; attempts: number; status: number }[] = [
    { name: 'POST', fetch: {}, attempts: 1, status: 503 },
    { name: 'POST + Idempotency-Key', fetch: { headers: { 'idempotency-key': crypto.randomUUID() } }, attempts: 2, status: 200 },
    { name: 'POST + idempotent: true', fetch: { idempotent: true }, attempts: 2, status: 200 },
    { name: 'PUT', fetch: { method: 'PUT' }, attempts: 2, status: 200 },
    { name: 'PUT + idempotent: false', fetch: { method: 'PUT', idempotent: false }, attempts: 1, status: 503 },
  ];
  for (const c of cases) {
    const server = TestServer.create();
    await server.faults({ apiFail: { status: 503, count: 1, paths: ['echo'] } });
    const { session } = await run({ url: server.apiUrl, retry: FAST }, [{ op: 'fetch', on: 'api', path: 'echo', body: 'payload', read: 'text', ...c.fetch }]);
    const answer = (await step(session.id, 1)).value as { status: number; text: string };
    expect(answer.status, c.name).toBe(c.status);
    if (c.status === 200) expect(answer.text, c.name).toBe('payload');
    const requests = (await server.state()).requests;
    expect(requests.length, c.name).toBe(c.attempts);
    // Every attempt carried the whole body.
    expect(requests.map((r) => r.bodyBytes), c.name).toEqual(Array(c.attempts).fill(7));
  }
  await noLiveWorkers();
});

test('a 429 and a network error are retried', async () => {
  void bed.reports; // listening before the session starts
  const throttled = TestServer.create();
  await throttled.faults({ apiFail: { status: 429, count: 1, paths: ['notes'] } });
  const first = await run({ url: throttled.apiUrl, retry: FAST }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  expect((await step(first.session.id, 1)).value).toMatchObject({ status: 200 });
  expect(summary((await throttled.state()).requests)).toEqual([['GET', 'notes', 429], ['GET', 'notes', 200]]);

  const cut = TestServer.create();
  await cut.faults({ apiReset: { count: 1, paths: ['notes'] } });
  const second = await run({ url: cut.apiUrl, retry: FAST }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  expect((await step(second.session.id, 1)).value).toMatchObject({ status: 200 });
  const requests = (await cut.state()).requests;
  expect(requests.map((r) => [r.path, r.status, r.aborted])).toEqual([['notes', null, true], ['notes', 200, false]]);
  await noLiveWorkers();
});

test('retries give up after the configured count: the handler gets the last response, or E_FAIL for network errors', async () => {
  void bed.reports; // listening before the session starts
  const failing = TestServer.create();
  await failing.faults({ apiFail: { status: 503, paths: ['notes'] } });
  const first = await run({ url: failing.apiUrl, retry: { ...FAST, retries: 2 } }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  const answer = await step(first.session.id, 1);
  const requests = (await failing.state()).requests;
  expect(summary(requests)).toEqual([['GET', 'notes', 503], ['GET', 'notes', 503], ['GET', 'notes', 503]]);
  expect(answer.value).toMatchObject({ status: 503 });
  expect(header(answer.value, 'x-request-id')).toBe(String(requests[2]!.id));

  const cut = TestServer.create();
  await cut.faults({ apiReset: { paths: ['notes'] } });
  const second = await run({ url: cut.apiUrl, retry: { ...FAST, retries: 2 } }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  const failed = await step(second.session.id, 1);
  expect(failed.ok).toBe(false);
  expect(failed.error?.code).toBe('E_FAIL');
  expect(failed.error?.message).toMatch(/'api': GET "notes" \(at [^)]*\) failed \(3 attempts\)/);
  expect((await cut.state()).requests.map((r) => [r.path, r.aborted])).toEqual([['notes', true], ['notes', true], ['notes', true]]);

  // retry: false turns it off.
  const off = TestServer.create();
  await off.faults({ apiFail: { status: 503, paths: ['notes'] } });
  const third = await run({ url: off.apiUrl, retry: false }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  expect((await step(third.session.id, 1)).value).toMatchObject({ status: 503 });
  expect((await off.state()).requests.length).toBe(1);
  await noLiveWorkers();
});

test('a 401 runs onUnauthorized once and the request is retried once with fresh headers; a second 401 goes to the handler', async () => {
  void bed.reports; // listening before the session starts
  let token = 1;
  let hookCalls = 0;
  /** While set, what onUnauthorized waits for before it ends (else 50 ms). */
  let whileRunning: (() => Promise<void>) | null = null;
  let headerCalls = 0;
  const auth = {
    headers: async () => {
      headerCalls += 1;
      return { authorization: `Bearer t${token}` };
    },
    onUnauthorized: async () => {
      hookCalls += 1;
      await (whileRunning?.() ?? new Promise((r) => setTimeout(r, 50)));
      token += 1;
    },
  };

  const server = TestServer.create();
  await server.faults({ apiFail: { status: 401, count: 1, paths: ['notes'] } });
  const first = await run({ url: server.apiUrl, retry: FAST, ...auth }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  expect((await step(first.session.id, 1)).value).toMatchObject({ status: 200 });
  expect(hookCalls).toBe(1);
  expect(headerCalls).toBe(2); // per attempt
  expect((await server.state()).requests.map((r) => [r.status, r.headers.authorization])).toEqual([[401, 'Bearer t1'], [200, 'Bearer t2']]);

  // Still 401 with the fresh token: returned as is, the hook ran once.
  const denied = TestServer.create();
  await denied.faults({ apiFail: { status: 401, paths: ['notes'] } });
  const second = await run({ url: denied.apiUrl, retry: FAST, ...auth }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
  expect((await step(second.session.id, 1)).value).toMatchObject({ status: 401 });
  expect(hookCalls).toBe(2);
  expect((await denied.state()).requests.map((r) => [r.status, r.headers.authorization])).toEqual([[401, 'Bearer t2'], [401, 'Bearer t3']]);

  // Two requests answered 401 at the same time share one onUnauthorized call: it runs until the
  // server has answered both (and a moment more for the second answer to reach the manager).
  const both = TestServer.create();
  whileRunning = async () => {
    await both.waitFor((s) => s.requests.filter((r) => r.status === 401).length === 2);
    await new Promise((r) => setTimeout(r, 500));
  };
  await both.faults({ apiFail: { status: 401, count: 2, paths: ['notes'] } });
  const third = await run({ url: both.apiUrl, retry: FAST, ...auth }, [
    { op: 'fetch', on: 'api', path: 'notes', noAwait: true },
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
    { op: 'wait', ms: 200 },
  ]);
  expect((await step(third.session.id, 2)).value).toMatchObject({ status: 200 });
  expect(hookCalls).toBe(3);
  const records = (await both.state()).requests;
  expect(records.map((r) => r.status).sort()).toEqual([200, 200, 401, 401]);
  expect(records.filter((r) => r.status === 200).map((r) => r.headers.authorization)).toEqual(['Bearer t4', 'Bearer t4']);
  await noLiveWorkers();
});

test('an onUnauthorized that throws rejects the request with E_FAIL naming it', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 401, paths: ['notes'] } });
  const { session } = await run({ url: server.apiUrl, onUnauthorized: () => { throw new Error('refresh token expired'); } }, [
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
  ]);
  const r = await step(session.id, 1);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_FAIL');
  expect(r.error?.message).toContain('onUnauthorized() failed: refresh token expired');
  expect((await server.state()).requests.length).toBe(1);
});

test('retries stop when the handler aborts or the session ends, and no retry is sent afterwards', async () => {
  void bed.reports; // listening before the session starts
  // The handler's signal aborts once the server has answered 503, while the manager waits out a Retry-After of 30 s.
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 503, retryAfter: 30, paths: ['notes'] } });
  let releasedAt = 0;
  const first = await run({ url: server.apiUrl }, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json', abortOnRelease: true }], {}, async (session) => {
    await server.waitFor((s) => s.requests.some((r) => r.status === 503), 15_000);
    releasedAt = performance.now();
    bed.reports.release(session.id, 'retry-h');
  });
  const aborted = await step(first.session.id, 1);
  // Far less than the 30 s the Retry-After asked for.
  expect(performance.now() - releasedAt).toBeLessThan(10_000);
  expect(aborted.ok).toBe(false);
  expect(aborted.error?.message).toContain('fixture: aborted on release');
  expect((await server.state()).requests.length).toBe(1);

  // The session ends (the handler returned) while the manager waits out a Retry-After of 2 s.
  const other = TestServer.create();
  await other.faults({ apiFail: { status: 503, retryAfter: 2, paths: ['notes'] } });
  const second = await run({ url: other.apiUrl }, [
    { op: 'fetch', on: 'api', path: 'notes', noAwait: true },
    { op: 'wait', ms: 300 },
  ]);
  expect(second.result.connections.map((c) => [c.name, c.abortedRequests])).toEqual([['api', 1]]);
  // Measured from the 503 (the worker's start is no part of it): the session did not wait for the retry…
  const [answered] = (await other.state()).requests;
  expect(second.result.endedAt - answered!.startedAt).toBeLessThan(2000);
  // …and none is sent later either, once the Retry-After has passed.
  await new Promise((r) => setTimeout(r, Math.max(0, answered!.startedAt + 2500 - Date.now())));
  expect((await other.state()).requests.length).toBe(1);
  await noLiveWorkers();
});

test('what the browser refuses to send is final: E_INVALIDARG at once, one attempt, nothing reaches the server, no secret in the message', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const withCredentials = new URL(server.apiUrl);
  withCredentials.username = 'agent';
  withCredentials.password = 's3cret-pw';
  const cases: { name: string; api: Omit<FetchEndpoint, 'kind'>; message: RegExp }[] = [
    // new Request() refuses a URL with credentials; fetch would reject with a TypeError that looks like a network error.
    { name: 'url with credentials', api: { url: withCredentials.href, retry: FAST }, message: /cannot be sent, the browser refuses it/ },
    { name: 'header name with a space', api: { url: server.apiUrl, retry: FAST, headers: () => ({ 'x bad': 'tok-123' }) }, message: /header "x bad" .*not a valid HTTP header/ },
    { name: 'header value with a line break', api: { url: server.apiUrl, retry: FAST, headers: () => ({ 'x-token': 'tok-123\nInjected: 1' }) }, message: /header "x-token" .*not a valid HTTP header/ },
  ];
  for (const c of cases) {
    const { session } = await run(c.api, [{ op: 'fetch', on: 'api', path: 'notes', read: 'json' }]);
    const failed = await step(session.id, 1);
    expect(failed.ok, c.name).toBe(false);
    expect(failed.error?.code, c.name).toBe('E_INVALIDARG');
    expect(failed.error?.message, c.name).toMatch(c.message);
    expect(failed.error?.message, c.name).not.toMatch(/s3cret-pw|tok-123/);
  }
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});
