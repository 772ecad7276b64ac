import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, scripted, testBed } from '../fixtures/harness.ts';
import type { SocketScenario } from '../../workers/fixtures/socket-handler.ts';

const socketWorker = () => new Worker(new URL('../../workers/fixtures/socket-handler.ts', import.meta.url), { type: 'module' });

const bed = testBed();

test('context calls a handler did not await before returning still reach the manager', async () => {
  const m = bed.manager({
    storage: 'memory',
    handlers: [inlineHandler('h', `
      defineHandler({
        items: () => [{ id: 'a', name: 'A' }],
        async synchronize(_ids, ctx) {
          if (ctx.cookie === 'read') {
            await ctx.logError('information', 'cursor=' + (await ctx.store.get('cursor')));
            return;
          }
          for (let i = 0; i < 20; i++) void ctx.logError('information', 'entry ' + i);
          void ctx.store.set('cursor', 42);
        },
      });
    `)],
  });
  const first = await m.synchronize({ cookie: 'write' }).done;
  expect(first.handlers[0]!.outcome).toBe('succeeded');
  expect(m.log().map((e) => e.text)).toEqual(Array.from({ length: 20 }, (_, i) => `entry ${i}`));
  await m.synchronize({ cookie: 'read' }).done;
  expect(m.log().at(-1)!.text).toBe('cursor=42');
  await noLiveWorkers();
});

test('skip() right after synchronize(), before the handler listed its items, skips the item', async () => {
  const reports = bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('h')] });
  const session = m.synchronize({ cookie: { scripts: { h: { items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }] } } } });
  expect(session.skip('h', 'b')).toBe(true);
  expect(session.skip('nobody', 'b')).toBe(false);
  const result = await session.done;
  const synced = await reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');
  expect(synced.value).toEqual(['a']);
  expect(result.handlers[0]!.items.map((i) => [i.id, i.status])).toEqual([['a', 'succeeded'], ['b', 'skipped']]);
});

test('aborting the signal given to synchronize() cancels the session, and the session lets go of the signal when it ends', async () => {
  const reports = bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('h')], timeouts: { cancel: 1000 } });
  const controller = new AbortController();
  const added: unknown[] = [];
  const removed: unknown[] = [];
  const { addEventListener, removeEventListener } = controller.signal;
  controller.signal.addEventListener = function (type: string, listener: unknown, options?: unknown) {
    added.push(listener);
    return addEventListener.call(this, type, listener as EventListener, options as AddEventListenerOptions);
  };
  controller.signal.removeEventListener = function (type: string, listener: unknown, options?: unknown) {
    removed.push(listener);
    return removeEventListener.call(this, type, listener as EventListener, options as EventListenerOptions);
  };
  const session = m.synchronize({ signal: controller.signal, cookie: { scripts: { h: { steps: [{ op: 'wait-abort' }] } } } });
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');
  controller.abort();
  const result = await session.done;
  expect(result.outcome).toBe('cancelled');
  expect(result.handlers[0]!.outcome).toBe('cancelled');
  expect(added).toHaveLength(1);
  expect(removed).toEqual(added);
});

test('asking for the wrong kind of channel opens nothing', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({ storage: 'memory', endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } }, handlers: [scripted('h')] });
  const opened: string[] = [];
  m.addEventListener('connectionopen', (e) => opened.push(e.name));
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'live', kind: 'fetch' }, { op: 'establish', name: 'live', kind: 'ws' as 'fetch' }] } } },
  });
  const result = await session.done;
  const wrong = await reports.stepOf(session.id, 'h', 0);
  const unknown = await reports.stepOf(session.id, 'h', 1);
  expect(wrong.error).toMatchObject({ code: 'E_INVALIDARG' });
  expect(wrong.error!.message).toContain("endpoint 'live' is a websocket endpoint");
  expect(wrong.error!.message).toContain("Handler 'h'");
  expect(unknown.error).toMatchObject({ code: 'E_INVALIDARG' });
  expect(unknown.error!.message).toContain(`kind "ws"`);
  expect(opened).toEqual([]);
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
});

test('a handler that finished gets no more frames of a shared socket, and route() no longer sees it', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const routed: string[][] = [];
  const m = bed.manager({
    storage: 'memory',
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live'), route: (_frame, ids) => void routed.push([...ids]) } },
    handlers: [{ id: 'a', worker: socketWorker }, { id: 'b', worker: socketWorker }],
  });
  const listen: SocketScenario = { mode: 'listen', endpoint: 'live' };
  const session = m.synchronize({ cookie: { a: listen, b: listen } });
  const finished = new Promise<void>((resolve) => m.addEventListener('handlerstate', (e) => e.handlerId === 'a' && e.phase === 'finished' && resolve()));
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'a' && r.phase === 'established');
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'b' && r.phase === 'established');
  reports.release(session.id, 'a');
  await finished;
  await server.send('after a finished', 'live');
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'b' && r.value === 'after a finished');
  expect(routed).toEqual([['b']]);
  // a's worker still runs (until the session ends): after its flush, a frame it had reported would be here.
  await reports.flush(session.id, 'a');
  expect(reports.all.filter((r) => r.sessionId === session.id && r.handlerId === 'a' && r.phase === 'frame')).toEqual([]);
  // The connection stays open for b (rule 5).
  expect((await server.state()).sockets.map((s) => s.open)).toEqual([true]);
  reports.release(session.id, 'b');
  await session.done;
});
