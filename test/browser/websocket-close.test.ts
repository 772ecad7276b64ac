/**
 * How a WebSocket channel's `close` event reports the end of its connection
 * (README "WebSocket states"): a server's close reaches it with the server's
 * code, reason and `wasClean`; a session that ends while the socket
 * reconnects reports code 1000 for it, in `connectionclose` and the result.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, testBed } from '../fixtures/harness.ts';

const bed = testBed();

const listener = inlineHandler('listener', `
  defineHandler({
    items: () => [{ id: 'a', name: 'a' }],
    async synchronize(ids, ctx) {
      const ch = await ctx.establishConnection('live', 'websocket');
      ch.addEventListener('statechange', (e) => report(ctx, 'state', e.state));
      const closed = new Promise((resolve) => ch.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
      report(ctx, 'established');
      if (ctx.cookie?.closeBy === 'server') {
        await ch.send('!close 4002 going away');
        report(ctx, 'close', await closed);
      } else {
        await new Promise((resolve) => ch.addEventListener('statechange', (e) => e.state === 'reconnecting' && resolve()));
      }
    },
  });
`);

test('a server\'s close reaches the channel with the server\'s code, reason and wasClean (reconnect off)', async () => {
  const server = TestServer.create();
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: false } }, handlers: [listener] });
  const session = m.synchronize({ cookie: { closeBy: 'server' } });
  expect((await bed.reports.phase(session.id, 'listener', 'close')).value).toEqual({ code: 4002, reason: 'going away', wasClean: true });
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 4002 }]);
  await noLiveWorkers();
});

test('a session that ends while its socket reconnects reports code 1000 for it, in connectionclose and in the result', async () => {
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { minDelay: 60_000, maxDelay: 60_000 } } },
    handlers: [listener],
  });
  const codes: (number | null)[] = [];
  m.addEventListener('connectionclose', (e) => codes.push(e.code));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'listener', 'established');
  await server.waitFor((s) => s.sockets.some((k) => k.open));
  expect(await server.drop('live')).toBe(1);
  // The handler returns once its channel is reconnecting: the session ends with the socket down.
  const result = await session.done;
  expect(bed.reports.all.filter((r) => r.phase === 'state').map((r) => r.value)).toEqual(['reconnecting']);
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1000 }]);
  expect(codes).toEqual([1000]);
  await noLiveWorkers();
});

test('a WebSocket channel is not a WebSocket: constants on its class, a promise from send(), no open event, on* properties or url (README "channels")', async () => {
  const server = TestServer.create();
  const shape = inlineHandler('shape', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        const sent = ch.send('x');
        report(ctx, 'shape', {
          constants: [ch.constructor.CONNECTING, ch.constructor.OPEN, ch.constructor.CLOSING, ch.constructor.CLOSED],
          readyState: ch.readyState, sendReturnsPromise: sent instanceof Promise,
          onmessage: 'onmessage' in ch, onopen: 'onopen' in ch, url: 'url' in ch, isWebSocket: ch instanceof WebSocket,
        });
        await sent;
        ch.close();
        report(ctx, 'after close', { readyState: ch.readyState });
        await released(ctx);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [shape] });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'shape', 'shape')).value).toEqual({
    constants: [0, 1, 2, 3], readyState: 1, sendReturnsPromise: true, onmessage: false, onopen: false, url: false, isWebSocket: false,
  });
  expect((await bed.reports.phase(session.id, 'shape', 'after close')).value).toEqual({ readyState: 3 });
  // close() detached the channel; the socket stays open until the session ends, then closes with 1000.
  expect((await server.state()).sockets.map((k) => k.open)).toEqual([true]);
  bed.reports.release(session.id, 'shape');
  expect((await session.done).connections).toMatchObject([{ name: 'live', closeCode: 1000 }]);
  await noLiveWorkers();
});
