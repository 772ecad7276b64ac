/**
 * What happens to the frames a handler sends (README "Delivery"): frames
 * still in the socket's buffer at a drop are reported as possibly lost,
 * frames sent after the handler's work ended are refused, frames sent just
 * before it ended all go out, a route answer that names no handler loses no
 * frame, send() refuses what it cannot send with E_INVALIDARG, and frames
 * already waiting when a handler gets its channel reach the listener it adds
 * right after its await (test/deno/channel-handover.test.ts is the same test
 * in Deno, where it failed before the runtime held such frames a task).
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, testBed } from '../fixtures/harness.ts';
import { SyncError, type ConnectionEvent } from '../../src/index.ts';
import type { ChannelGrant } from '../../src/protocol/worker-api.ts';
import type { HandoverMessage, HandoverReport } from '../../workers/fixtures/handover-channel.ts';

const bed = testBed();

/**
 * What the engine's `bufferedAmount` of `ws` settles at: 0, or a value it
 * keeps for a second (the OS took what it could, the server reads nothing
 * more). An engine that hands frames on to a network process of its own
 * counts them as sent at once, whatever the server read, and then cannot say
 * which ones a drop lost.
 */
async function settledBufferedAmount(ws: WebSocket): Promise<number> {
  let last = ws.bufferedAmount;
  let since = performance.now();
  const end = since + 15_000;
  while (last > 0 && performance.now() - since < 1000) {
    if (performance.now() > end) throw new Error(`bufferedAmount did not settle within 15 s (last ${last})`);
    await new Promise((r) => setTimeout(r, 50));
    if (ws.bufferedAmount !== last) {
      last = ws.bufferedAmount;
      since = performance.now();
    }
  }
  return last;
}

test('frames still in the socket buffer when it drops are reported as possibly lost: a contiguous suffix, none of them received (as far as the engine\'s bufferedAmount shows them, read on the same socket)', async () => {
  const server = TestServer.create();
  await server.faults({ stall: ['stall'] });
  const COUNT = 400;
  const BASE = 100_000;
  // Frame i has BASE + i bytes, so the server's record (which keeps binary frames as lengths) says which arrived.
  const sender = inlineHandler('sender', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('stall', 'websocket');
        const reopened = new Promise((resolve) => ch.addEventListener('statechange', (e) => {
          if (e.state === 'reconnecting') report(ctx, 'lost', e.possiblyLost.map((f) => f.byteLength));
          if (e.state === 'open') resolve();
        }));
        for (let i = 0; i < ${COUNT}; i++) void ch.send(new ArrayBuffer(${BASE} + i));
        report(ctx, 'sent', ch.bufferedAmount);
        await reopened;
      },
    });
  `);
  const m = bed.manager({
    endpoints: { stall: { kind: 'websocket', url: server.wsUrl('stall'), reconnect: { minDelay: 50, maxDelay: 200 }, sendBuffer: { highWaterMark: 64 << 20, maxBytes: 64 << 20 } } },
    handlers: [sender],
  });
  // Count the frames the manager hands to the socket, so the drop comes after the last of them. Only
  // these frames name the socket: the test runner's own WebSocket to its server sends in this page too.
  const send = WebSocket.prototype.send;
  let handed = 0;
  let socket: WebSocket | null = null;
  WebSocket.prototype.send = function (this: WebSocket, data) {
    if (data instanceof ArrayBuffer && data.byteLength >= BASE) {
      handed += 1;
      socket = this;
    }
    return send.call(this, data);
  };
  bed.cleanup(() => (WebSocket.prototype.send = send));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'sender', 'sent');
  await expect.poll(() => handed, { timeout: 15_000 }).toBe(COUNT);
  // What the engine itself says is still buffered, read on the manager's own socket once it settled.
  const buffered = await settledBufferedAmount(socket!);
  expect(await server.drop('stall')).toBe(1);
  const lost = (await bed.reports.phase(session.id, 'sender', 'lost')).value as number[];
  await server.faults({ stall: [] });
  const result = await session.done;

  // Where the engine shows the backlog, its frames are possibly lost; frames it counts as sent are not known to be.
  if (buffered > 0) expect(lost.length).toBeGreaterThan(0);
  else expect(lost).toEqual([]);
  expect(lost.reduce((n, bytes) => n + bytes, 0)).toBeGreaterThanOrEqual(buffered);
  // A contiguous run ending with the last frame sent.
  expect(lost).toEqual(Array.from({ length: lost.length }, (_, k) => BASE + COUNT - lost.length + k));
  const first = (await server.state()).sockets[0]!;
  const received = first.received.map((f) => (typeof f === 'string' ? -1 : f.binary));
  for (const size of lost) expect(received).not.toContain(size);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections).toMatchObject([{ name: 'stall', possiblyLostFrames: lost.length, unsentFrames: 0 }]);
  await noLiveWorkers();
});

test('a send after the handler returned is refused with E_UNEXPECTED and its channel is closed; frames sent just before it returned all go out', async () => {
  const server = TestServer.create();
  const early = inlineHandler('early', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        ch.addEventListener('close', (e) => report(ctx, 'close', { code: e.code, reason: e.reason, readyState: ch.readyState }));
        setTimeout(() => {
          let outcome;
          try {
            const sent = ch.send('late');
            outcome = { threw: false, promise: sent instanceof Promise };
          } catch (e) {
            outcome = { threw: true, code: e.code, message: e.message };
          }
          report(ctx, 'late', { ...outcome, readyState: ch.readyState, state: ch.state });
        }, 0);
        // A burst right before returning: still batched when synchronize() answers.
        for (let i = 0; i < 200; i++) void ch.send('b' + i);
      },
    });
  `);
  const holder = inlineHandler('holder', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        await ctx.establishConnection('live', 'websocket');
        report(ctx, 'holding');
        await released(ctx);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [early, holder] });
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'holder', 'holding');
  const late = (await bed.reports.phase(session.id, 'early', 'late')).value as Record<string, unknown>;
  expect(late).toMatchObject({ threw: true, code: 'E_UNEXPECTED', readyState: 3, state: 'closed' });
  expect(late.message).toMatch(/handler 'early' has finished \(its synchronize\(\) returned\), so the frame was not sent/);
  expect((await bed.reports.phase(session.id, 'early', 'close')).value).toEqual({ code: 1000, reason: 'the handler finished', readyState: 3 });
  // Every frame of the burst reached the server, and 'late' never did.
  const state = await server.waitFor((s) => s.sockets[0]!.receivedCount >= 200 && s);
  bed.reports.release(session.id, 'holder');
  const result = await session.done;
  const after = await server.state();
  expect(state.sockets[0]!.received).toEqual(Array.from({ length: 200 }, (_, i) => 'b' + i));
  expect(after.sockets[0]!.received).not.toContain('late');
  expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  expect(result.connections).toMatchObject([{ name: 'live', unsentFrames: 0, possiblyLostFrames: 0 }]);
});

test('a route answer that names no handler of the socket (unknown id, a number, an array with one) sends the frame to every handler and says so; an empty array sends it to none', async () => {
  const server = TestServer.create();
  const listener = (id: string) => inlineHandler(id, `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        ch.addEventListener('message', (e) => report(ctx, 'frame', e.data));
        report(ctx, 'listening');
        await released(ctx);
      },
    });
  `);
  const m = bed.manager({
    endpoints: {
      live: {
        kind: 'websocket', url: server.wsUrl('live'),
        route: (frame) => (frame === 'ghost' ? 'nobody' : frame === 'number' ? (42 as unknown as string) : frame === 'mixed' ? ['a', 'nobody'] : frame === 'to-a' ? 'a' : frame === 'none' ? [] : null),
      },
    },
    handlers: [listener('a'), listener('b')],
  });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e) => errors.push(e));
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'a', 'listening');
  await bed.reports.phase(session.id, 'b', 'listening');
  for (const frame of ['ghost', 'number', 'mixed', 'to-a', 'none', 'end']) await server.send(frame, 'live');
  for (const id of ['a', 'b']) await bed.reports.wait((r) => r.sessionId === session.id && r.handlerId === id && r.value === 'end');
  const frames = (id: string) => bed.reports.of(id, 'frame').filter((r) => r.sessionId === session.id).map((r) => r.value);
  expect(frames('a')).toEqual(['ghost', 'number', 'mixed', 'to-a', 'end']);
  expect(frames('b')).toEqual(['ghost', 'number', 'mixed', 'end']);
  expect(errors.map((e) => [e.name, SyncError.is(e.error) ? e.error.code : null])).toEqual([['live', 'E_FAIL'], ['live', 'E_FAIL'], ['live', 'E_FAIL']]);
  expect(errors[0]!.error!.message).toMatch(/route\(\) returned 'nobody', which is not the id of a handler on this socket \(('a', 'b'|'b', 'a')\), so the frame went to every handler/);
  expect(errors[1]!.error!.message).toMatch(/route\(\) returned a number, which is not the id of a handler/);
  expect(errors[2]!.error!.message).toMatch(/route\(\) returned 'nobody'/);
  bed.reports.release(session.id, 'a');
  bed.reports.release(session.id, 'b');
  await session.done;
});

test('send() refuses a function, a Symbol, an object, a detached ArrayBuffer and one already sent with E_INVALIDARG naming the argument; the worker lives on', async () => {
  const server = TestServer.create();
  const h = inlineHandler('h', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const ch = await ctx.establishConnection('live', 'websocket');
        const tries = {};
        const attempt = (name, fn) => {
          try {
            fn();
            tries[name] = { threw: false };
          } catch (e) {
            tries[name] = { threw: true, code: e.code, syncError: e.name === 'SyncError', message: e.message };
          }
        };
        attempt('function', () => ch.send(() => 1));
        attempt('symbol', () => ch.send(Symbol('s')));
        attempt('object', () => ch.send({ a: 1 }));
        const detached = new ArrayBuffer(8);
        const view = new Uint8Array(detached);
        structuredClone(detached, { transfer: [detached] });
        attempt('detached', () => ch.send(detached));
        attempt('detachedView', () => ch.send(view));
        // The same buffer twice in one burst (sends of one task, after a first frame: the batch is not posted yet).
        const twice = new ArrayBuffer(16);
        const twiceView = new Uint8Array(twice);
        void ch.send('lead');
        attempt('first', () => ch.send(twice));
        attempt('twice', () => ch.send(twice));
        attempt('twiceView', () => ch.send(twiceView));
        report(ctx, 'tries', tries);
        const echo = new Promise((resolve) => ch.addEventListener('message', (e) => e.data === 'alive' && resolve(e.data)));
        await ch.send('alive');
        report(ctx, 'echo', await echo);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [h] });
  const session = m.synchronize();
  const tries = (await bed.reports.phase(session.id, 'h', 'tries')).value as Record<string, { threw: boolean; code?: string; syncError?: boolean; message?: string }>;
  for (const name of ['function', 'symbol', 'object', 'detached', 'detachedView', 'twice', 'twiceView']) {
    expect(tries[name], name).toMatchObject({ threw: true, code: 'E_INVALIDARG', syncError: true });
    expect(tries[name]!.message, name).toMatch(/^send\(data\) on the channel to endpoint 'live'/);
  }
  expect(tries.first).toEqual({ threw: false });
  expect(tries.function!.message).toMatch(/takes a string, an ArrayBuffer or a typed array, not a function/);
  expect(tries.symbol!.message).toMatch(/not a symbol/);
  expect(tries.detached!.message).toMatch(/this ArrayBuffer is detached/);
  expect(tries.detachedView!.message).toMatch(/this ArrayBuffer is detached/);
  expect(tries.twice!.message).toMatch(/this ArrayBuffer was already sent \(a sent ArrayBuffer is transferred\); send a copy/);
  expect((await bed.reports.phase(session.id, 'h', 'echo')).value).toBe('alive');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  const state = await server.state();
  expect(state.sockets[0]!.received).toEqual(['lead', { binary: 16 }, 'alive']);
});

test('frames waiting on a channel\'s port when the handler gets the channel reach the listener it adds right after its await', async () => {
  const worker = new Worker(new URL('../../workers/fixtures/handover-channel.ts', import.meta.url), { type: 'module' });
  const { port1, port2 } = new MessageChannel();
  const frames = ['one', 'two', 'three'];
  try {
    // The manager's end: the frames go first, so they travel with the port.
    for (const frame of frames) port1.postMessage(frame);
    // The channel acknowledges what it dispatched: once all are acknowledged, the listener has had its chance.
    let acknowledged = 0;
    port1.onmessage = (event: MessageEvent) => {
      if (event.data?.type === 'received') acknowledged += event.data.frames;
    };
    const grant: ChannelGrant<MessagePort, 'websocket'> = {
      kind: 'websocket', name: 'live', port: port2, protocol: '', state: 'open',
      sendBuffer: { highWaterMark: 1 << 20, maxBytes: 1 << 22, maxQueuedFrames: 100 },
      receiveBuffer: { maxBytes: 1 << 22, maxFrames: 1000 },
    };
    worker.postMessage({ type: 'grant', grant } satisfies HandoverMessage, [port2]);
    await expect.poll(() => acknowledged, { timeout: 10_000 }).toBe(frames.length);

    const report = new Promise<HandoverReport>((resolve) => (worker.onmessage = (e: MessageEvent<HandoverReport>) => resolve(e.data)));
    worker.postMessage({ type: 'report' } satisfies HandoverMessage);
    expect((await report).seen).toEqual(frames);
  } finally {
    port1.close();
    worker.terminate();
  }
});

test('frames a handler sends just before synchronize() returns reach the server before the session closes the socket, in every engine', async () => {
  const server = TestServer.create();
  const count = 300;
  const handler = inlineHandler('burst', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const live = await ctx.establishConnection('live', 'websocket');
        // Not awaited: the frames travel on the channel's port, the return on the worker's.
        for (let i = 0; i < ${count}; i++) void live.send('last-' + i);
      },
    });
  `);
  const m = bed.manager({ endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [handler] });
  const result = await m.synchronize().done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1000, unsentFrames: 0 }]);
  const closed = await server.waitFor((s) => s.sockets.find((k) => !k.open));
  expect(closed.received).toEqual(Array.from({ length: count }, (_, i) => `last-${i}`));
  await noLiveWorkers();
});

test('frames a handler queued while the socket reconnects, when it returns and the session ends, are counted unsent', async () => {
  const server = TestServer.create();
  const handler = inlineHandler('q', `
    defineHandler({
      items: () => [{ id: 'a', name: 'a' }],
      async synchronize(ids, ctx) {
        const live = await ctx.establishConnection('live', 'websocket');
        report(ctx, 'established', null);
        await new Promise((resolve) => live.addEventListener('statechange', (e) => e.state === 'reconnecting' && resolve(), { once: false }));
        for (let i = 0; i < 5; i++) void live.send('queued-' + i);
      },
    });
  `);
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), reconnect: { retries: 50, minDelay: 200, maxDelay: 200 } } },
    handlers: [handler],
  });
  const session = m.synchronize();
  await bed.reports.phase(session.id, 'q', 'established');
  await server.waitFor((s) => s.sockets[0]?.open);
  await server.faults({ refuse: ['live'] });
  expect(await server.drop('live')).toBe(1);
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections).toMatchObject([{ name: 'live', closeCode: 1000, unsentFrames: 5 }]);
  expect((await server.state()).sockets.flatMap((k) => k.received)).toEqual([]);
  await noLiveWorkers();
});
