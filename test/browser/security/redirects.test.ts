// Issue 10, finding 2: a redirect must not take a handler outside its
// endpoint. In 'follow' mode (the default) a response whose final URL lies
// outside the endpoint's base is refused with E_ACCESSDENIED and its body
// never reaches the handler; with redirect: 'error' no redirect is followed,
// so the target never sees a request. The same holds for the probe. What a
// browser sends to a cross-origin redirect target in 'follow' mode
// (Authorization dropped, custom headers kept) is recorded here, because the
// README's security model says so.
import { expect, test } from 'vitest';
import { TestServer, type RequestRecord } from '../../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../../fixtures/harness.ts';
import type { Step } from '../../../workers/fixtures/script.ts';
import type { FetchEndpoint } from '../../../src/index.ts';

const bed = testBed();

/** The body of the server's `secret` route (demo/server/hostile-routes.ts). */
const SECRET_BODY = 'SECRET outside the base';

/** The page's other loopback origin: 127.0.0.1 and localhost reach the same server, and are different origins. */
function otherOrigin(): string {
  const host = location.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return `${location.protocol}//${host}:${location.port}`;
}

interface Case {
  label: string;
  status: 302 | 307;
  method: 'GET' | 'POST';
  /** Where the redirect points. */
  to: (server: TestServer) => string;
  /** The API path of the target's record. */
  target: string;
}

const CASES: Case[] = [
  { label: '302 GET to another origin', status: 302, method: 'GET', to: (s) => `${otherOrigin()}/t/${s.tenant}/api/seen`, target: 'seen' },
  { label: '307 POST to another origin', status: 307, method: 'POST', to: (s) => `${otherOrigin()}/t/${s.tenant}/api/seen`, target: 'seen' },
  { label: '302 GET to a path of the same origin outside the base', status: 302, method: 'GET', to: (s) => `/t/${s.tenant}/api/secret`, target: 'secret' },
  { label: '307 POST to a path of the same origin outside the base', status: 307, method: 'POST', to: (s) => `/t/${s.tenant}/api/secret`, target: 'secret' },
];

function redirectPath(c: Case, server: TestServer): string {
  return `redirect?status=${c.status}&to=${encodeURIComponent(c.to(server))}`;
}

/** One handler `h` fetching every case's redirect once over endpoint `api`, based at `…/api/zone/`. */
async function runCases(server: TestServer, extra: Partial<FetchEndpoint>, secret: string) {
  const reports = bed.reports;
  const api: FetchEndpoint = {
    kind: 'fetch', url: `${server.apiUrl}zone/`,
    headers: { authorization: `Bearer ${secret}`, 'x-api-key': `key-${secret}` }, ...extra,
  };
  const steps: Step[] = [
    { op: 'establish', name: 'api' },
    ...CASES.map((c): Step => ({ op: 'fetch', on: 'api', path: redirectPath(c, server), method: c.method, ...(c.method === 'POST' ? { body: 'payload' } : {}), read: 'text' })),
  ];
  const m = bed.manager({ endpoints: { api }, handlers: [scripted('h')] });
  const session = m.synchronize({ cookie: { scripts: { h: { steps } } } });
  const result = await session.done;
  const failures = await reports.failures(session.id, 'h');
  const seen = reports.all.filter((r) => r.sessionId === session.id);
  return { result, failures, seen, requests: (await server.state()).requests };
}

function recordsOf(requests: RequestRecord[], path: string, method?: string): RequestRecord[] {
  return requests.filter((r) => r.path === path && (method === undefined || r.method === method));
}

test("'follow' (the default): a redirect out of the base is refused with E_ACCESSDENIED and its body never reaches the handler", async () => {
  const server = TestServer.create();
  const secret = `follow-${crypto.randomUUID()}`;
  const { result, failures, seen, requests } = await runCases(server, {}, secret);

  expect(failures.map((f) => [f.index, f.error?.code])).toEqual(CASES.map((_, i) => [i + 1, 'E_ACCESSDENIED']));
  for (const f of failures) {
    expect(f.error!.message).toContain("Endpoint 'api'");
    expect(f.error!.message).toContain('redirected outside the endpoint');
  }
  expect(JSON.stringify(seen)).not.toContain(SECRET_BODY);
  expect(JSON.stringify(seen)).not.toContain('"seen":true');
  expect(JSON.stringify(seen)).not.toContain(secret);
  expect(result.handlers[0]!.outcome).toBe('succeeded');

  // The browser followed each redirect (the engine does not show a target before following it): what reached the targets.
  const cross = recordsOf(requests, 'seen').filter((r) => r.method !== 'OPTIONS');
  expect(cross.map((r) => r.method)).toEqual(['GET', 'POST']);
  for (const r of cross) {
    // A cross-origin redirect drops Authorization and keeps every custom header.
    expect(r.headers.authorization).toBeUndefined();
    expect(r.headers['x-api-key']).toBe(`key-${secret}`);
  }
  const outside = recordsOf(requests, 'secret');
  expect(outside.map((r) => r.method)).toEqual(['GET', 'POST']);
  // A same-origin redirect keeps Authorization too.
  for (const r of outside) expect(r.headers.authorization).toBe(`Bearer ${secret}`);
  await noLiveWorkers();
});

test("redirect: 'error': no redirect is followed; the handler gets E_ACCESSDENIED and the target is never requested", async () => {
  const server = TestServer.create();
  const secret = `strict-${crypto.randomUUID()}`;
  const { result, failures, seen, requests } = await runCases(server, { redirect: 'error' }, secret);

  expect(failures.map((f) => [f.index, f.error?.code])).toEqual(CASES.map((_, i) => [i + 1, 'E_ACCESSDENIED']));
  for (const f of failures) expect(f.error!.message).toMatch(/Endpoint 'api'.*answered with a redirect, and the endpoint refuses redirects \(redirect: 'error'\)/);
  expect(JSON.stringify(seen)).not.toContain(SECRET_BODY);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // Each redirect answer was requested once (a refused answer is not retried), and nothing else: the targets saw no request at all.
  expect(requests.map((r) => [r.method, r.path])).toEqual(CASES.map((c) => [c.method, 'zone/redirect']));
  await noLiveWorkers();
});

test("a redirect that stays inside the base is followed in 'follow' mode and refused in 'error' mode", async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const base = `${server.apiUrl}zone/`;
  const path = `redirect?status=302&to=${encodeURIComponent(`${base}reflect`)}`;
  const m = bed.manager({
    endpoints: { loose: { kind: 'fetch', url: base }, strict: { kind: 'fetch', url: base, redirect: 'error' } },
    handlers: [scripted('h')],
  });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [
      { op: 'establish', name: 'loose' },
      { op: 'establish', name: 'strict' },
      { op: 'fetch', on: 'loose', path, read: 'text' },
      { op: 'fetch', on: 'strict', path, read: 'text' },
    ] } } },
  });
  await session.done;
  expect((await reports.stepOf(session.id, 'h', 2)).value).toMatchObject({ status: 200, text: 'reflected' });
  const strict = await reports.stepOf(session.id, 'h', 3);
  expect(strict.error).toMatchObject({ code: 'E_ACCESSDENIED', message: expect.stringContaining("Endpoint 'strict'") });
  expect((await server.state()).requests.map((r) => r.path)).toEqual(['zone/redirect', 'zone/reflect', 'zone/redirect']);
  await noLiveWorkers();
});

test('the probe follows the same rules: a redirect out of the base, or any redirect with redirect: error, fails establishConnection with E_ACCESSDENIED', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const probe = `redirect?status=302&to=${encodeURIComponent(`/t/${server.tenant}/api/secret`)}`;
  const crossProbe = `redirect?status=307&to=${encodeURIComponent(`${otherOrigin()}/t/${server.tenant}/api/seen`)}`;
  const url = `${server.apiUrl}zone/`;
  const headers = { 'x-api-key': `key-${crypto.randomUUID()}` };
  const m = bed.manager({
    endpoints: {
      loose: { kind: 'fetch', url, headers, probe },
      strict: { kind: 'fetch', url, headers, probe, redirect: 'error' },
      strictCross: { kind: 'fetch', url, headers, probe: crossProbe, redirect: 'error' },
    },
    handlers: [scripted('h')],
  });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'loose' }, { op: 'establish', name: 'strict' }, { op: 'establish', name: 'strictCross' }] } } },
  });
  await session.done;
  const failures = await reports.failures(session.id, 'h');
  expect(failures.map((f) => [f.index, f.error?.code])).toEqual([[0, 'E_ACCESSDENIED'], [1, 'E_ACCESSDENIED'], [2, 'E_ACCESSDENIED']]);
  expect(failures[0]!.error!.message).toMatch(/Endpoint 'loose'.*the probe .* was redirected outside the endpoint/);
  expect(failures[1]!.error!.message).toMatch(/Endpoint 'strict'.*refuses redirects/);
  expect(failures[2]!.error!.message).toMatch(/Endpoint 'strictCross'.*refuses redirects/);
  // The loose probe's target was requested (the browser follows before anyone can look); the strict ones' never.
  expect((await server.state()).requests.map((r) => [r.method, r.path])).toEqual([
    ['GET', 'zone/redirect'], ['GET', 'secret'], ['GET', 'zone/redirect'], ['GET', 'zone/redirect'],
  ]);
  await noLiveWorkers();
});

test("'follow' sees only the final URL: a chain that leaves the base and comes back is delivered, though the hop outside got the request with the endpoint's headers", async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const base = `${server.apiUrl}zone/`;
  const secret = `chain-${crypto.randomUUID()}`;
  // zone/redirect → redirect (outside the base) → zone/reflect (inside again)
  const back = `/t/${server.tenant}/api/redirect?status=302&to=${encodeURIComponent(`${base}reflect`)}`;
  const path = `redirect?status=302&to=${encodeURIComponent(back)}`;
  const headers = { 'x-api-key': `key-${secret}` };
  const m = bed.manager({
    endpoints: { loose: { kind: 'fetch', url: base, headers }, strict: { kind: 'fetch', url: base, headers, redirect: 'error' } },
    handlers: [scripted('h')],
  });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [
      { op: 'establish', name: 'loose' },
      { op: 'fetch', on: 'loose', path, read: 'text' },
      { op: 'establish', name: 'strict' },
      { op: 'fetch', on: 'strict', path, read: 'text' },
    ] } } },
  });
  await session.done;
  expect((await reports.stepOf(session.id, 'h', 1)).value).toMatchObject({ status: 200, text: 'reflected' });
  expect((await reports.stepOf(session.id, 'h', 3)).error).toMatchObject({ code: 'E_ACCESSDENIED' });
  const requests = (await server.state()).requests;
  expect(requests.map((r) => [r.path, r.headers['x-api-key']])).toEqual([
    ['zone/redirect', `key-${secret}`],
    ['redirect', `key-${secret}`], // the hop outside the base
    ['zone/reflect', `key-${secret}`],
    ['zone/redirect', `key-${secret}`], // strict: the first answer only
  ]);
  await noLiveWorkers();
});
