// DESIGN.md §2, the fetch channel: the manager makes every request, so the
// endpoint's headers reach the server but never the worker; paths stay inside
// the endpoint's base URL (escapes refused with E_ACCESSDENIED and never
// sent); bodies of several MiB arrive intact both ways; HTTP error statuses
// resolve; an endpoint with a probe is up only when the probe answers 2xx.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, scripted, testBed, type Report, type Script } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { ConnectionEvent, FetchEndpoint } from '../../src/index.ts';
import { pattern, sha256 } from '../../workers/fixtures/script.ts';

const bed = testBed();

const MiB = 1024 * 1024;

/** Every report of a session, once every listed handler has reported that its synchronize returned. */
async function sessionReports(sessionId: string, ...handlerIds: string[]): Promise<Report[]> {
  await Promise.all(handlerIds.map((h) => bed.reports.wait((r) => r.sessionId === sessionId && r.handlerId === h && r.phase === 'returned', 15_000)));
  return bed.reports.all.filter((r) => r.sessionId === sessionId);
}

/** Runs one scripted handler `h` against a fetch endpoint `api` and returns the session result. */
function run(api: Omit<FetchEndpoint, 'kind'>, steps: Step[], extra: Partial<Script> = {}) {
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', ...api } }, handlers: [scripted('fetch-h')] });
  return m.synchronize({ cookie: { scripts: { 'fetch-h': { steps, ...extra } } } });
}

/** The same byte pattern the fixtures use: byte i = i % 251. */


test('static endpoint headers reach the server and never the worker', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const secret = `static-${crypto.randomUUID()}`;
  const session = run({ url: server.apiUrl, headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret } }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'health', read: 'json', headers: { 'x-from-worker': 'w1' } },
    { op: 'fetch', on: 'api', path: 'echo', body: 'payload', read: 'text' },
    { op: 'inspect', on: 'api' },
  ]);
  const result = await session.done;
  const seen = await sessionReports(session.id, 'fetch-h');

  expect(seen.filter((r) => r.ok === false)).toEqual([]);
  expect((await reports.stepOf(session.id, 'fetch-h', 2)).value).toMatchObject({ status: 200, text: 'payload' });
  const state = await server.state();
  expect(state.requests.map((r) => r.path)).toEqual(['health', 'echo']);
  for (const request of state.requests) {
    expect(request.headers.authorization).toBe(`Bearer ${secret}`);
    expect(request.headers['x-api-key']).toBe(secret);
  }
  expect(state.requests[0]!.headers['x-from-worker']).toBe('w1');
  // Nothing the worker reported (responses, their headers, the channel, the context) holds the secret.
  expect(JSON.stringify(seen)).not.toContain(secret);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('endpoint headers from an async function reach the server and never the worker', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const secret = `dynamic-${crypto.randomUUID()}`;
  let calls = 0;
  const headers = async () => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 5));
    return { authorization: `Bearer ${secret}` };
  };
  const session = run({ url: server.apiUrl, headers }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'health', read: 'json' },
    { op: 'fetch', on: 'api', path: 'bytes?n=16', read: 'bytes' },
    { op: 'inspect', on: 'api' },
  ]);
  await session.done;
  const seen = await sessionReports(session.id, 'fetch-h');

  expect(seen.filter((r) => r.ok === false)).toEqual([]);
  expect(calls).toBeGreaterThan(0);
  const state = await server.state();
  expect(state.requests.map((r) => [r.path, r.status, r.headers.authorization])).toEqual([
    ['health', 200, `Bearer ${secret}`],
    ['bytes', 200, `Bearer ${secret}`],
  ]);
  expect(JSON.stringify(seen)).not.toContain(secret);
  await noLiveWorkers();
});

test('paths escaping the endpoint are refused with E_ACCESSDENIED and never sent', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // Escapes aim at another tenant's health endpoint, so a request that got out would show up there.
  const other = TestServer.create();
  const host = location.host;
  const escapes = [
    '../x',
    '..',
    'a/../b',
    'a/../../health',
    `../../${other.tenant}/api/health`,
    `%2e%2e/%2e%2e/${other.tenant}/api/health`,
    `%2E%2E/%2e%2E/${other.tenant}/api/health`,
    'a/%2e%2e/health',
    `..\\..\\${other.tenant}\\api\\health`,
    'https://example.com/x',
    `http://${host}/t/${other.tenant}/api/health`,
    `http://${host}/t/${server.tenant}/api/health`,
    `//example.com/x`,
    `//${host}/t/${other.tenant}/api/health`,
  ];
  const steps: Step[] = [
    { op: 'establish', name: 'api' },
    ...escapes.map((path): Step => ({ op: 'fetch', on: 'api', path, read: 'text' })),
    { op: 'fetch', on: 'api', path: 'health', read: 'json' },
  ];
  const session = run({ url: server.apiUrl }, steps);
  await session.done;

  for (const [i, path] of escapes.entries()) {
    const r = await reports.stepOf(session.id, 'fetch-h', i + 1);
    expect(r.ok, path).toBe(false);
    expect(r.error?.code, path).toBe('E_ACCESSDENIED');
    expect(r.error?.message, path).toContain("'api'");
  }
  expect((await reports.stepOf(session.id, 'fetch-h', escapes.length + 1)).value).toMatchObject({ status: 200, json: { ok: true } });
  // Only the last, legitimate request reached the server; none reached the other tenant.
  expect((await server.state()).requests.map((r) => r.path)).toEqual(['health']);
  expect((await other.state()).requests).toEqual([]);
  await noLiveWorkers();
});

test('a leading / means the endpoint base', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const session = run({ url: server.apiUrl }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: '/health', read: 'json' },
    { op: 'fetch', on: 'api', path: '/bytes?n=10', read: 'bytes' },
  ]);
  await session.done;

  expect((await reports.stepOf(session.id, 'fetch-h', 1)).value).toMatchObject({ status: 200, json: { ok: true } });
  expect((await reports.stepOf(session.id, 'fetch-h', 2)).value).toMatchObject({ status: 200, bytes: 10 });
  expect((await server.state()).requests.map((r) => [r.method, r.path, r.query, r.status])).toEqual([
    ['GET', 'health', '', 200],
    ['GET', 'bytes', 'n=10', 200],
  ]);
  await noLiveWorkers();
});

test('binary, text and JSON bodies of 6 MiB arrive intact both ways', { timeout: 60_000 }, async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const size = 6 * MiB;
  // Text with multi-byte characters, at least `size` UTF-8 bytes.
  const unit = 'sync é € 😀 ';
  const text = unit.repeat(Math.ceil(size / new TextEncoder().encode(unit).byteLength));
  const textBytes = new TextEncoder().encode(text);
  const json = { kind: 'bulk', rows: Array.from({ length: 60_000 }, (_, i) => ({ i, name: `row-${i}`, tags: ['a', 'ü', '☃'], note: 'x'.repeat(64) })) };
  const jsonBytes = new TextEncoder().encode(JSON.stringify(json)).byteLength;
  expect(jsonBytes).toBeGreaterThan(size);

  const session = run({ url: server.apiUrl }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'echo', body: { binary: size }, read: 'bytes' }, // 1
    { op: 'fetch', on: 'api', path: 'echo', body: text, read: 'bytes' }, // 2
    { op: 'fetch', on: 'api', path: 'echo', body: { json }, read: 'json' }, // 3
    { op: 'fetch', on: 'api', path: `bytes?n=${size}`, read: 'bytes' }, // 4
  ]);
  const result = await session.done;

  expect(result.handlers[0]!.outcome).toBe('succeeded');
  const binary = await sha256(pattern(size));
  expect((await reports.stepOf(session.id, 'fetch-h', 1)).value).toMatchObject({ status: 200, bytes: size, sha256: binary });
  expect((await reports.stepOf(session.id, 'fetch-h', 2)).value).toMatchObject({ status: 200, bytes: textBytes.byteLength, sha256: await sha256(textBytes) });
  const echoedJson = (await reports.stepOf(session.id, 'fetch-h', 3)).value as { status: number; json: unknown };
  expect(echoedJson.status).toBe(200);
  expect(echoedJson.json).toEqual(json);
  expect((await reports.stepOf(session.id, 'fetch-h', 4)).value).toMatchObject({ status: 200, bytes: size, sha256: binary });
  const requests = (await server.state()).requests;
  expect(requests.map((r) => [r.method, r.path, r.bodyBytes, r.status])).toEqual([
    ['POST', 'echo', size, 200],
    ['POST', 'echo', textBytes.byteLength, 200],
    ['POST', 'echo', jsonBytes, 200],
    ['GET', 'bytes', 0, 200],
  ]);
  await noLiveWorkers();
});

test('an HTTP error status resolves with that status, it is not an error', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 500, paths: ['notes'], count: 1 } });
  // Retries off, or the 500 would be retried (fetch-retry.test.ts) and answered 200.
  const session = run({ url: server.apiUrl, retry: false }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'no/such/endpoint', read: 'json' },
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
  ]);
  const result = await session.done;

  const notFound = await reports.stepOf(session.id, 'fetch-h', 1);
  expect(notFound.ok).toBe(true);
  expect(notFound.value).toMatchObject({ status: 404, json: { error: expect.stringContaining('no/such/endpoint') } });
  const injected = await reports.stepOf(session.id, 'fetch-h', 2);
  expect(injected.ok).toBe(true);
  expect(injected.value).toMatchObject({ status: 500, json: { error: expect.stringContaining('injected failure') } });
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect((await server.state()).requests.map((r) => [r.method, r.path, r.status])).toEqual([
    ['GET', 'no/such/endpoint', 404],
    ['GET', 'notes', 500],
  ]);
  await noLiveWorkers();
});

test('an endpoint with a probe establishes when the probe answers 2xx, sending the endpoint headers', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const secret = `probe-${crypto.randomUUID()}`;
  const session = run({ url: server.apiUrl, probe: 'health', headers: { 'x-api-key': secret } }, [
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' },
  ]);
  const result = await session.done;

  expect((await reports.stepOf(session.id, 'fetch-h', 0)).value).toMatchObject({ name: 'api', kind: 'fetch' });
  expect((await reports.stepOf(session.id, 'fetch-h', 1)).value).toMatchObject({ status: 200 });
  const requests = (await server.state()).requests;
  expect(requests.map((r) => [r.method, r.path, r.status, r.headers['x-api-key']])).toEqual([
    ['GET', 'health', 200, secret],
    ['GET', 'notes', 200, secret],
  ]);
  expect(result.connections.map((c) => [c.name, c.kind])).toEqual([['api', 'fetch']]);
  await noLiveWorkers();
});

test('an endpoint whose probe answers 503 fails to establish with E_FAIL naming the endpoint, the handler and the status', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  await server.faults({ apiFail: { status: 503, paths: ['health'] } });
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, probe: 'health' } }, handlers: [scripted('probe-h')] });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e: ConnectionEvent) => errors.push(e));
  const session = m.synchronize({ cookie: { scripts: { 'probe-h': { steps: [{ op: 'establish', name: 'api' }] } } } });
  const result = await session.done;

  const r = await reports.stepOf(session.id, 'probe-h', 0);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_FAIL');
  expect(r.error?.message).toContain("'api'");
  expect(r.error?.message).toContain('probe-h');
  expect(r.error?.message).toContain('503');
  expect(errors.map((e) => [e.name, e.kind, e.handlerId, (e.error as { code?: string } | null)?.code])).toEqual([['api', 'fetch', 'probe-h', 'E_FAIL']]);
  expect(result.connections).toEqual([]);
  expect((await server.state()).requests.map((x) => [x.path, x.status])).toEqual([['health', 503]]);
  await noLiveWorkers();
});

test('a URL or a Request as the path is refused with E_INVALIDARG naming what to pass, before anything is sent', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('inputs', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const api = await ctx.establishConnection('api', 'fetch');
        const refusal = (input) => api.fetch(input).then(() => 'sent', (e) => ({ name: e.name, code: e.code, message: e.message }));
        report(ctx, 'refused', { url: await refusal(new URL('http://127.0.0.1/notes')), request: await refusal(new Request('http://127.0.0.1/notes')) });
      },
    });
  `);
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl } }, handlers: [handler] });
  const session = m.synchronize();
  const { url, request } = (await bed.reports.phase(session.id, 'inputs', 'refused')).value as Record<string, { code: string; message: string }>;
  for (const refused of [url!, request!]) {
    expect(refused).toMatchObject({ name: 'SyncError', code: 'E_INVALIDARG' });
    expect(refused.message).toMatch(/the path must be a string relative to the endpoint, not object/);
  }
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});
