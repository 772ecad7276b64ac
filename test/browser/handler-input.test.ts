// Issue 10, findings 13 (the context's calls), 16 and 17: what a handler sends
// is checked in the worker before it is sent, and again, cheaply and with
// bounded work, on arrival. Each refusal is an E_INVALIDARG naming the
// argument; the worker lives on, and one bad value costs no other state its
// persistence.
import { expect, test } from 'vitest';
import { inlineHandler, noLiveWorkers, testBed, type Report } from '../fixtures/harness.ts';
import type { StorageFallbackEvent } from '../../src/index.ts';

const bed = testBed();
const hostileWorker = () => new Worker(new URL('../../workers/fixtures/hostile-handler.ts', import.meta.url), { type: 'module' });

/** The inline handler's reports of session `sessionId`, by phase. */
async function reported(sessionId: string, phases: string[]): Promise<Map<string, unknown>> {
  const found = await Promise.all(phases.map((phase) => bed.reports.wait((r: Report) => r.sessionId === sessionId && r.phase === phase)));
  return new Map(found.map((r) => [r.phase, r.value]));
}

test('arguments that cannot be cloned are E_INVALIDARG naming the argument, and the worker goes on', async () => {
  void bed.reports; // listening before the session starts
  const h = inlineHandler('h', `
    const attempt = async (ctx, label, call) => {
      try { await call(); report(ctx, label, 'no error'); }
      catch (e) { report(ctx, label, { name: e.name, code: e.code, message: e.message }); }
    };
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(ids, ctx) {
        await attempt(ctx, 'establish', () => ctx.establishConnection(() => 'api'));
        await attempt(ctx, 'progress-item', () => ctx.progress(Symbol('a')));
        await attempt(ctx, 'progress-update', () => ctx.progress('a', { text: () => 'x' }));
        await attempt(ctx, 'log', () => ctx.logError('error', 'x', { itemId: () => 'a' }));
        await attempt(ctx, 'store-get', () => ctx.store.get(Symbol('k')));
        await attempt(ctx, 'store-set-function', () => ctx.store.set('k', { f() {} }));
        await attempt(ctx, 'store-set-module', () => ctx.store.set('k', { mod: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) }));
        await attempt(ctx, 'after', () => ctx.logError('information', 'still alive', { errorId: 'alive' }));
      },
    });
  `);
  const m = bed.manager({ handlers: [h] });
  const session = m.synchronize();
  const result = await session.done;
  const got = await reported(session.id, ['establish', 'progress-item', 'progress-update', 'log', 'store-get', 'store-set-function', 'store-set-module', 'after']);
  const expected: [label: string, names: RegExp][] = [
    ['establish', /ctx\.establishConnection\(\): name cannot be sent/],
    ['progress-item', /ctx\.progress\(\): itemId cannot be sent/],
    ['progress-update', /ctx\.progress\(\): update cannot be sent/],
    ['log', /ctx\.logError\(\): options cannot be sent/],
    ['store-get', /ctx\.store\.get\(\): key cannot be sent/],
    ['store-set-function', /ctx\.store\.set\('k'\): value\.f is a function/],
    ['store-set-module', /ctx\.store\.set\('k'\): value\.mod is a WebAssembly\.Module, which IndexedDB cannot store/],
  ];
  for (const [label, names] of expected) {
    expect(got.get(label), label).toMatchObject({ name: 'SyncError', code: 'E_INVALIDARG', message: expect.stringMatching(names) });
    expect((got.get(label) as { message: string }).message, label).toContain("Handler 'h'");
  }
  expect(got.get('after')).toBe('no error');
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(m.log().map((e) => e.errorId)).toEqual(['alive']);
  await noLiveWorkers();
});

test('a value IndexedDB cannot store is refused at the call and costs the rest of the state nothing: it stays in IndexedDB', async () => {
  void bed.reports; // listening before the session starts
  const h = inlineHandler('h', `
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(ids, ctx) {
        try { await ctx.store.set('mod', { mod: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) }); report(ctx, 'refused', false); }
        catch (e) { report(ctx, 'refused', e.code); }
        await ctx.store.set('cursor', 42);
      },
    });
  `);
  const name = `handler-input-${Date.now()}`;
  const m = bed.manager({ name, handlers: [h], storage: 'indexeddb' });
  const fallbacks: StorageFallbackEvent[] = [];
  m.addEventListener('storagefallback', (e) => fallbacks.push(e));
  const session = m.synchronize();
  await session.done;
  expect((await reported(session.id, ['refused'])).get('refused')).toBe('E_INVALIDARG');
  await m.flush();
  expect(fallbacks).toEqual([]);
  expect(m.storage).toBe('indexeddb');

  // A new manager of the same name reads what the first one wrote.
  const check = inlineHandler('h', `
    defineHandler({ items: () => [{ id: 'a', name: 'A' }], async synchronize(ids, ctx) { report(ctx, 'entries', await ctx.store.entries()); } });
  `);
  await m.close();
  const again = bed.manager({ name, handlers: [check], storage: 'indexeddb' });
  const second = again.synchronize();
  await second.done;
  expect((await reported(second.id, ['entries'])).get('entries')).toEqual([['cursor', 42]]);
});

/**
 * The longest sparse array (one element) a worker can post here at once. An
 * engine whose structured clone walks every index of an array, holes
 * included, takes as long for a sparse array as for a full one (2³²−1 slots
 * would take hours), so the sender pays for it, not the receiver: there the
 * hostile worker posts an array that is cloned in well under a second, still
 * far over MAX_ITEMS. An engine may walk every index of shorter arrays and
 * only the entries of very long ones, so the probe is a long one (2²⁶ slots),
 * cloned with structuredClone in the page: an engine that walks it takes
 * seconds, one that does not takes no time. A busy machine only makes it
 * slower, which picks the short array: the safe way.
 */
function postableSparseLength(): number {
  const a: unknown[] = [];
  a.length = 2 ** 26;
  a[0] = { id: 'a' };
  const t0 = performance.now();
  structuredClone(a);
  return performance.now() - t0 < 50 ? 2 ** 32 - 1 : 2 ** 20;
}

test("items() answering a sparse array of length 2³²−1 fails the handler with E_INVALIDARG at once, in the worker and on the manager's side (a raw worker posts the longest the engine clones at once)", async () => {
  const h = inlineHandler('h', `
    defineHandler({ items: () => { const a = []; a.length = 2 ** 32 - 1; a[0] = { id: 'a', name: 'A' }; return a; }, synchronize() {} });
  `);
  const m = bed.manager({ handlers: [h, { id: 'raw', worker: hostileWorker }] });
  // The hostile worker skips the runtime's check: the manager's own must hold, without visiting every slot.
  const sparseLength = postableSparseLength();
  const result = await m.synchronize({ cookie: { items: 'sparse', sparseLength } }).done;
  const lengths: Record<string, number> = { h: 2 ** 32 - 1, raw: sparseLength };
  for (const handler of result.handlers) {
    expect([handler.id, handler.outcome, handler.endedIn]).toEqual([handler.id, 'failed', 'enumerating']);
    expect(handler.error, handler.id).toMatchObject({ code: 'E_INVALIDARG', message: expect.stringContaining(`returned ${lengths[handler.id]} items; at most 10000 are allowed`) });
  }
  await noLiveWorkers();
});

test('items() answering an array with a hole fails the handler with E_INVALIDARG naming the entry, in the worker and on arrival', async () => {
  const h = inlineHandler('h', `
    defineHandler({ items: () => [, { id: 'a', name: 'A' }], synchronize() {} });
  `);
  const m = bed.manager({ handlers: [h, { id: 'raw', worker: hostileWorker }] });
  const result = await m.synchronize({ cookie: { items: 'hole' } }).done;
  for (const handler of result.handlers) {
    expect([handler.id, handler.outcome, handler.endedIn]).toEqual([handler.id, 'failed', 'enumerating']);
    expect(handler.error, handler.id).toMatchObject({ code: 'E_INVALIDARG', message: expect.stringMatching(/entry 0 is missing \(the array has a hole\)/) });
  }
  await noLiveWorkers();
});

test('setItemChecked refuses an item id longer than any item can have', () => {
  const m = bed.manager({ handlers: [inlineHandler('h', 'defineHandler({ items: () => [], synchronize() {} });')] });
  expect(() => m.setItemChecked('h', 'x'.repeat(100_000), false)).toThrowError(expect.objectContaining({ code: 'E_INVALIDARG', message: expect.stringMatching(/itemId must be a string of 1 to 256 characters/) }));
  expect(m.items('h')).toEqual([]);
});
