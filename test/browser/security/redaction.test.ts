// Issue 10, finding 4: credentials in an endpoint's URL (`user:password@host`)
// and the query of a url function's result (`?token=…`) never appear in
// anything that crosses to a worker: establishConnection's errors, a failed
// fetch (the engine's own message quotes the URL), their causes and stacks.
import { expect, test } from 'vitest';
import { TestServer } from '../../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../../fixtures/harness.ts';

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
  expect(failures[0]!.error!.message).toContain(`/t/${server.tenant}/ws/refused`);
  expect(failures[4]!.error!.message).toContain(`/t/${server.tenant}/api/notes`);
  // Nothing reached the server over fetch: the engine refused every such request.
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});
