/**
 * Failures reach the log (README, Failures in the log): a handler that
 * throws, crashes, times out or cannot establish a connection leaves one
 * actionable error entry written by the manager, naming the handler, the
 * item where known, and the error's code and message; none when the handler
 * logged that error itself; a later success removes it; `retry` runs exactly
 * the items asked for.
 */
import { expect, test } from 'vitest';
import { cookie, inlineHandler, limitFromSpawn, scripted, testBed, type Script } from '../fixtures/harness.ts';
import { TestServer } from '../fixtures/server.ts';
import type { LogEntry, SyncManager } from '../../src/index.ts';

const bed = testBed();

const ITEMS = [{ id: 'x', name: 'Inbox' }, { id: 'y', name: 'Archive' }, { id: 'z', name: 'Drafts' }];

/** A script that syncs x, then fails on y with `last` while y is updating. */
function failingOnY(last: Script['steps']): Script {
  return {
    items: ITEMS,
    steps: [
      { op: 'progress', item: 'x', update: { status: 'succeeded' } },
      { op: 'progress', item: 'y', update: { status: 'updating' } },
      ...(last ?? []),
    ],
  };
}

const mine = (m: SyncManager, handlerId = 'a'): LogEntry[] => m.log().filter((e) => e.handlerId === handlerId);

test('a handler that throws leaves one actionable error entry naming the handler, the item, the code and the message', async () => {
  const m = bed.manager({ handlers: [scripted('a', { name: 'Notes' })] });
  const script = failingOnY([{ op: 'throw', code: 'E_ACCESSDENIED', message: 'the server refused the token' }]);
  const result = await m.synchronize({ cookie: cookie({ a: script }) }).done;
  expect(result.handlers[0]!.outcome).toBe('failed');
  expect(mine(m)).toEqual([expect.objectContaining({
    level: 'error', itemId: 'y', actionable: true, code: 'E_ACCESSDENIED', sessionId: result.id,
    text: "Notes failed on 'Archive' while synchronizing: the server refused the token",
  })]);
  expect(m.items('a').find((i) => i.id === 'y')!.lastError).toMatchObject({ code: 'E_ACCESSDENIED', message: 'the server refused the token' });
  // The same failure again replaces the entry: still one.
  await m.synchronize({ cookie: cookie({ a: script }) }).done;
  expect(mine(m)).toHaveLength(1);
});

test('a crash, and a time-out, each leave one entry; without one item in progress it is about the handler', async () => {
  const m = bed.manager({ handlers: [scripted('a', { name: 'Notes' })] });
  await m.synchronize({ cookie: cookie({ a: { items: ITEMS, steps: [{ op: 'crash' }] } }) }).done;
  expect(mine(m)).toEqual([expect.objectContaining({ itemId: null, actionable: true, code: 'E_FAIL', text: expect.stringMatching(/^Notes crashed while synchronizing: /) })]);
  m.clearLog();
  const handler = await limitFromSpawn(2_000);
  const t = bed.manager({ handlers: [scripted('a', { name: 'Notes', timeouts: { handler } })] });
  await t.synchronize({ cookie: cookie({ a: failingOnY([{ op: 'hang' }]) }) }).done;
  expect(mine(t)).toEqual([expect.objectContaining({
    itemId: 'y', code: 'E_TIMEOUT', text: `Notes timed out on 'Archive' while synchronizing: Handler 'a' did not finish within ${handler} ms; its worker was terminated.`,
  })]);
}, 60_000);

test('a connection that cannot be established leaves one entry naming the endpoint, also when the handler fails because of it', async () => {
  const server = TestServer.create();
  await server.faults({ refuse: ['live'] });
  const endpoints = { live: { kind: 'websocket' as const, url: server.wsUrl('live'), reconnect: false as const } };
  const fails = inlineHandler('a', `
    defineHandler({ items: () => [{ id: 'x', name: 'Inbox' }], synchronize: async (ids, ctx) => { await ctx.establishConnection('live'); } });
  `);
  const m = bed.manager({ endpoints, handlers: [{ ...fails, name: 'Live' }] });
  const result = await m.synchronize().done;
  expect(result.handlers[0]!.outcome).toBe('failed');
  const entries = mine(m);
  expect(entries).toEqual([expect.objectContaining({ itemId: null, actionable: true, text: expect.stringMatching(/^Live could not connect to 'live': /) })]);
  expect(entries[0]!.code).toBe((result.handlers[0]!.error as { code?: string }).code);
  // A handler that goes on without the connection still gets the entry.
  const m2 = bed.manager({ endpoints, handlers: [scripted('b')] });
  const r2 = await m2.synchronize({ cookie: cookie({ b: { steps: [{ op: 'establish', name: 'live' }] } }) }).done;
  expect(r2.handlers[0]!.outcome).toBe('succeeded');
  expect(mine(m2, 'b')).toEqual([expect.objectContaining({ text: expect.stringMatching(/^b could not connect to 'live': /) })]);
});

test('no entry of the manager when the handler logged the error itself', async () => {
  const m = bed.manager({ handlers: [scripted('a')] });
  await m.synchronize({ cookie: cookie({ a: failingOnY([
    { op: 'log', level: 'error', text: 'Archive: the server said no (try again later)', options: { itemId: 'y', errorId: 'mine' } },
    { op: 'throw', message: 'the server said no' },
  ]) }) }).done;
  expect(mine(m).map((e) => e.errorId)).toEqual(['mine']);
});

test('an entry goes when a later session succeeds for its item (or, without an item, for the handler)', async () => {
  // Handlers run side by side: their entries come in the order they finish.
  const entries = () => m.log().map((e) => [e.handlerId, e.itemId]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  const m = bed.manager({ handlers: [scripted('a', { name: 'Notes' }), scripted('b')] });
  // b crashes with three items unfinished: its entry is about the handler.
  await m.synchronize({ cookie: cookie({ a: failingOnY([{ op: 'throw', message: 'y is broken' }]), b: { items: ITEMS, steps: [{ op: 'crash' }] } }) }).done;
  expect(entries()).toEqual([['a', 'y'], ['b', null]]);
  // x and z succeed, y is skipped: the entry about y stays.
  const s = m.synchronize({ handlers: ['a'], items: { a: ['x', 'z'] }, cookie: cookie({ a: { items: ITEMS } }) });
  await s.done;
  expect(entries()).toEqual([['a', 'y'], ['b', null]]);
  await m.retry('a', ['y'], { cookie: cookie({ a: { items: ITEMS } }) }).done;
  expect(entries()).toEqual([['b', null]]);
  await m.synchronize({ handlers: ['b'], cookie: cookie({ b: { items: ITEMS } }) }).done;
  expect(m.log()).toEqual([]);
});

test('retry runs exactly the items asked for, also unchecked ones, and refuses bad arguments', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('a'), scripted('b')] });
  const c = cookie({ a: { items: ITEMS }, b: {} });
  await m.synchronize({ cookie: c }).done;
  m.setItemChecked('a', 'z', false);
  const session = m.retry('a', ['y', 'z'], { cookie: c });
  const result = await session.done;
  expect(result.trigger).toBe('manual');
  expect(result.handlers.map((h) => [h.id, h.items.map((i) => i.id)])).toEqual([['a', ['y', 'z']]]);
  const sync = await reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');
  expect(sync.value).toEqual(['y', 'z']);
  expect(() => m.retry('nope', ['x'])).toThrow(/handler "nope" is not registered/);
  expect(() => m.retry('a', [])).toThrow(/itemIds must be a non-empty array/);
  expect(() => m.retry('a', [1 as unknown as string])).toThrow(/itemIds must be a non-empty array/);
});

test('a handler may not log under the errorIds of the manager', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('a')] });
  const session = m.synchronize({ cookie: cookie({ a: { steps: [{ op: 'log', level: 'error', text: 'x', options: { errorId: 'syncmgr:failure' } }] } }) });
  const step = await reports.wait((r) => r.sessionId === session.id && r.phase === 'step');
  expect(step.ok).toBe(false);
  expect(step.error?.message).toMatch(/errorIds starting with 'syncmgr:' are the manager's/);
  await session.done;
});
