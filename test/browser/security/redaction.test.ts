// Issue 10, finding 4: credentials in an endpoint's URL (`user:password@host`)
// and the query of a url function's result (`?token=…`) never appear in
// anything that crosses to a worker: establishConnection's errors, a failed
// fetch (the engine's own message quotes the URL), their causes and stacks.
import { expect, test } from 'vitest';
import { TestServer } from '../../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, scripted, testBed } from '../../fixtures/harness.ts';

const bed = testBed();

test('no error a handler receives quotes URL credentials or the query of a url function', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const password = `pw${crypto.randomUUID().replaceAll('-', '')}`;
  const token = `tok${crypto.randomUUID().replaceAll('-', '')}`;
  const user = 'syncuser';
  const host = location.host;
  await server.faults({ refuse: ['refused'] });
  const ws = (channel: string) => `ws://${user}:${password}@${host}/t/${server.tenant}/ws/${channel}?token=${token}`;
  const api = `http://${user}:${password}@${host}/t/${server.tenant}/api/`;
  const m = bed.manager({
    endpoints: {
      // Refused by the server: the close is reported with the URL it tried.
      refused: { kind: 'websocket', url: () => ws('refused') },
      // A URL the WebSocket constructor refuses: the engine's message quotes it.
      badPort: { kind: 'websocket', url: () => `ws://${user}:${password}@${location.hostname}:99999/live?token=${token}` },
      // Hangs until the time limit: the timeout names the URL it waited for.
      slow: { kind: 'websocket', url: () => ws('slow'), connectTimeout: 300 },
      // fetch refuses URLs with credentials, quoting them: the probe fails (E_FAIL), and the request is
      // refused before it is sent (new Request() throws: E_INVALIDARG, final, never retried).
      probed: { kind: 'fetch', url: () => `${api}?token=${token}`, probe: 'health' },
      plain: { kind: 'fetch', url: api, retry: false },
    },
    handlers: [scripted('h')],
  });
  await server.faults({ hang: ['slow'] });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [
      { op: 'establish', name: 'refused' },
      { op: 'establish', name: 'badPort' },
      { op: 'establish', name: 'slow' },
      { op: 'establish', name: 'probed' },
      { op: 'establish', name: 'plain' },
      // The engine refuses a request to a URL with credentials before sending it: E_INVALIDARG, not retried.
      { op: 'fetch', on: 'plain', path: `notes?since=1`, read: 'text' },
    ] } } },
  });
  await session.done;
  const failures = await reports.failures(session.id, 'h');

  expect(failures.map((f) => [f.index, f.error?.code])).toEqual([[0, 'E_FAIL'], [1, 'E_FAIL'], [2, 'E_TIMEOUT'], [3, 'E_FAIL'], [5, 'E_INVALIDARG']]);
  for (const f of failures) {
    // The message still says which endpoint and which host, path and port…
    expect(f.error!.message).toMatch(/Endpoint '(refused|badPort|slow|probed|plain)'/);
    // …in sentences of our own that end once, whatever the engine's own text ends with.
    expect(f.error!.message).not.toMatch(/\.\./);
    const text = JSON.stringify(f.error); // message, stack and every cause
    // …but neither the credentials nor the token.
    expect(text).not.toContain(password);
    expect(text).not.toContain(`${user}:`);
    expect(text).not.toContain(token);
  }
  // The endpoint is named by its origin, a request by the handler's own path; the endpoint's path (which may hold a token too) never.
  expect(failures[0]!.error!.message).toContain(`ws://${location.host} `);
  expect(failures[4]!.error!.message).toContain('GET "notes?since=1"');
  for (const f of failures) expect(JSON.stringify(f.error)).not.toContain(server.tenant);
  // Nothing reached the server over fetch: the engine refused every such request.
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});

test('an endpoint URL\'s path (where a token may live) is in no error a handler gets: fetch channel, endpointFetch, the probe and a shared WebSocket name the origin and the handler\'s own path', async () => {
  const server = TestServer.create();
  // The tenant is a segment of every endpoint URL's path here: it stands for a token in the path.
  const secret = server.tenant;
  const handler = inlineHandler('lib', `
    const seen = (e) => ({ code: e?.cause?.code ?? e?.code, message: String(e?.message), cause: String(e?.cause?.message ?? '') });
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const out = {};
        const api = await ctx.establishConnection('api', 'fetch');
        await fetch(ctx.cookie.faults, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiReset: { count: 2, paths: ['notes'] } }) });
        out.channel = await api.fetch('notes').then(() => 'resolved', seen);
        out.facade = await endpointFetch('api')('http://api/notes').then(() => 'resolved', seen);
        out.probe = await ctx.establishConnection('probed', 'fetch').then(() => 'resolved', seen);
        out.socket = await ctx.establishConnection('live', 'websocket').then(() => 'resolved', seen);
        report(ctx, 'seen', out);
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      api: { kind: 'fetch', url: server.apiUrl, retry: false },
      probed: { kind: 'fetch', url: server.apiUrl, probe: 'no-such-route' },
      live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: false },
    },
    handlers: [handler],
  });
  await server.faults({ refuse: ['live'] });
  const session = m.synchronize({ cookie: { faults: `${location.origin}/__syncmgr/t/${server.tenant}/faults` } });
  const { value } = await bed.reports.phase(session.id, 'lib', 'seen');
  expect(value).toMatchObject({
    channel: { code: 'E_FAIL', message: expect.stringContaining('GET "notes"') },
    facade: { code: 'E_FAIL', message: expect.stringContaining('GET "notes"') },
    probe: { code: 'E_FAIL', message: expect.stringContaining('"no-such-route"') },
    socket: { code: 'E_FAIL', message: expect.stringContaining(location.host) },
  });
  expect(JSON.stringify(value)).not.toContain(secret);
  await session.done;
  await noLiveWorkers();
});
