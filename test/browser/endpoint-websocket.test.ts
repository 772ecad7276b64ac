/**
 * `endpointWebSocket(name)` (README "Using your own sync library"): the
 * conformance probes (workers/fixtures/socket-probes.ts) run on the
 * engine's own WebSocket in a worker and on the facade in a handler, and
 * must agree; then what only the facade has: the endpoint's URL and token
 * never in the worker, a socket per instance, the SyncMgr rules, the
 * session's end closing what is still open.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, noUnhandledRejections, testBed } from '../fixtures/harness.ts';

noUnhandledRejections();
const bed = testBed();

/** Bound of the probe runs: they wait on events (each wait bounded at 20 s), never on time. */
const PROBE_TIMEOUT_MS = 120_000;

function rawProbes(server: TestServer): Promise<Record<string, unknown>> {
  const worker = new Worker(new URL('../../workers/fixtures/raw-socket-probes.ts', import.meta.url), { type: 'module' });
  bed.cleanup(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as Record<string, unknown>);
    worker.onerror = (event) => reject(new Error(`the raw probe worker failed: ${event.message}`));
    worker.postMessage({ tenant: server.tenant, base: `${server.wsUrl('probe')}/` });
  });
}

test('the facade answers every conformance probe as the engine\'s own WebSocket does', async () => {
  const server = TestServer.create();
  const raw = await rawProbes(server);
  const m = bed.manager({
    endpoints: { probe: { kind: 'websocket', url: server.wsUrl('probe') } },
    handlers: [{ id: 'probes', worker: () => new Worker(new URL('../../workers/fixtures/facade-socket-probes.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize({ cookie: { tenant: server.tenant } });
  const facade = (await bed.reports.phase(session.id, 'probes', 'probes', PROBE_TIMEOUT_MS)).value as Record<string, unknown>;
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');

  // The reference itself behaves as the standard says, so agreeing with it means something.
  expect(raw.constants).toEqual({
    classConstants: [0, 1, 2, 3], instanceConstants: [0, 1, 2, 3], readyState: 0, binaryType: 'blob', protocol: '', extensions: '',
    bufferedAmount: 0, handlers: [null, null, null, null], isEventTarget: true, sendWhileConnecting: 'InvalidStateError',
  });
  expect(raw.closeWithCode).toMatchObject({
    invalid: ['InvalidAccessError', 'InvalidAccessError', 'InvalidAccessError', 'SyntaxError'], readyStateAfterClose: 2,
    client: { code: 4001, reason: 'bye', wasClean: true, isCloseEvent: true }, server: { closeCode: 4001, closeReason: 'bye' },
  });
  expect(raw.closeWithoutCode).toMatchObject({ client: { code: 1005, wasClean: true }, server: { closeCode: 1005 } });
  expect(raw.drop).toMatchObject({ client: { code: 1006, wasClean: false } });
  expect(raw.refused).toMatchObject({ client: { code: 1006, wasClean: false }, seen: ['error:Event@3', 'close:CloseEvent@3'], readyState: 3 });
  // Event handler attributes: null removes the listener, set again it is added after the others (as the standard says).
  expect(raw.handlerAttributes).toEqual({ order: ['message: listener', 'message: handler set again', 'close: replacing handler', 'close: listener'], cleared: null });
  for (const [name, value] of Object.entries(raw)) expect(value, `raw probe ${name}`).not.toHaveProperty('threw');

  // A send after the close adds the data's length to bufferedAmount (the standard's rule, which the facade
  // follows); WebKit's own socket adds the frame's 6 bytes of header and mask too.
  const afterClose = (probe: unknown) => (probe as { sendAfterClose: number }).sendAfterClose;
  expect(afterClose(facade.serverCloses)).toBe('after close'.length);
  expect([11, 17]).toContain(afterClose(raw.serverCloses));
  (raw.serverCloses as { sendAfterClose: number }).sendAfterClose = afterClose(facade.serverCloses);
  for (const name of Object.keys(raw)) expect.soft(facade[name], `probe ${name}`).toEqual(raw[name]);
  // Each facade instance had a socket of its own (twelve probes construct one), listed once it opened: the
  // refused one never did, the one closed while connecting did or did not on the manager's side.
  expect(result.connections.length).toBeGreaterThanOrEqual(10);
  expect(result.connections.length).toBeLessThanOrEqual(11);
  for (const c of result.connections) expect(c).toMatchObject({ name: 'probe', kind: 'websocket', dedicated: true, handlers: ['probes'], closedAt: expect.any(Number) });
  await noLiveWorkers();
}, PROBE_TIMEOUT_MS + 30_000);

/** A handler body's helper: resolves with the socket once `open` came, rejects on `close` before it. */
const OPENED = `
  const opened = (ws) => new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('close', (e) => reject(new Error('closed with ' + e.code)), { once: true });
  });
  const closed = (ws) => new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }), { once: true }));
`;

test('the path and query a library gives go below the endpoint\'s URL, whose token never reaches the worker', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('lib', `${OPENED}
    const Live = endpointWebSocket('fac');
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const sockets = [new Live('ws://fac/doc-1?room=a'), new Live('/doc-1'), new Live('doc-1'), new Live('ws://fac/')];
        await Promise.all(sockets.map(opened));
        const seen = sockets.map((ws) => ({ url: ws.url, protocol: ws.protocol }));
        const ends = sockets.map(closed);
        for (const ws of sockets) ws.close(1000, 'done');
        report(ctx, 'seen', { seen, ends: await Promise.all(ends) });
      },
    });
  `);
  const m = bed.manager({
    endpoints: { fac: { kind: 'websocket', url: async () => `${server.wsUrl('fac')}?token=s3cret` } },
    handlers: [handler],
  });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(JSON.stringify(value)).not.toContain('s3cret');
  const { seen } = value as { seen: { url: string }[] };
  expect(seen[0]!.url).toBe('ws://fac/doc-1?room=a');
  expect(seen[3]!.url).toBe('ws://fac/');
  // Relative URLs as a browser resolves them: this handler's worker runs from a blob: URL, which cannot be a base.
  expect(seen[1]!.url).toBe('ws://endpoint.invalid/doc-1');
  expect(seen[2]!.url).toBe('ws://endpoint.invalid/doc-1');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // The server records a close a moment after the client saw it.
  const { sockets } = await server.waitFor((s) => s.sockets.length === 4 && s.sockets.every((k) => !k.open) && s);
  // The four sockets connect at once: the server may see them in any order.
  expect(sockets.map((s) => [s.channel, s.query, s.closeCode, s.closeReason]).sort()).toEqual([
    ['fac', 'token=s3cret', 1000, 'done'],
    ['fac/doc-1', 'token=s3cret&room=a', 1000, 'done'],
    ['fac/doc-1', 'token=s3cret', 1000, 'done'],
    ['fac/doc-1', 'token=s3cret', 1000, 'done'],
  ]);
  await noLiveWorkers();
});

test('each instance owns its socket: frames never cross between instances, nor to a channel of establishConnection on the same endpoint', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('own', `${OPENED}
    const Live = endpointWebSocket('fac');
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const channel = await ctx.establishConnection('fac', 'websocket');
        const got = { a: [], b: [], channel: [] };
        channel.addEventListener('message', (e) => got.channel.push(e.data));
        const a = await opened(new Live('ws://fac/'));
        const b = await opened(new Live('ws://fac/'));
        const echoes = [a, b].map((ws, i) => new Promise((resolve) => ws.addEventListener('message', (e) => {
          got[i === 0 ? 'a' : 'b'].push(e.data);
          resolve();
        }, { once: true })));
        a.send('from a');
        b.send('from b');
        await Promise.all(echoes);
        await channel.send('from channel');
        await new Promise((resolve) => channel.addEventListener('message', resolve, { once: true }));
        a.close();
        b.close();
        await Promise.all([closed(a), closed(b)]);
        report(ctx, 'got', got);
      },
    });
  `);
  const m = bed.manager({ endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') } }, handlers: [handler] });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'own', 'got')).value).toEqual({ a: ['from a'], b: ['from b'], channel: ['from channel'] });
  const result = await session.done;
  expect(result.connections.map((c) => [c.name, c.dedicated, c.closeCode])).toEqual([['fac', false, 1000], ['fac', true, 1005], ['fac', true, 1005]]);
  expect((await server.state()).sockets.map((s) => s.received)).toEqual([['from channel'], ['from a'], ['from b']]);
  await noLiveWorkers();
});

test('the SyncMgr rules: outside synchronize() E_UNEXPECTED, unknown names E_INVALIDARG, endpoints outside the registration or paths leaving the endpoint E_ACCESSDENIED; nothing is opened', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('rules', `
    const attempt = (make) => {
      try {
        make();
        return 'constructed';
      } catch (e) {
        return e.code ?? e.name;
      }
    };
    const Live = endpointWebSocket('fac');
    const atImport = attempt(() => new Live('ws://fac/'));
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        setTimeout(() => report(ctx, 'after', attempt(() => new Live('ws://fac/'))), 0);
        report(ctx, 'inside', {
          atImport,
          badName: attempt(() => endpointWebSocket(42)),
          unknown: attempt(() => new (endpointWebSocket('nope'))('x')),
          notAllowed: attempt(() => new (endpointWebSocket('other'))('x')),
          fetchEndpoint: attempt(() => new (endpointWebSocket('api'))('x')),
          noDefault: attempt(() => new (endpointWebSocket())('x')),
          dotDot: attempt(() => new Live('%2e%2e/outside')),
          encodedSlash: attempt(() => new Live('a%2fb')),
          backslash: attempt(() => new Live('a\\\\b')),
          writtenDots: attempt(() => new Live('ws://fac/a/../../outside')),
          encodedBackslash: attempt(() => new Live('a%5cb')),
          noUrl: attempt(() => new Live()),
        });
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      fac: { kind: 'websocket', url: server.wsUrl('fac') },
      other: { kind: 'websocket', url: server.wsUrl('other') },
      api: { kind: 'fetch', url: server.apiUrl },
    },
    handlers: [{ ...handler, endpoints: ['fac', 'api'] }],
  });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'rules', 'inside')).value).toEqual({
    atImport: 'E_UNEXPECTED', badName: 'E_INVALIDARG', unknown: 'E_INVALIDARG', notAllowed: 'E_ACCESSDENIED',
    fetchEndpoint: 'E_INVALIDARG', noDefault: 'E_INVALIDARG', dotDot: 'E_ACCESSDENIED', encodedSlash: 'E_ACCESSDENIED', backslash: 'E_ACCESSDENIED', writtenDots: 'E_ACCESSDENIED', encodedBackslash: 'E_ACCESSDENIED', noUrl: 'TypeError',
  });
  expect((await bed.reports.phase(session.id, 'rules', 'after')).value).toBe('E_UNEXPECTED');
  const result = await session.done;
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('a socket the handler leaves open is closed with 1000 when it finishes, and its close reaches the worker; the endpoint\'s own protocols win over the library\'s', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('leaves', `${OPENED}
    const Live = endpointWebSocket('fac');
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ws = await opened(new Live('left-open', ['library.v1']));
        // Reported after synchronize() returned: the manager closes the socket then, and the worker must get that close.
        closed(ws).then((end) => report(ctx, 'closed', end));
        report(ctx, 'open', ws.protocol);
      },
    });
  `);
  const m = bed.manager({ endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac'), protocols: ['endpoint.v1'] } }, handlers: [handler] });
  const events: unknown[] = [];
  for (const type of ['connectionopen', 'connectionclose'] as const) {
    m.addEventListener(type, (e) => events.push([e.type, e.name, e.dedicated, e.handlerId, e.code]));
  }
  const session = m.synchronize();
  // The server chose the endpoint's protocol, which the library did not offer: the worker is not told it.
  expect((await bed.reports.phase(session.id, 'leaves', 'open')).value).toBe('');
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'fac', dedicated: true, closeCode: 1000, closedAt: expect.any(Number) }]);
  const [socket] = (await server.waitFor((s) => s.sockets.every((k) => !k.open) && s)).sockets;
  expect(socket).toMatchObject({ channel: 'fac/left-open', protocol: 'endpoint.v1', closeCode: 1000, closeReason: 'sync session ended' });
  expect(events).toEqual([['connectionopen', 'fac', true, 'leaves', null], ['connectionclose', 'fac', true, null, 1000]]);
  expect((await bed.reports.phase(session.id, 'leaves', 'closed', 10_000)).value).toEqual({ code: 1000, reason: 'sync session ended', wasClean: true });
  await noLiveWorkers();
});

test('a socket that cannot connect for a reason the manager knows fires error carrying that SyncError (readyState CLOSED), then close with 1006', async () => {
  const server = TestServer.create();
  await server.faults({ hang: ['slow'] });
  const handler = inlineHandler('fails', `
    const outcome = (ws) => new Promise((resolve) => {
      const seen = [];
      ws.addEventListener('error', (e) => seen.push({ type: 'error', code: e.error?.code, message: e.error?.message, readyState: ws.readyState }));
      ws.addEventListener('close', (e) => resolve([...seen, { type: 'close', code: e.code, wasClean: e.wasClean, readyState: ws.readyState }]));
    });
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const names = ['broken', 'slow', 'badProtocols', 'hangingUrl', 'throwingProtocols'];
        const seen = await Promise.all(names.map((name) => outcome(new (endpointWebSocket(name))('ws://x/'))));
        report(ctx, 'seen', Object.fromEntries(names.map((name, i) => [name, seen[i]])));
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      broken: { kind: 'websocket', url: () => { throw new Error('no token today'); } },
      slow: { kind: 'websocket', url: server.wsUrl('slow'), connectTimeout: 500 },
      badProtocols: { kind: 'websocket', url: server.wsUrl('fac'), protocols: () => new Promise(() => {}), connectTimeout: 500 },
      hangingUrl: { kind: 'websocket', url: () => new Promise(() => {}), connectTimeout: 500 },
      throwingProtocols: { kind: 'websocket', url: server.wsUrl('fac'), protocols: () => { throw new Error('no protocols today'); } },
    },
    handlers: [handler],
  });
  const session = m.synchronize();
  const seen = (await bed.reports.phase(session.id, 'fails', 'seen')).value as Record<string, Record<string, unknown>[]>;
  const failed = (code: string) => [{ type: 'error', code, readyState: 3 }, { type: 'close', code: 1006, wasClean: false, readyState: 3 }];
  expect(seen.badProtocols).toMatchObject(failed('E_TIMEOUT'));
  expect(seen.badProtocols![0]!.message).toMatch(/Endpoint 'badProtocols': its protocols function did not answer within 500 ms/);
  expect(seen.broken).toMatchObject(failed('E_FAIL'));
  expect(seen.broken![0]!.message).toMatch(/Endpoint 'broken': its url function/);
  expect(seen.slow).toMatchObject(failed('E_TIMEOUT'));
  expect(seen.hangingUrl).toMatchObject(failed('E_TIMEOUT'));
  expect(seen.hangingUrl![0]!.message).toMatch(/Endpoint 'hangingUrl': its url function did not answer within 500 ms/);
  expect(seen.throwingProtocols).toMatchObject(failed('E_FAIL'));
  expect(seen.throwingProtocols![0]!.message).toMatch(/Endpoint 'throwingProtocols': its protocols function failed: no protocols today/);
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

/**
 * A handler body's helper: everything the worker can see of a socket until
 * its `close` (its properties at each event, every event's fields, the
 * error's code, message, stack and causes), as plain data.
 */
const OBSERVED = `
  const errorOf = (e) => e && { name: e.name, code: e.code, message: e.message, stack: e.stack, cause: errorOf(e.cause) };
  const observe = (ws) => new Promise((resolve) => {
    const events = [];
    const look = (e) => ({ type: e.type, readyState: ws.readyState, url: ws.url, protocol: ws.protocol, extensions: ws.extensions, data: typeof e.data === 'string' ? e.data : undefined, origin: e.origin, code: e.code, reason: e.reason, wasClean: e.wasClean, error: errorOf(e.error) });
    for (const type of ['open', 'message', 'error']) ws.addEventListener(type, (e) => events.push(look(e)));
    ws.addEventListener('close', (e) => resolve([...events, look(e)]), { once: true });
  });
`;

test('no value of the endpoint\'s own protocols reaches the worker: not as protocol, nor in an error\'s message, stack or cause', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('protocols', `${OBSERVED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const seen = {};
        const opened = {};
        for (const name of ['fixed', 'overlap', 'notToken', 'twice', 'notIterable']) {
          const ws = new (endpointWebSocket(name))('ws://x/', ['library.v1']);
          ws.addEventListener('open', () => ws.close(1000), { once: true });
          opened[name] = observe(ws);
        }
        for (const [name, done] of Object.entries(opened)) seen[name] = await done;
        report(ctx, 'seen', seen);
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      // The server takes the first protocol offered.
      fixed: { kind: 'websocket', url: server.wsUrl('fixed'), protocols: ['endpoint-secret-1'] },
      overlap: { kind: 'websocket', url: server.wsUrl('overlap'), protocols: ['library.v1', 'endpoint-secret-2'] },
      notToken: { kind: 'websocket', url: server.wsUrl('not-token'), protocols: () => ['not a token endpoint-secret-3'] },
      twice: { kind: 'websocket', url: server.wsUrl('twice'), protocols: ['endpoint-secret-4', 'endpoint-secret-4'] },
      notIterable: { kind: 'websocket', url: server.wsUrl('not-iterable'), protocols: (() => 4242) as unknown as () => string },
    },
    handlers: [handler],
  });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'protocols', 'seen');
  expect(JSON.stringify(value)).not.toMatch(/endpoint-secret|4242/);
  const seen = value as Record<string, { type: string; protocol: string; error?: { code: string; message: string } }[]>;
  expect(seen.fixed!.map((e) => [e.type, e.protocol])).toEqual([['open', ''], ['close', '']]);
  // One the library offered may be shown: it knows it already.
  expect(seen.overlap!.map((e) => [e.type, e.protocol])).toEqual([['open', 'library.v1'], ['close', 'library.v1']]);
  for (const name of ['notToken', 'twice', 'notIterable']) {
    expect(seen[name]!.map((e) => e.type), name).toEqual(['error', 'close']);
    expect(seen[name]![0]!.error, name).toMatchObject({ code: 'E_FAIL', message: expect.stringMatching(new RegExp(`^Endpoint '${name}': its protocols are not valid WebSocket subprotocols`)) });
  }
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  const { sockets } = await server.waitFor((s) => s.sockets.length === 2 && s.sockets.every((k) => !k.open) && s);
  expect(sockets.map((s) => [s.channel, s.protocol])).toEqual(expect.arrayContaining([['fixed', 'endpoint-secret-1'], ['overlap', 'library.v1']]));
  await noLiveWorkers();
});

test('the endpoint\'s query reaches the server as written, a library may not repeat its keys (E_ACCESSDENIED), and no message to the worker holds the endpoint\'s path or query', async () => {
  const server = TestServer.create();
  await server.faults({ hang: ['slow/s3cret-path'] });
  const handler = inlineHandler('query', `${OBSERVED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const Live = endpointWebSocket('fac');
        const written = new Live('ws://fac/doc?room=a%20b&q=1+2&u=~');
        written.addEventListener('open', () => written.close(1000), { once: true });
        const seen = await Promise.all([
          observe(written),
          observe(new Live('doc?token=x')),
          observe(new Live('doc?tok%65n=x&room=b')),
          observe(new (endpointWebSocket('slow'))('ws://slow/')),
        ]);
        report(ctx, 'seen', seen);
      },
    });
  `);
  const query = 'token=s3cret&flag&t=~&sig=a%2Fb+c';
  const m = bed.manager({
    endpoints: {
      fac: { kind: 'websocket', url: async () => `${server.wsUrl('fac')}/s3cret-path?${query}` },
      slow: { kind: 'websocket', url: `${server.wsUrl('slow')}/s3cret-path?${query}`, connectTimeout: 500 },
    },
    handlers: [handler],
  });
  const session = m.synchronize();
  const { value } = await bed.reports.phase(session.id, 'query', 'seen');
  const text = JSON.stringify(value);
  expect(text).not.toContain('s3cret');
  expect(text).not.toContain(server.tenant);
  const [written, repeated, encoded, slow] = value as { type: string; readyState: number; code?: number; error?: { code: string; message: string } }[][];
  expect(written!.map((e) => e.type)).toEqual(['open', 'close']);
  for (const refused of [repeated!, encoded!]) {
    expect(refused.map((e) => [e.type, e.code, e.error?.code])).toEqual([['error', undefined, 'E_ACCESSDENIED'], ['close', 1006, undefined]]);
    expect(refused[0]!.error!.message).toMatch(/^endpointWebSocket\('fac'\): the URL's query sets "token", which the endpoint's own URL sets/);
  }
  expect(slow!.map((e) => [e.type, e.error?.code])).toEqual([['error', 'E_TIMEOUT'], ['close', undefined]]);
  expect(slow![0]!.error!.message).toMatch(/^Endpoint 'slow': connecting its socket for '\/' took longer than 500 ms/);
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  // Only the first reached the server: the endpoint's query byte for byte, the library's after it as the library wrote it.
  const { sockets } = await server.waitFor((s) => s.sockets.length === 1 && !s.sockets[0]!.open && s);
  expect(sockets.map((s) => [s.channel, s.query])).toEqual([['fac/s3cret-path/doc', `${query}&room=a%20b&q=1+2&u=~`]]);
  await noLiveWorkers();
});

test('a handler\'s sockets close with 1000 when that handler finishes, while another handler of the session still runs', async () => {
  const server = TestServer.create();
  const body = (channel: string, wait: boolean) => `${OPENED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ws = await opened(new (endpointWebSocket('fac'))('${channel}'));
        closed(ws).then((end) => report(ctx, 'closed', end));
        report(ctx, 'open', true);
        ${wait ? 'await released(ctx);' : ''}
      },
    });
  `;
  const m = bed.manager({
    endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') } },
    handlers: [inlineHandler('early', body('early', false)), inlineHandler('late', body('late', true))],
  });
  const events: unknown[] = [];
  m.addEventListener('connectionclose', (e) => events.push([e.type, e.code]));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'late', 'open');
  // The early handler's socket closes with its handler: the server sees it while the late one's stays open.
  const early = await server.waitFor((s) => s.sockets.find((k) => k.channel === 'fac/early' && !k.open), 10_000);
  expect(early).toMatchObject({ closeCode: 1000, closeReason: 'sync session ended', closedBy: 'client' });
  expect((await bed.reports.phase(session.id, 'early', 'closed', 10_000)).value).toEqual({ code: 1000, reason: 'sync session ended', wasClean: true });
  expect((await server.state()).sockets.find((k) => k.channel === 'fac/late')).toMatchObject({ open: true });
  expect(events).toEqual([['connectionclose', 1000]]);
  bed.reports.release(session.id, 'late');
  const result = await session.done;
  expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  expect(result.connections.map((c) => [c.handlers[0], c.closeCode])).toEqual(expect.arrayContaining([['early', 1000], ['late', 1000]]));
  const { sockets } = await server.waitFor((s) => s.sockets.length === 2 && s.sockets.every((k) => !k.open) && s);
  expect(sockets.find((k) => k.channel === 'fac/late')).toMatchObject({ closeCode: 1000, closeReason: 'sync session ended' });
  await noLiveWorkers();
});

test('close() while CONNECTING after the manager\'s socket opened fails the connection: error and close 1006 in the worker, a close frame saying so at the server', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('early-close', `${OBSERVED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ws = new (endpointWebSocket('fac'))('ws://fac/connecting');
        const seen = observe(ws);
        // A task, so the manager gets the socket's call; then this worker's event loop is held
        // (synchronous requests) until the page saw the socket open, so its open is not read here yet.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const state = location.origin + '/__syncmgr/t/' + ctx.cookie.tenant + '/state';
        const until = Date.now() + 20000;
        let flagged = false;
        while (!flagged && Date.now() < until) {
          const xhr = new XMLHttpRequest();
          xhr.open('GET', state, false);
          xhr.send();
          flagged = JSON.parse(xhr.responseText).faults.mute.includes('manager-opened');
        }
        const readyState = ws.readyState;
        ws.close(4003, 'never mind');
        report(ctx, 'seen', { flagged, readyState, events: await seen });
      },
    });
  `);
  const m = bed.manager({ endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') } }, handlers: [handler] });
  m.addEventListener('connectionopen', () => void server.faults({ mute: ['manager-opened'] }));
  const session = m.synchronize({ cookie: { tenant: server.tenant } });
  const { value } = await bed.reports.phase(session.id, 'early-close', 'seen', 30_000);
  const { flagged, readyState, events } = value as { flagged: boolean; readyState: number; events: { type: string; readyState: number; code?: number; wasClean?: boolean }[] };
  expect({ flagged, readyState }).toEqual({ flagged: true, readyState: 0 });
  expect(events.map((e) => [e.type, e.readyState, e.code, e.wasClean])).toEqual([['error', 3, undefined, undefined], ['close', 3, 1006, false]]);
  // A browser fails such a connection without sending the library's code: Chromium and Firefox drop the
  // TCP connection (1006), WebKit sends 1001 with this reason. A page can send neither code.
  const [socket] = (await server.waitFor((s) => s.sockets.length === 1 && !s.sockets[0]!.open && s)).sockets;
  expect(socket).toMatchObject({ channel: 'fac/connecting', closeCode: 1000, closeReason: 'WebSocket is closed before the connection is established.', received: [] });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('only a socket that opened is recorded and fires connectionopen and connectionclose; one that could not connect fires connectionerror alone', async () => {
  const server = TestServer.create();
  await server.faults({ refuse: ['fac/refused'] });
  const handler = inlineHandler('records', `${OBSERVED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ok = new (endpointWebSocket('fac'))('ws://fac/ok');
        ok.addEventListener('open', () => ok.close(1000), { once: true });
        const seen = await Promise.all([observe(ok), observe(new (endpointWebSocket('fac'))('refused')), observe(new (endpointWebSocket('broken'))('x'))]);
        report(ctx, 'seen', seen.map((events) => events.map((e) => e.type)));
      },
    });
  `);
  const m = bed.manager({
    endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') }, broken: { kind: 'websocket', url: () => { throw new Error('no token today'); } } },
    handlers: [handler],
  });
  const events: unknown[] = [];
  for (const type of ['connectionopen', 'connectionclose', 'connectionerror'] as const) {
    m.addEventListener(type, (e) => events.push([e.type, e.name, e.dedicated, e.error && (e.error as { code?: string }).code]));
  }
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'records', 'seen')).value).toEqual([['open', 'close'], ['error', 'close'], ['error', 'close']]);
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'fac', dedicated: true, handlers: ['records'], closeCode: 1000 }]);
  expect(events).toHaveLength(4);
  expect(events).toEqual(expect.arrayContaining([
    ['connectionopen', 'fac', true, null], ['connectionclose', 'fac', true, null],
    ['connectionerror', 'fac', true, 'E_FAIL'], ['connectionerror', 'broken', true, 'E_FAIL'],
  ]));
  await noLiveWorkers();
});

test('frames sent before close() reach the server, in order, before the close', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('flush', `${OPENED}
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ws = await opened(new (endpointWebSocket('fac'))('ws://fac/flush'));
        ws.send('one');
        ws.send(new Uint8Array(3));
        ws.send('two');
        ws.send(new ArrayBuffer(70000));
        ws.send(new Blob([new Uint8Array(5)]));
        ws.send('three');
        ws.close(4000, 'all sent');
        report(ctx, 'closed', await closed(ws));
      },
    });
  `);
  const m = bed.manager({ endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') } }, handlers: [handler] });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'flush', 'closed')).value).toEqual({ code: 4000, reason: 'all sent', wasClean: true });
  const [socket] = (await server.waitFor((s) => s.sockets.length === 1 && !s.sockets[0]!.open && s)).sockets;
  expect(socket).toMatchObject({ received: ['one', { binary: 3 }, 'two', { binary: 70000 }, { binary: 5 }, 'three'], closeCode: 4000, closeReason: 'all sent' });
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('in a module worker started from a file, a relative URL is shown resolved against the worker\'s URL, and reaches the same path below the endpoint', async () => {
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { fac: { kind: 'websocket', url: `${server.wsUrl('fac')}?token=s3cret` } },
    handlers: [{ id: 'relative', worker: () => new Worker(new URL('../../workers/fixtures/relative-url-handler.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize();
  const { urls, self } = (await bed.reports.phase(session.id, 'relative', 'urls')).value as { urls: string[]; self: string };
  expect(self).toMatch(/^http.*\/workers\/fixtures\/relative-url-handler\.ts/);
  const ws = (path: string) => new URL(path, self).href.replace(/^http/, 'ws');
  expect(urls).toEqual([ws('doc-1'), ws('/doc-2?room=a'), ws('./sub/doc-3')]);
  expect(urls[0]).toMatch(/\/workers\/fixtures\/doc-1$/);
  expect((await session.done).handlers[0]!.outcome).toBe('succeeded');
  const { sockets } = await server.waitFor((s) => s.sockets.length === 3 && s.sockets.every((k) => !k.open) && s);
  expect(sockets.map((s) => [s.channel, s.query])).toEqual(expect.arrayContaining([['fac/doc-1', 'token=s3cret'], ['fac/doc-2', 'token=s3cret&room=a'], ['fac/sub/doc-3', 'token=s3cret']]));
  await noLiveWorkers();
});

test('a library\'s last frames and its own close() made just before synchronize() returns reach the server before the handler\'s end closes the socket', async () => {
  const server = TestServer.create();
  const count = 200;
  const handler = inlineHandler('lib', `${OPENED}
    const Live = endpointWebSocket('fac');
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ws = await opened(new Live('ws://fac/last'));
        for (let i = 0; i < ${count}; i++) ws.send('last-' + i);
        // Not awaited: the close travels on the socket's port, the return on the worker's.
        ws.close(4001, 'library done');
      },
    });
  `);
  const m = bed.manager({ endpoints: { fac: { kind: 'websocket', url: server.wsUrl('fac') } }, handlers: [handler] });
  const result = await m.synchronize().done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  const socket = await server.waitFor((s) => s.sockets.find((k) => k.channel === 'fac/last' && !k.open));
  expect(socket.received).toEqual(Array.from({ length: count }, (_, i) => `last-${i}`));
  expect([socket.closeCode, socket.closeReason]).toEqual([4001, 'library done']);
  await noLiveWorkers();
});
