/**
 * Progress answers and item statuses (DESIGN.md §3 step 5 and the status
 * rules): skip and cancel change what `progress()` answers and abort the
 * handler's signals; a terminal status changes only to `failed`; bad progress
 * calls are refused; events carry what the UI needs; items left unfinished
 * take the status of the handler's outcome.
 */
import { expect, test } from 'vitest';
import { cookie, limitFromSpawn, noLiveWorkers, scripted, inlineHandler, testBed, type Script } from '../fixtures/harness.ts';
import type { ItemEvent, SyncManager, SyncManagerEventMap } from '../../src/index.ts';

const bed = testBed();

/** Every event of `type` the manager dispatches from now on. */
function collect<K extends keyof SyncManagerEventMap & string>(target: SyncManager, type: K): SyncManagerEventMap[K][] {
  const list: SyncManagerEventMap[K][] = [];
  target.addEventListener(type, (event) => list.push(event));
  return list;
}

/** The data of item events, for comparing whole lists. */
function itemEvents(events: readonly ItemEvent[], handlerId?: string) {
  return events
    .filter((e) => handlerId === undefined || e.handlerId === handlerId)
    .map((e) => ({ sessionId: e.sessionId, handlerId: e.handlerId, item: e.item, previousStatus: e.previousStatus }));
}

/** Status transitions of one item, as `previous→next`. */
function transitions(events: readonly ItemEvent[], handlerId: string, itemId: string): string[] {
  return events.filter((e) => e.handlerId === handlerId && e.item.id === itemId).map((e) => `${e.previousStatus}→${e.item.status}`);
}

/** The value of a handler's step, which must have succeeded (reports may arrive after `done`). */
async function stepValue(handlerId: string, index: number): Promise<unknown> {
  const r = await bed.reports.waitStep(handlerId, index);
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return r.value;
}

/** The values of several steps of a handler. */
function stepValues(handlerId: string, indexes: number[]): Promise<unknown[]> {
  return Promise.all(indexes.map((i) => stepValue(handlerId, i)));
}

test('skip makes the item skipped, aborts its itemSignal, and its next progress answer is cancel-item', async () => {
  const reports = bed.reports;
  const m = bed.manager({
    handlers: [inlineHandler('h1', `
      defineHandler({
        items: () => [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
        async synchronize(itemIds, ctx) {
          const a = ctx.itemSignal('a');
          const b = ctx.itemSignal('b');
          report(ctx, 'started', await ctx.progress('a', { status: 'updating' }));
          if (!a.aborted) await new Promise((resolve) => a.addEventListener('abort', resolve, { once: true }));
          const answer = await ctx.progress('a', { text: 'still working' });
          report(ctx, 'aborted', { reason: toWire(a.reason), answer, bAborted: b.aborted });
          report(ctx, 'b', await ctx.progress('b', { status: 'succeeded' }));
        },
      });
    `)],
  });
  const statuses = collect(m, 'itemstatus');
  const session = m.synchronize();
  const started = await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'started');
  expect(started.value).toBe('continue');

  expect(session.skip('h1', 'a')).toBe(true);

  const aborted = await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'aborted');
  expect(aborted.value).toMatchObject({ reason: { name: 'SyncError', code: 'E_ABORT' }, answer: 'cancel-item', bAborted: false });
  expect((await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'b')).value).toBe('continue');
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.handlers[0]!.items.map((i) => [i.id, i.status])).toEqual([['a', 'skipped'], ['b', 'succeeded']]);
  expect(itemEvents(statuses.filter((e) => e.item.id === 'a'))).toEqual([
    { sessionId: session.id, handlerId: 'h1', item: expect.objectContaining({ id: 'a', status: 'updating' }), previousStatus: 'pending' },
    { sessionId: session.id, handlerId: 'h1', item: expect.objectContaining({ id: 'a', status: 'skipped' }), previousStatus: 'updating' },
  ]);
  await noLiveWorkers();
});

test('skip answers false for an item that is not selected or already finished', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1')] });
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
        steps: [{ op: 'progress', item: 'a', update: { status: 'succeeded' } }, { op: 'wait' }],
      },
    }),
  });
  await reports.waitStep('h1', 0);
  expect(session.skip('h1', 'a')).toBe(false);
  expect(session.skip('h1', 'zzz')).toBe(false);
  expect(session.skip('nobody', 'a')).toBe(false);
  reports.release(session.id, 'h1');
  const result = await session.done;
  expect(result.handlers[0]!.items.map((i) => [i.id, i.status])).toEqual([['a', 'succeeded'], ['b', 'succeeded']]);
});

test('cancel makes every progress answer cancel-all, aborts ctx.signal with E_ABORT, and the outcome is cancelled', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const poll = (items: string[]): Script => ({
    items: items.map((id) => ({ id, name: id.toUpperCase() })),
    steps: [{ op: 'poll-progress', items, ms: 20, rounds: 1000 }, { op: 'wait-abort' }],
  });
  const session = m.synchronize({ cookie: cookie({ h1: poll(['a', 'b']), h2: poll(['x']) }) });
  await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'poll' && r.index === 0);
  await reports.wait((r) => r.handlerId === 'h2' && r.phase === 'poll' && r.index === 0);

  session.cancel();

  const result = await session.done;
  for (const [id, items] of [['h1', ['a', 'b']], ['h2', ['x']]] as const) {
    const rows = (await stepValue(id, 0)) as Record<string, string>[];
    expect(rows[0]).toEqual(Object.fromEntries(items.map((i) => [i, 'continue'])));
    expect(rows.at(-1)).toEqual(Object.fromEntries(items.map((i) => [i, 'cancel-all'])));
    expect(rows.length).toBeLessThan(1000);
    expect(await stepValue(id, 1)).toMatchObject({ name: 'SyncError', code: 'E_ABORT' });
  }
  expect(result.outcome).toBe('cancelled');
  expect(result.handlers.map((h) => [h.id, h.outcome, h.error?.name, (h.error as { code?: string } | null)?.code])).toEqual([
    ['h1', 'cancelled', 'SyncError', 'E_ABORT'],
    ['h2', 'cancelled', 'SyncError', 'E_ABORT'],
  ]);
  await noLiveWorkers();
});

test('a succeeded item refuses a later non-failed status: it stays succeeded and the answer is cancel-item', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const statuses = collect(m, 'itemstatus');
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'progress', item: 'a', update: { status: 'succeeded', value: 1, max: 1 } },
          { op: 'progress', item: 'a', update: { status: 'updating', value: 0, max: 1 } },
          { op: 'progress', item: 'a', update: { status: 'pending' } },
        ],
      },
    }),
  });
  const result = await session.done;
  expect(await stepValues('h1', [0, 1, 2])).toEqual(['continue', 'cancel-item', 'cancel-item']);
  expect(result.handlers[0]!.items).toEqual([{ id: 'a', name: 'A', status: 'succeeded', text: '', value: 1, max: 1 }]);
  expect(transitions(statuses, 'h1', 'a')).toEqual(['pending→succeeded']);
});

test('a succeeded item may still change to failed', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const statuses = collect(m, 'itemstatus');
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
          { op: 'progress', item: 'a', update: { status: 'failed', text: 'the server rolled it back' } },
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
        ],
      },
    }),
  });
  const result = await session.done;
  expect(await stepValues('h1', [0, 1, 2])).toEqual(['continue', 'continue', 'cancel-item']);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.handlers[0]!.items[0]).toMatchObject({ id: 'a', status: 'failed', text: 'the server rolled it back' });
  expect(transitions(statuses, 'h1', 'a')).toEqual(['pending→succeeded', 'succeeded→failed']);
});

test('a skipped item stays skipped when the handler then reports it succeeded', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1')] });
  const statuses = collect(m, 'itemstatus');
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'progress', item: 'a', update: { status: 'updating' } },
          { op: 'wait' },
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
        ],
      },
    }),
  });
  await reports.waitStep('h1', 0);
  expect(session.skip('h1', 'a')).toBe(true);
  reports.release(session.id, 'h1');
  const result = await session.done;
  expect(await stepValue('h1', 2)).toBe('cancel-item');
  expect(result.handlers[0]!.items[0]).toMatchObject({ id: 'a', status: 'skipped' });
  expect(transitions(statuses, 'h1', 'a')).toEqual(['pending→updating', 'updating→skipped']);
});

test('progress for an item that is not selected, or with an invalid update, rejects with E_INVALIDARG naming the handler and the item', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1')] });
  const progress = collect(m, 'progress');
  const bad: { item: unknown; update?: unknown; mentions: string[] }[] = [
    { item: 'b', update: { status: 'updating' }, mentions: ["'h1'", '"b"'] }, // listed but not checked
    { item: 'zzz', update: { status: 'updating' }, mentions: ["'h1'", '"zzz"'] }, // not listed at all
    { item: 42, update: {}, mentions: ["'h1'", '42'] },
    { item: 'a', update: { status: 'done' }, mentions: ["'h1'", "'a'", 'status', '"done"'] },
    { item: 'a', update: { value: -1 }, mentions: ["'h1'", "'a'", 'value'] },
    { item: 'a', update: { value: Infinity }, mentions: ["'h1'", "'a'", 'value'] },
    { item: 'a', update: { max: 'ten' }, mentions: ["'h1'", "'a'", 'max'] },
    { item: 'a', update: { text: 5 }, mentions: ["'h1'", "'a'", 'text'] },
    { item: 'a', update: { percent: 50 }, mentions: ["'h1'", "'a'", "'percent'"] },
    { item: 'a', update: 'fast', mentions: ["'h1'", "'a'"] },
  ];
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B', checked: false }],
        steps: [
          { op: 'progress', item: 'a', update: { text: 'half', value: 1, max: 2 } },
          ...bad.map(({ item, update }) => ({ op: 'progress' as const, item, update })),
        ],
      },
    }),
  });
  const result = await session.done;
  expect(await stepValue('h1', 0)).toBe('continue');
  for (const [i, { mentions }] of bad.entries()) {
    const r = await reports.waitStep('h1', i + 1);
    expect(r.ok, JSON.stringify(bad[i])).toBe(false);
    expect(r.error).toMatchObject({ name: 'SyncError', code: 'E_INVALIDARG' });
    for (const word of mentions) expect(r.error!.message, JSON.stringify(bad[i])).toContain(word);
  }
  // The refused calls changed nothing: the item keeps the last good update until the handler's outcome settles it.
  expect(result.handlers[0]!.items).toEqual([{ id: 'a', name: 'A', status: 'succeeded', text: 'half', value: 1, max: 2 }]);
  expect(progress.map((e) => [e.item.id, e.item.status, e.item.text, e.item.value, e.item.max])).toEqual([
    ['a', 'pending', 'half', 1, 2],
    ['a', 'succeeded', 'half', 1, 2],
  ]);
});

test('progress and itemstatus events carry sessionId, handlerId, an item snapshot and previousStatus', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const progress = collect(m, 'progress');
  const statuses = collect(m, 'itemstatus');
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'progress', item: 'a', update: { status: 'updating', text: '1 of 3', value: 1, max: 3 } },
          { op: 'progress', item: 'a', update: { text: '2 of 3', value: 2 } },
          { op: 'progress', item: 'a', update: { status: 'succeeded', value: 3 } },
        ],
      },
      h2: { items: [{ id: 'x', name: 'X' }], steps: [{ op: 'progress', item: 'x', update: { status: 'failed', text: 'gone' } }] },
    }),
  });
  await session.done;
  const sessionId = session.id;
  const a = (status: string, text: string, value: number) => ({ id: 'a', name: 'A', status, text, value, max: 3 });
  expect(itemEvents(progress, 'h1')).toEqual([
    { sessionId, handlerId: 'h1', item: a('updating', '1 of 3', 1), previousStatus: 'pending' },
    { sessionId, handlerId: 'h1', item: a('updating', '2 of 3', 2), previousStatus: 'updating' },
    { sessionId, handlerId: 'h1', item: a('succeeded', '2 of 3', 3), previousStatus: 'updating' },
  ]);
  expect(itemEvents(statuses, 'h1')).toEqual([
    { sessionId, handlerId: 'h1', item: a('updating', '1 of 3', 1), previousStatus: 'pending' },
    { sessionId, handlerId: 'h1', item: a('succeeded', '2 of 3', 3), previousStatus: 'updating' },
  ]);
  const x = { id: 'x', name: 'X', status: 'failed', text: 'gone', value: 0, max: 0 };
  expect(itemEvents(progress, 'h2')).toEqual([{ sessionId, handlerId: 'h2', item: x, previousStatus: 'pending' }]);
  expect(itemEvents(statuses, 'h2')).toEqual([{ sessionId, handlerId: 'h2', item: x, previousStatus: 'pending' }]);
  expect(progress).toHaveLength(4);
  expect(statuses).toHaveLength(3);
});

test('items left unfinished take the status of the outcome: succeeded → succeeded, failed, crashed or timed out → failed', { timeout: 60_000 }, async () => {
  void bed.reports; // listening before the session starts
  // The limit runs from the spawn: it leaves room for the workers' start, and for a busy machine to stall the
  // worker for seconds, so 'hangs' has reported its items when it passes.
  const m = bed.manager({ handlers: [scripted('ok'), scripted('fails'), scripted('crashes'), scripted('hangs', { timeouts: { handler: await limitFromSpawn(8000) } })] });
  const statuses = collect(m, 'itemstatus');
  const abc = [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }];
  const started: Script['steps'] = [
    { op: 'progress', item: 'a', update: { status: 'succeeded' } },
    { op: 'progress', item: 'b', update: { status: 'updating' } },
  ];
  const session = m.synchronize({
    cookie: cookie({
      ok: { items: abc, steps: started },
      fails: { items: abc, steps: [...started!, { op: 'throw', code: 'E_FAIL', message: 'server error' }] },
      crashes: { items: abc, steps: [...started!, { op: 'crash' }] },
      hangs: { items: abc, steps: [...started!, { op: 'hang' }] },
    }),
  });
  const result = await session.done;
  const table = result.handlers.map((h) => [h.id, h.outcome, h.items.map((i) => `${i.id}:${i.status}`)]);
  expect(table).toEqual([
    ['ok', 'succeeded', ['a:succeeded', 'b:succeeded', 'c:succeeded']],
    ['fails', 'failed', ['a:succeeded', 'b:failed', 'c:failed']],
    ['crashes', 'crashed', ['a:succeeded', 'b:failed', 'c:failed']],
    ['hangs', 'timed-out', ['a:succeeded', 'b:failed', 'c:failed']],
  ]);
  // The settling is reported like any other change.
  expect(transitions(statuses, 'ok', 'b')).toEqual(['pending→updating', 'updating→succeeded']);
  expect(transitions(statuses, 'ok', 'c')).toEqual(['pending→succeeded']);
  expect(transitions(statuses, 'fails', 'c')).toEqual(['pending→failed']);
  await noLiveWorkers();
});

test('items left unfinished by a cancelled handler become cancelled; finished ones keep their status', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1')] });
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }],
        steps: [
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
          { op: 'progress', item: 'b', update: { status: 'updating' } },
          { op: 'wait-abort' },
        ],
      },
    }),
  });
  await reports.waitStep('h1', 1);
  session.cancel();
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('cancelled');
  expect(result.handlers[0]!.items.map((i) => `${i.id}:${i.status}`)).toEqual(['a:succeeded', 'b:cancelled', 'c:cancelled']);
  await noLiveWorkers();
});
