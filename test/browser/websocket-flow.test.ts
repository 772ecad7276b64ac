/**
 * The manager bounds what it holds for a channel in both directions,
 * whatever the worker does: frames toward a handler that does not take them
 * (`receiveBuffer`), frames from a worker that posts on its port past
 * `sendBuffer.maxBytes`, and messages that are not of the socket protocol.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, testBed } from '../fixtures/harness.ts';
import { SyncError, type ConnectionEvent } from '../../src/index.ts';

const bed = testBed();



test('a handler that blocks its event loop while the server floods gets its channel closed with E_OUTOFMEMORY at receiveBuffer; another handler on the socket gets every frame', async () => {
  const server = TestServer.create();
  const FRAMES = 20_000;
  const ROUND = 500;
  const MAX_FRAMES = 2000;
  const busy = inlineHandler('busy', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        let count = 0;
        ch.addEventListener('message', () => count++);
        const closed = new Promise((resolve) => ch.addEventListener('close', (e) => resolve({
          code: e.code, dropped: e.dropped, error: e.error && { code: e.error.code, message: e.error.message }, count, readyState: ch.readyState,
        })));
        report(ctx, 'blocking');
        const until = Date.now() + 5000;
        while (Date.now() < until);
        report(ctx, 'closed', await closed);
      },
    });
  `);
  const steady = inlineHandler('steady', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        let count = 0;
        let wake = null;
        ch.addEventListener('message', (e) => {
          if (typeof e.data !== 'string' && ++count % ${ROUND} === 0) wake?.();
        });
        report(ctx, 'listening');
        await released(ctx);
        // The flood comes in rounds this handler asks for, so it never falls behind by more than a round.
        for (let round = 0; round < ${FRAMES / ROUND}; round++) {
          const done = new Promise((resolve) => (wake = resolve));
          await ch.send('!burst ${ROUND} 100');
          await done;
        }
        report(ctx, 'all', count);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), receiveBuffer: { maxFrames: MAX_FRAMES, maxBytes: 16 << 20 } } },
    handlers: [busy, steady],
  });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e) => errors.push(e));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'steady', 'listening', 20_000);
  await bed.reports.phase(session.id, 'busy', 'blocking', 20_000);
  bed.reports.release(session.id, 'steady');
  // The steady handler takes every frame although the flood is 10 times its receive buffer: its runtime acknowledges them as it takes them.
  expect((await bed.reports.phase(session.id, 'steady', 'all', 20_000)).value).toBe(FRAMES);
  const closed = (await bed.reports.phase(session.id, 'busy', 'closed', 20_000)).value as { code: number; dropped: number; error: { code: string; message: string }; count: number; readyState: number };
  expect(closed.code).toBe(4001);
  expect(closed.readyState).toBe(3);
  // Past the bound, frames waited in the manager up to the bound again; those and the next were dropped.
  expect(closed.dropped).toBe(MAX_FRAMES + 1);
  expect(closed.error.code).toBe('E_OUTOFMEMORY');
  expect(closed.error.message).toMatch(/Handler 'busy' did not take its frames in time: \d+ frames .* were posted to it and not taken, and 2000 more .* waited for room; the endpoint's receiveBuffer allows 2000 frames .* The 2001 frames that had not been posted were dropped/);
  // What it got before the close is what the manager had posted to it: never more than the bound.
  expect(closed.count).toBeGreaterThan(0);
  expect(closed.count).toBeLessThanOrEqual(MAX_FRAMES);
  expect(errors).toHaveLength(1);
  expect(SyncError.is(errors[0]!.error, 'E_OUTOFMEMORY')).toBe(true);
  expect(errors[0]!.error!.message).toMatch(/handler 'busy' did not take its frames in time/);
  const result = await session.done;
  expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  expect(result.connections).toMatchObject([{ name: 'live', droppedFrames: MAX_FRAMES + 1, unsentFrames: 0 }]);
  await noLiveWorkers();
}, 30_000);

test('a handler that takes its frames at once receives a burst of twice the default receiveBuffer in 64 KiB frames, its channel open throughout', async () => {
  const server = TestServer.create();
  const FRAMES = 512;
  const SIZE = 64 * 1024;
  const h = inlineHandler('h', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        let bytes = 0;
        let frames = 0;
        let closed = null;
        const all = new Promise((resolve) => {
          ch.addEventListener('message', (e) => {
            bytes += e.data.byteLength;
            if (++frames === ${FRAMES}) resolve();
          });
          ch.addEventListener('close', (e) => { closed = { code: e.code, dropped: e.dropped, message: e.error?.message }; resolve(); });
        });
        await ch.send('!burst ${FRAMES} ${SIZE}');
        await all;
        report(ctx, 'got', { frames, bytes, closed, readyState: ch.readyState });
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [h] });
  const session = m.synchronize();
  expect((await bed.reports.phase(session.id, 'h', 'got', 60_000)).value).toEqual({ frames: FRAMES, bytes: FRAMES * SIZE, closed: null, readyState: 1 });
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', droppedFrames: 0 }]);
  await noLiveWorkers();
}, 90_000);

test('frames past receiveBuffer wait in the manager for the handler to take the first ones, and a drop of the socket reaches the handler after all of them, in order', async () => {
  const server = TestServer.create();
  const MAX_FRAMES = 50;
  const FRAMES = 80;
  const h = inlineHandler('h', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        const events = [];
        ch.addEventListener('message', (e) => events.push(e.data));
        const reopened = new Promise((resolve) => {
          ch.addEventListener('statechange', (e) => {
            events.push('state:' + e.state);
            if (e.state === 'open') resolve();
          });
          ch.addEventListener('close', (e) => resolve(events.push('close:' + e.code)));
        });
        // The server echoes every frame, then closes the socket; all of it arrives while this
        // worker is busy, so nothing is taken (or acknowledged) until the loop ends.
        for (let i = 0; i < ${FRAMES}; i++) void ch.send('f' + i);
        void ch.send('!close 4000 again');
        const until = Date.now() + 3000;
        while (Date.now() < until);
        await reopened;
        report(ctx, 'events', events);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), receiveBuffer: { maxFrames: MAX_FRAMES }, reconnect: { minDelay: 10, maxDelay: 10 } } }, handlers: [h] });
  const session = m.synchronize();
  const events = (await bed.reports.phase(session.id, 'h', 'events', 30_000)).value as string[];
  const frames = Array.from({ length: FRAMES }, (_, i) => `f${i}`);
  expect(events).toEqual([...frames, 'state:reconnecting', 'state:open']);
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', droppedFrames: 0 }]);
  // The server saw the whole run on the first socket, then a second one.
  const state = await server.waitFor((x) => x.sockets.length === 2 && x.sockets[1]!.closeCode !== null && x, 20_000);
  expect(state.sockets.map((x) => x.closeCode)).toEqual([4000, 1000]);
  await noLiveWorkers();
}, 60_000);

test('a single frame larger than receiveBuffer.maxBytes still reaches a handler that has nothing waiting', async () => {
  const server = TestServer.create();
  const h = inlineHandler('h', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        const got = new Promise((resolve) => ch.addEventListener('message', (e) => resolve(e.data.byteLength)));
        report(ctx, 'listening');
        report(ctx, 'got', await got);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), receiveBuffer: { maxBytes: 1024 } } }, handlers: [h] });
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'h', 'listening', 20_000);
  expect(await server.sendBinary(100_000, 'live')).toBe(1);
  expect((await bed.reports.phase(session.id, 'h', 'got', 20_000)).value).toBe(100_000);
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', droppedFrames: 0 }]);
});

const RAW_LIMITS = [
  { limit: 'maxBytes', sendBuffer: { highWaterMark: 16, maxBytes: 16, maxQueuedFrames: 4096 } },
  { limit: 'maxQueuedFrames', sendBuffer: { highWaterMark: 1 << 20, maxBytes: 1 << 20, maxQueuedFrames: 16 } },
];

test.for(RAW_LIMITS)('a worker posting straight onto its channel port while the socket reconnects is held to sendBuffer.$limit by the manager, and messages of no socket protocol are dropped and counted', { timeout: 30_000 }, async ({ sendBuffer }) => {
  const server = TestServer.create();
  // The worker takes its channel's port as the runtime sets its onmessage, then posts on it directly.
  // The channel's port is the first one given an onmessage while establishConnection runs (the
  // runtime's tick scheduler may make a MessageChannel of its own right after, where there is no postTask).
  const raw = inlineHandler('raw', `
    const setter = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
    let capturing = false;
    let captured = null;
    Object.defineProperty(MessagePort.prototype, 'onmessage', {
      configurable: true,
      get() { return setter.get.call(this); },
      set(fn) { if (capturing && captured === null) captured = this; setter.set.call(this, fn); },
    });
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        capturing = true;
        const ch = await ctx.establishConnection('live', 'websocket');
        capturing = false;
        const port = captured;
        const refused = [];
        let refusedFrames = 0;
        let allRefused;
        const refusals = new Promise((resolve) => (allRefused = resolve));
        port.addEventListener('message', (e) => {
          if (e.data?.type !== 'refused') return;
          refused.push({ frames: e.data.frames, code: e.data.error.code, message: e.data.error.message });
          if ((refusedFrames += e.data.frames) >= 368) allRefused();
        });
        const state = (wanted) => new Promise((resolve) => ch.addEventListener('statechange', (e) => e.state === wanted && resolve()));
        const reconnecting = state('reconnecting');
        report(ctx, 'ready');
        await reconnecting;
        const open = state('open');
        port.postMessage({ type: 'nope' });
        port.postMessage(42);
        port.postMessage(['x', 7]);
        port.postMessage(Array.from({ length: 65 }, () => 'y'));
        for (let i = 0; i < 384; i++) port.postMessage('x');
        await refusals;
        report(ctx, 'refused', refused);
        await open;
        report(ctx, 'reopened');
        await released(ctx);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { minDelay: 50, maxDelay: 100, retries: 1000 }, sendBuffer } },
    handlers: [raw],
  });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e) => errors.push(e));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'raw', 'ready', 20_000);
  await server.faults({ refuse: ['live'] });
  expect(await server.drop('live')).toBe(1);
  // The manager has seen every raw post (it refused 368 of them) while the socket was down.
  const refused = (await bed.reports.phase(session.id, 'raw', 'refused', 20_000)).value as { frames: number; code: string; message: string }[];
  await server.faults({ refuse: [] });
  await bed.reports.phase(session.id, 'raw', 'reopened', 20_000);
  const state = await server.waitFor((s) => s.sockets.some((x) => x.open && x.receivedCount >= 16) && s);
  const reopened = state.sockets.filter((s) => s.open);
  expect(reopened).toHaveLength(1);
  // 16 frames of 1 byte (16 bytes, or 16 frames) were held for the reconnect and went out; the other 368 were refused, never held.
  expect(reopened[0]!.received).toEqual(Array.from({ length: 16 }, () => 'x'));
  expect(refused.reduce((n, r) => n + r.frames, 0)).toBe(368);
  expect(refused[0]!.code).toBe('E_OUTOFMEMORY');
  expect(refused[0]!.message).toMatch(new RegExp(`refused \\d+ frame\\(s\\) of handler 'raw': they would pass sendBuffer.maxBytes \\(${sendBuffer.maxBytes}\\) .*maxQueuedFrames \\(${sendBuffer.maxQueuedFrames}\\)`));
  expect(errors).toHaveLength(1);
  expect(SyncError.is(errors[0]!.error, 'E_INVALIDARG')).toBe(true);
  expect(errors[0]!.error!.message).toMatch(/handler 'raw' posted a message on its channel that is neither a frame/);
  bed.reports.release(session.id, 'raw');
  const result = await session.done;
  expect(result.connections).toMatchObject([{ name: 'live', unsentFrames: 368, invalidMessages: 4 }]);
  expect((await server.state()).sockets.find((s) => s.id === reopened[0]!.id)!.receivedCount).toBe(16);
  await noLiveWorkers();
});
