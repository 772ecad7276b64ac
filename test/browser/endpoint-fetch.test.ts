/**
 * `endpointFetch(name)` (README "Sync libraries"): the conformance probes
 * (workers/fixtures/fetch-probes.ts) run on the engine's own fetch in a
 * worker and on the facade in a handler, and must agree; then what only the
 * facade has: URLs below the endpoint, the endpoint's headers never in the
 * worker, redirects kept inside the base, retries off unless asked for, the
 * SyncMgr rules.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, noUnhandledRejections, testBed } from '../fixtures/harness.ts';

noUnhandledRejections();
const bed = testBed();

/** Bound of the probe runs: they wait on answers, never on time. */
const PROBE_TIMEOUT_MS = 120_000;

function rawProbes(server: TestServer): Promise<Record<string, unknown>> {
  const worker = new Worker(new URL('../../workers/fixtures/raw-fetch-probes.ts', import.meta.url), { type: 'module' });
  bed.cleanup(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as Record<string, unknown>);
    worker.onerror = (event) => reject(new Error(`the raw probe worker failed: ${event.message}`));
    worker.postMessage({ tenant: server.tenant });
  });
}

test('the facade answers every conformance probe as the engine\'s own fetch does', async () => {
  const rawServer = TestServer.create();
  const raw = await rawProbes(rawServer);
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { probe: { kind: 'fetch', url: server.apiUrl } },
    handlers: [{ id: 'probes', worker: () => new Worker(new URL('../../workers/fixtures/facade-fetch-probes.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize({ cookie: { tenant: server.tenant } });
  const facade = (await bed.reports.phase(session.id, 'probes', 'probes', PROBE_TIMEOUT_MS)).value as Record<string, unknown>;
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // The reference behaves as the standard says, so agreeing with it means something.
  expect(raw.get).toMatchObject({ status: 200, ok: true, type: 'basic', redirected: false, url: 'notes', isResponse: true, bodyUsed: true });
  expect(raw.query).toEqual({ status: 200, url: 'notes?folder=inbox' });
  expect(raw.redirectFollowed).toMatchObject({ status: 200, redirected: true, url: 'health', text: '{"ok":true}' });
  expect(raw.redirectManual).toMatchObject({ status: 0, ok: false, type: 'opaqueredirect', redirected: false, headers: 0, text: '' });
  expect(raw.redirectError).toBe('TypeError:TypeError');
  expect(raw.networkError).toBe('TypeError:TypeError');
  expect(raw.invalidInit).toEqual({ bodyOnGet: 'TypeError:TypeError', badMethod: 'TypeError:TypeError', badHeader: 'TypeError:TypeError', badRedirect: 'TypeError:TypeError' });
  expect(raw.abortedBefore).toEqual({ plain: 'DOMException:AbortError', reason: 'reason: my reason' });
  expect(raw.abortedWhileWaiting).toBe('DOMException:AbortError');
  expect(raw.abortedWhileReading).toBe('DOMException:AbortError');
  for (const [name, value] of Object.entries(raw)) expect(value, `raw probe ${name}`).not.toHaveProperty('threw');

  // A HEAD or 204 answer and an opaque redirect have a null body in the facade, as the standard
  // says; some engines' own fetch gives an empty stream instead (so reading it marks it used).
  for (const name of ['head', 'noContent', 'redirectManual']) {
    const [own, ours] = [raw[name] as Record<string, unknown>, facade[name] as Record<string, unknown>];
    expect(ours).toMatchObject({ bodyIsNull: true, bodyUsed: false, text: '' });
    if (own.bodyIsNull === false) Object.assign(own, { bodyIsNull: true, bodyUsed: false });
  }
  for (const name of Object.keys(raw)) expect.soft(facade[name], `probe ${name}`).toEqual(raw[name]);
  await noLiveWorkers();
}, PROBE_TIMEOUT_MS + 30_000);

/** A handler body's helper: how a promise settled, as plain data (an error's class, its code or its cause's, its message). */
const OUTCOME = `
  const outcome = (promise) => promise.then(
    (r) => ({ resolved: true, status: r.status }),
    (e) => ({ name: e?.constructor?.name, code: e?.cause?.code ?? e?.code ?? null, message: String(e?.message ?? e) }),
  );
`;

/** The server's records of the API path `path`. */
async function requestsTo(server: TestServer, path: string) {
  return (await server.state()).requests.filter((r) => r.path === path);
}

test('the origin of a URL is ignored: its path and query go below the endpoint, whose headers the server gets and the worker never sees', async () => {
  const server = TestServer.create();
  const secret = 's3cret-token-4711';
  const handler = inlineHandler('lib', `${OUTCOME}
    const couchFetch = endpointFetch('couch');
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const seen = [];
        for (const input of ['http://couch/notes?folder=inbox', '/notes', 'notes', new URL('http://couch/health'), new Request('http://couch/echo', { method: 'POST', body: 'hi' })]) {
          const r = await couchFetch(input);
          seen.push({ url: r.url, status: r.status, redirected: r.redirected, type: r.type, headers: [...r.headers], body: await r.text() });
        }
        const reflected = await couchFetch('http://couch/reflect');
        seen.push({ headers: [...reflected.headers], statusText: reflected.statusText });
        report(ctx, 'seen', seen);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { couch: { kind: 'fetch', url: async () => server.apiUrl, headers: async () => ({ authorization: `Bearer ${secret}` }) } },
    handlers: [handler],
  });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(JSON.stringify(value)).not.toContain(secret);
  const seen = value as { url: string; status: number; type: string; body: string; headers: [string, string][] }[];
  expect(seen.slice(0, 5).map((s) => [s.url, s.status])).toEqual([
    ['http://couch/notes?folder=inbox', 200],
    // Relative URLs as fetch resolves them: this handler's worker runs from a blob: URL, which cannot be a base.
    ['http://endpoint.invalid/notes', 200],
    ['http://endpoint.invalid/notes', 200],
    ['http://couch/health', 200],
    ['http://couch/echo', 200],
  ]);
  expect(seen[4]!.body).toBe('hi');
  // The reflecting route echoed the request's headers: the endpoint's is withheld, the others arrive.
  const reflected = new Map(seen[5]!.headers);
  expect(reflected.has('x-seen-authorization')).toBe(false);
  expect(reflected.has('x-seen-accept')).toBe(true);
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  const { requests } = await server.state();
  expect(requests.map((r) => [r.method, r.path, r.query, r.headers.authorization])).toEqual([
    ['GET', 'notes', 'folder=inbox', `Bearer ${secret}`],
    ['GET', 'notes', '', `Bearer ${secret}`],
    ['GET', 'notes', '', `Bearer ${secret}`],
    ['GET', 'health', '', `Bearer ${secret}`],
    ['POST', 'echo', '', `Bearer ${secret}`],
    ['GET', 'reflect', '', `Bearer ${secret}`],
  ]);
  // One shared fetch connection, listed in the session's result with the handler.
  expect(result.connections).toEqual([expect.objectContaining({ name: 'couch', kind: 'fetch', dedicated: false, handlers: ['lib'], closedAt: expect.any(Number) })]);
  await noLiveWorkers();
});

test('a redirect out of the base is never delivered (a TypeError caused by E_ACCESSDENIED); with the endpoint\'s redirect: \'error\' the target never gets a request', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OUTCOME}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const { outside, seen } = ctx.cookie;
        const follow = endpointFetch('follow');
        const strict = endpointFetch('strict');
        const results = {
          followOut: await outcome(follow('redirect?status=302&to=' + encodeURIComponent(outside)).then(async (r) => { r.body = await r.text(); return r; })),
          followIn: await follow('redirect?status=302&to=reflect').then(async (r) => ({ url: r.url, redirected: r.redirected, body: await r.text() })),
          strictOut: await outcome(strict('redirect?status=307&to=' + encodeURIComponent(seen), { method: 'POST', body: 'payload' })),
          strictIn: await outcome(strict('redirect?status=302&to=reflect')),
          manual: await strict('redirect?status=302&to=reflect', { redirect: 'manual' }).then((r) => ({ status: r.status, type: r.type })),
        };
        report(ctx, 'seen', results);
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      follow: { kind: 'fetch', url: `${server.apiUrl}zone/` },
      strict: { kind: 'fetch', url: `${server.apiUrl}zone/`, redirect: 'error' },
    },
    handlers: [handler],
  });
  const session = m.synchronize({ cookie: { outside: `${server.apiUrl}secret`, seen: `${server.apiUrl}seen` } });
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(JSON.stringify(value)).not.toContain('SECRET outside the base');
  expect(value).toMatchObject({
    followOut: { name: 'TypeError', code: 'E_ACCESSDENIED' },
    followIn: { url: 'http://endpoint.invalid/reflect', redirected: true, body: 'reflected' },
    strictOut: { name: 'TypeError', code: 'E_ACCESSDENIED' },
    strictIn: { name: 'TypeError', code: 'E_ACCESSDENIED' },
    manual: { status: 0, type: 'opaqueredirect' },
  });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  expect(await requestsTo(server, 'seen')).toEqual([]);
  expect(await requestsTo(server, 'zone/reflect')).toHaveLength(1);
  await noLiveWorkers();
});

test('the manager does not retry a facade\'s requests unless it is made with { retry: true }', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OUTCOME}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const plain = endpointFetch('api');
        const retrying = endpointFetch('api', { retry: true });
        // The worker's own fetch sets each fault on the test server's control API, so every fault meets one request.
        const fault = (f) => fetch(ctx.cookie.faults, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
        const results = {};
        await fault({ apiFail: { status: 503, count: 1, paths: ['notes'] } });
        results.plain503 = await outcome(plain('notes'));
        await fault({ apiFail: { status: 503, count: 1, paths: ['notes'] } });
        results.retried503 = await outcome(retrying('notes'));
        await fault({ apiReset: { count: 1, paths: ['notes'] } });
        results.plainReset = await outcome(plain('notes'));
        await fault({ apiReset: { count: 1, paths: ['notes'] } });
        results.retriedReset = await outcome(retrying('notes'));
        report(ctx, 'seen', results);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: { minDelay: 20, maxDelay: 40, retries: 2 } } },
    handlers: [handler],
  });
  const session = m.synchronize({ cookie: { faults: `${location.origin}/__syncmgr/t/${server.tenant}/faults` } });
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(value).toMatchObject({
    plain503: { resolved: true, status: 503 },
    retried503: { resolved: true, status: 200 },
    plainReset: { name: 'TypeError', code: 'E_FAIL' },
    retriedReset: { resolved: true, status: 200 },
  });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  // One request for each plain call, two for each retried one.
  const notes = await requestsTo(server, 'notes');
  expect(notes.map((r) => [r.status, r.aborted])).toEqual([[503, false], [503, false], [200, false], [null, true], [null, true], [200, false]]);
  await noLiveWorkers();
});

test('the SyncMgr rules: only inside synchronize() (not at import, not in prepare()), only allowlisted fetch endpoints, only paths below the endpoint', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OUTCOME}
    const api = endpointFetch('api');
    // Called when the module loads: no synchronize() runs.
    const early = outcome(api('notes'));
    let inPrepare = null;
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async prepare(ids, ctx) {
        inPrepare = await outcome(api('notes'));
      },
      async synchronize(ids, ctx) {
        let badName;
        try { endpointFetch(42); badName = 'no error'; } catch (e) { badName = e.code; }
        const results = {
          early: await early,
          inPrepare,
          badName,
          unknown: await outcome(endpointFetch('nope')('notes')),
          notAllowed: await outcome(endpointFetch('other')('notes')),
          socketEndpoint: await outcome(endpointFetch('live')('notes')),
          dotDot: await outcome(api('http://api/a/../../secret')),
          encoded: await outcome(api('%2e%2e/secret')),
          badScheme: await outcome(api('ftp://api/notes')),
          fine: await outcome(api('notes')),
        };
        report(ctx, 'seen', results);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { api: { kind: 'fetch', url: server.apiUrl }, other: { kind: 'fetch', url: server.apiUrl }, live: { kind: 'websocket', url: server.wsUrl('x') } },
    handlers: [{ ...handler, endpoints: ['api', 'live'] }],
  });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(value).toMatchObject({
    early: { name: 'SyncError', code: 'E_UNEXPECTED' },
    inPrepare: { name: 'SyncError', code: 'E_UNEXPECTED' },
    badName: 'E_INVALIDARG',
    unknown: { name: 'SyncError', code: 'E_INVALIDARG' },
    notAllowed: { name: 'SyncError', code: 'E_ACCESSDENIED' },
    socketEndpoint: { name: 'SyncError', code: 'E_INVALIDARG' },
    dotDot: { name: 'SyncError', code: 'E_ACCESSDENIED' },
    encoded: { name: 'SyncError', code: 'E_ACCESSDENIED' },
    badScheme: { name: 'TypeError' },
    fine: { resolved: true, status: 200 },
  });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  // Only the one allowed request reached the server.
  expect((await server.state()).requests.map((r) => r.path)).toEqual(['notes']);
  await noLiveWorkers();
});

test('a request still running when the handler\'s synchronize() returns is aborted: the library sees a TypeError, the server the client going away', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OUTCOME}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const api = endpointFetch('api');
        const pending = outcome(api('slow?ms=60000'));
        pending.then((o) => report(ctx, 'late', o));
        await released(ctx);
      },
    });
  `);
  // A second handler keeps the session (and its connection) going meanwhile.
  const other = inlineHandler('other', `defineHandler({ items: () => [{ id: 'b', name: 'b' }], async synchronize(ids, ctx) { await released(ctx); } });`);
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl } }, handlers: [handler, other] });
  const session = m.synchronize();
  // The request reached the server before synchronize() returns.
  await server.waitFor((s) => s.requests.some((r) => r.path === 'slow'));
  const late = bed.reports.phase(session.id, 'lib', 'late');
  bed.reports.release(session.id, 'lib');
  const { value } = await late;
  expect(value).toMatchObject({ name: 'TypeError', code: 'E_ABORT' });
  expect((value as { message: string }).message).toContain("synchronize() returned");
  // Aborted while the session still runs, not by its end.
  const slow = await server.waitFor((s) => s.requests.find((r) => r.path === 'slow' && r.aborted));
  expect(slow.status).toBeNull();
  bed.reports.release(session.id, 'other');
  expect((await session.done).handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  await noLiveWorkers();
});

test('FetchChannel: a Response carries its final URL, redirected and type; a request\'s redirect: \'manual\' gives an opaque redirect, \'error\' fails with E_FAIL, and neither follows', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OUTCOME}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const api = await ctx.establishConnection('api', 'fetch');
        const plain = await api.fetch('health');
        const followed = await api.fetch('redirect?status=302&to=reflect');
        const manual = await api.fetch('redirect?status=302&to=seen', { redirect: 'manual' });
        report(ctx, 'seen', {
          plain: { url: plain.url, redirected: plain.redirected, type: plain.type },
          followed: { url: followed.url, redirected: followed.redirected, body: await followed.text() },
          manual: { status: manual.status, ok: manual.ok, type: manual.type, headers: [...manual.headers].length, body: manual.body },
          error: await outcome(api.fetch('redirect?status=307&to=seen', { redirect: 'error' })),
          badMode: await outcome(api.fetch('health', { redirect: 'sometimes' })),
        });
      },
    });
  `);
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl } }, handlers: [handler] });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(value).toEqual({
    plain: { url: `${server.apiUrl}health`, redirected: false, type: 'basic' },
    followed: { url: `${server.apiUrl}reflect`, redirected: true, body: 'reflected' },
    manual: { status: 0, ok: false, type: 'opaqueredirect', headers: 0, body: null },
    error: { name: 'SyncError', code: 'E_FAIL', message: expect.stringContaining("redirect is 'error'") },
    badMode: { name: 'SyncError', code: 'E_INVALIDARG', message: expect.stringContaining("redirect must be 'follow', 'manual' or 'error'") },
  });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  // Neither the manual nor the failing request followed its redirect.
  expect(await requestsTo(server, 'seen')).toEqual([]);
  await noLiveWorkers();
});

test('a 401 runs the endpoint\'s onUnauthorized and the request is sent once more with fresh headers, retries off or not', async () => {
  const server = TestServer.create();
  let token = 'old-token-1234';
  let reauthorized = 0;
  const handler = inlineHandler('lib', `${OUTCOME}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        report(ctx, 'seen', await outcome(endpointFetch('api')('notes')));
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      api: {
        kind: 'fetch', url: server.apiUrl, headers: () => ({ authorization: `Bearer ${token}` }),
        onUnauthorized: () => {
          reauthorized += 1;
          token = 'new-token-5678';
        },
      },
    },
    handlers: [handler],
  });
  await server.faults({ apiFail: { status: 401, count: 1, paths: ['notes'] } });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'lib', 'seen')).value).toEqual({ resolved: true, status: 200 });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  expect(reauthorized).toBe(1);
  expect((await requestsTo(server, 'notes')).map((r) => [r.status, r.headers.authorization])).toEqual([[401, 'Bearer old-token-1234'], [200, 'Bearer new-token-5678']]);
  await noLiveWorkers();
});
