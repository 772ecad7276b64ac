/**
 * The manager and a handler talk on the worker's own port (the `Worker` and
 * its global scope), each API in its own lane: no MessageChannel is made for
 * control calls (where MessagePorts are brokered, as in WebKit, a round trip
 * over one costs several times the worker's own), and an app's own messages
 * on that port pass untouched both ways, whatever their shape.
 */
import { expect, test } from 'vitest';
import { inlineHandler, testBed } from '../fixtures/harness.ts';

const bed = testBed();

test('a session whose handler reports progress, logs and uses its store makes no MessageChannel on the page', async () => {
  const Original = MessageChannel;
  let made = 0;
  globalThis.MessageChannel = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  bed.cleanup(() => (globalThis.MessageChannel = Original));
  const h = inlineHandler('busy', `
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
      async prepare(ids, ctx) { await ctx.store.set('k', 1); },
      async synchronize(ids, ctx) {
        for (const id of ids) {
          if ((await ctx.progress(id, { status: 'updating' })) !== 'continue') throw new Error('not continue');
          await ctx.progress(id, { status: 'succeeded' });
        }
        await ctx.logError('information', 'done ' + (await ctx.store.get('k')), { errorId: 'done' });
      },
    });
  `);
  const m = bed.manager({ storage: 'memory', handlers: [h] });
  const result = await m.synchronize().done;
  expect(result.handlers.map((r) => [r.outcome, r.items.map((i) => i.status)])).toEqual([['succeeded', ['succeeded', 'succeeded']]]);
  expect(m.log().find((e) => e.errorId === 'done')?.text).toBe('done 1');
  expect(made).toBe(0);
});

test("an app's own messages on the worker's port, shaped like Comlink calls or not, pass both ways; the manager takes none of them for its own", async () => {
  const reports = bed.reports;
  const h = inlineHandler('chatty', `
    const heard = [];
    self.addEventListener('message', (e) => {
      if (e.data?.app !== 'ping') return;
      heard.push(e.data);
      self.postMessage({ app: 'pong', n: e.data.n });
    });
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(ids, ctx) {
        // The app's own: one shaped like a Comlink call into the manager, one like an answer.
        self.postMessage({ app: 'hello', id: 'x', type: 'APPLY', path: ['logError'], argumentList: [] });
        self.postMessage({ id: 'y', type: 'RAW', value: { ok: true, value: true } });
        await released(ctx);
        report(ctx, 'heard', heard);
        await ctx.progress('a', { status: 'succeeded' });
      },
    });
  `);
  let worker: Worker | null = null;
  const appMessages: unknown[] = [];
  const m = bed.manager({
    storage: 'memory',
    handlers: [{
      ...h,
      worker: () => {
        const w = h.worker() as Worker;
        w.addEventListener('message', (e: MessageEvent) => {
          const data = e.data as { app?: string; syncmgr?: unknown; type?: unknown };
          const manager = data?.syncmgr !== undefined || (typeof data?.type === 'string' && data.type.startsWith('syncmgr:'));
          if (!manager) appMessages.push(data);
          if (data?.app === 'hello') w.postMessage({ app: 'ping', n: 1, id: 'z', type: 'APPLY', path: ['synchronize'], argumentList: [] });
          if (data?.app === 'pong') reports.release(session.id, 'chatty');
        });
        worker = w;
        return w;
      },
    }],
  });
  const session = m.synchronize();
  const result = await session.done;
  expect(worker).not.toBeNull();
  expect(result.handlers.map((r) => [r.outcome, r.items.map((i) => i.status)])).toEqual([['succeeded', ['succeeded']]]);
  const heard = await reports.wait((r) => r.sessionId === session.id && r.phase === 'heard');
  expect(heard.value).toEqual([{ app: 'ping', n: 1, id: 'z', type: 'APPLY', path: ['synchronize'], argumentList: [] }]);
  expect(appMessages).toEqual([
    { app: 'hello', id: 'x', type: 'APPLY', path: ['logError'], argumentList: [] },
    { id: 'y', type: 'RAW', value: { ok: true, value: true } },
    { app: 'pong', n: 1 },
  ]);
  // Nothing was refused (a refusal is logged as the handler's warning).
  expect(m.log().filter((e) => e.level === 'warning')).toEqual([]);
});
