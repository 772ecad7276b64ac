import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../fixtures/harness.ts';

const bed = testBed();

test('a scripted handler establishes a websocket and a fetch channel, and both close at the end', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { api: { kind: 'fetch', url: server.apiUrl }, live: { kind: 'websocket', url: server.wsUrl('live') } },
    defaultEndpoint: 'api',
    handlers: [scripted('h1')],
  });
  const session = m.synchronize({
    cookie: {
      scripts: {
        h1: {
          steps: [
            { op: 'establish', name: 'live' },
            { op: 'send', on: 'live', data: 'hello' },
            { op: 'expect', on: 'live', count: 1 },
            { op: 'establish', name: null, as: 'api' },
            { op: 'fetch', on: 'api', path: 'health', read: 'json' },
            { op: 'progress', item: 'a', update: { status: 'succeeded' } },
          ],
        },
      },
    },
  });
  const result = await session.done;
  // Reports travel on their own channel: wait for them rather than assume they arrived before `done`.
  await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'returned');
  expect(reports.all.filter((r) => r.ok === false)).toEqual([]);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect((await reports.waitStep('h1', 2)).value).toEqual(['hello']);
  expect((await reports.waitStep('h1', 4)).value).toMatchObject({ status: 200, json: { ok: true } });
  expect(result.connections.map((c) => [c.name, c.closeCode])).toEqual([['live', 1000], ['api', null]]);
  // The server records a close when its TCP connection ends, a moment after the client's closing handshake.
  const state = await server.waitFor((s) => s.sockets.every((socket) => !socket.open) && s);
  expect(state.sockets.map((s) => [s.open, s.closeCode])).toEqual([[false, 1000]]);
  await noLiveWorkers();
});
