/**
 * Automatic retry (README, "Automatic retry"), with real handler workers:
 * a failed trigger-started session is retried after the configured backoff
 * or the failure's `retryAfter`, for exactly the items that did not succeed,
 * at most `retries` times, the last attempt flagged `lastChance`; each retry
 * waiting shows in `pending()` and as a `retry` entry in the log. Delays are
 * checked by the sessions' own Date.now() times, which timers can only make
 * later, never earlier.
 */
import { expect, test } from 'vitest';
import { inlineHandler, noLiveWorkers, testBed } from '../fixtures/harness.ts';
import { countResources } from '../fixtures/resources.ts';
import { until } from '../fixtures/until.ts';
import { RETRY_ERROR_ID, FAILURE_ERROR_ID, type SessionResult, type SyncManager } from '../../src/index.ts';

const bed = testBed();

/** Fails every time: reports each attempt's ctx.attempt and ctx.lastChance, then throws what `error` builds. */
function failing(id: string, error = "new Error('the server is down')", items = "[{ id: 'x', name: 'X' }]") {
  return inlineHandler(id, `
    import { SyncError } from ${JSON.stringify(new URL('../../src/handler.ts', import.meta.url).href)};
    defineHandler({
      items: () => ${items},
      synchronize: async (ids, ctx) => {
        report(ctx, 'attempt', { attempt: ctx.attempt, lastChance: ctx.lastChance, trigger: ctx.trigger, ids });
        throw ${error};
      },
    });
  `);
}

function ends(m: SyncManager): SessionResult[] {
  const list: SessionResult[] = [];
  m.addEventListener('sessionend', (e) => list.push(e.result!));
  return list;
}

const attempts = (handlerId: string) => bed.reports.all.filter((r) => r.handlerId === handlerId && r.phase === 'attempt').map((r) => r.value as { attempt: number; lastChance: boolean; trigger: string; ids: string[] });

test('a failed invoke session is retried `retries` times after the backoff delays; the handler sees each attempt, the last one as its last chance', async () => {
  void bed.reports; // listening from the start
  const m = bed.manager({
    retry: { retries: 2, minDelay: 300, factor: 2, jitter: 0 },
    triggers: { invoke: { debounce: 0 } },
    handlers: [failing('flaky')],
  });
  const ended = ends(m);
  m.invoke();
  await until(() => ended.length === 1, 'the first session');
  await until(() => m.pending().length === 1, 'the retry to be queued');
  const [waiting] = m.pending();
  expect(waiting).toMatchObject({ trigger: 'invoke', attempt: 2, handlers: ['flaky'], items: { flaky: { choices: false, ids: ['x'] } }, waitingFor: 'retry' });
  expect(waiting!.notBefore! - ended[0]!.endedAt).toBeGreaterThanOrEqual(300);
  const retryEntry = m.log().find((e) => e.errorId === RETRY_ERROR_ID);
  expect(retryEntry).toMatchObject({ handlerId: 'flaky', level: 'information', actionable: false, text: 'flaky: automatic retry 1 of 2 in 0.3 s.' });
  await until(() => ended.length === 3, 'both retries', 30_000);
  // No fourth attempt: wait past what it would have waited, then look.
  await new Promise((r) => setTimeout(r, 1500));
  expect(ended.length).toBe(3);
  expect(m.pending()).toEqual([]);
  expect(ended[1]!.startedAt - ended[0]!.endedAt).toBeGreaterThanOrEqual(300);
  expect(ended[2]!.startedAt - ended[1]!.endedAt).toBeGreaterThanOrEqual(600);
  expect(ended.map((r) => [r.trigger, r.outcome])).toEqual([['invoke', 'failed'], ['invoke', 'failed'], ['invoke', 'failed']]);
  expect(attempts('flaky').map((a) => [a.attempt, a.lastChance])).toEqual([[1, false], [2, false], [3, true]]);
  // The failure stays in the log; the retry entry went when the last retry ran.
  expect(m.log().map((e) => e.errorId)).toEqual([`${FAILURE_ERROR_ID}:item:x`]);
  await noLiveWorkers();
});

test('a retry syncs exactly the items that did not succeed', async () => {
  void bed.reports; // listening from the start
  const handler = inlineHandler('items', `
    defineHandler({
      items: () => [{ id: 'x', name: 'X' }, { id: 'y', name: 'Y' }, { id: 'z', name: 'Z' }],
      synchronize: async (ids, ctx) => {
        report(ctx, 'attempt', { attempt: ctx.attempt, ids });
        for (const id of ids) await ctx.progress(id, { status: id === 'y' && ctx.attempt === 1 ? 'failed' : 'succeeded' });
      },
    });
  `);
  const m = bed.manager({ retry: { minDelay: 50, jitter: 0 }, triggers: { invoke: { debounce: 0 } }, handlers: [handler] });
  const ended = ends(m);
  m.invoke();
  await until(() => ended.length === 2, 'the session and its retry');
  expect(bed.reports.all.filter((r) => r.phase === 'attempt').map((r) => r.value)).toEqual([{ attempt: 1, ids: ['x', 'y', 'z'] }, { attempt: 2, ids: ['y'] }]);
  expect(ended.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);
  expect(m.items('items').map((i) => [i.id, i.status])).toEqual([['x', 'succeeded'], ['y', 'succeeded'], ['z', 'succeeded']]);
});

test("a failure's Retry-After is waited out instead of the backoff; one longer than maxRetryAfter is not retried", async () => {
  void bed.reports; // listening from the start
  const m = bed.manager({
    retry: { retries: 1, minDelay: 50, jitter: 0, maxRetryAfter: 5_000 },
    triggers: { invoke: { debounce: 0 } },
    handlers: [failing('busy', "new SyncError('E_FAIL', 'busy', { retryAfter: '1' })"), failing('later', "new SyncError('E_FAIL', 'come back tomorrow', { retryAfter: '86400' })")],
  });
  const ended = ends(m);
  m.invoke({ handlers: ['busy'] });
  await until(() => ended.length === 2, 'the session and its retry');
  expect(ended[1]!.startedAt - ended[0]!.endedAt).toBeGreaterThanOrEqual(1000);
  expect(attempts('busy').map((a) => a.attempt)).toEqual([1, 2]);
  m.invoke({ handlers: ['later'] });
  await until(() => ended.length === 3, "later's session");
  await new Promise((r) => setTimeout(r, 300));
  expect(m.pending()).toEqual([]);
  expect(attempts('later').map((a) => [a.attempt, a.lastChance])).toEqual([[1, false]]);
});

test('not retried: a manual session, a session while retry is off (the default), an error another attempt cannot cure', async () => {
  void bed.reports; // listening from the start
  const off = bed.manager({ triggers: { invoke: { debounce: 0 } }, handlers: [failing('off')] });
  await off.invoke().done;
  const on = bed.manager({
    retry: { minDelay: 50, jitter: 0 },
    triggers: { invoke: { debounce: 0 } },
    handlers: [failing('manual'), failing('denied', "new SyncError('E_ACCESSDENIED', 'not yours')")],
  });
  await on.synchronize({ handlers: ['manual'] }).done;
  await on.invoke({ handlers: ['denied'] }).done;
  await new Promise((r) => setTimeout(r, 300));
  expect([off.pending(), on.pending()]).toEqual([[], []]);
  expect(attempts('off').map((a) => [a.attempt, a.lastChance])).toEqual([[1, true]]);
  expect(attempts('manual').map((a) => [a.trigger, a.lastChance])).toEqual([['manual', true]]);
  expect(attempts('denied').map((a) => a.lastChance)).toEqual([false]);
  expect(on.log().filter((e) => e.errorId === RETRY_ERROR_ID)).toEqual([]);
});

test('a waiting retry can be cancelled from pending(); close() with a retry waiting leaves no timer, and its log entry goes', async () => {
  void bed.reports; // listening from the start
  const m = bed.manager({ retry: { minDelay: 60_000 }, triggers: { invoke: { debounce: 0 } }, handlers: [failing('a'), failing('b')] });
  await m.invoke({ handlers: ['a'] }).done;
  await until(() => m.pending().length === 1, "a's retry");
  const retry = m.pending()[0]!.session;
  retry.cancel();
  expect((await retry.done).outcome).toBe('cancelled');
  expect(m.pending()).toEqual([]);
  expect(m.log().filter((e) => e.errorId === RETRY_ERROR_ID)).toEqual([]);

  const count = countResources();
  bed.cleanup(() => count.stop());
  await m.invoke({ handlers: ['b'] }).done;
  await until(() => m.pending().length === 1, "b's retry");
  expect(m.log().filter((e) => e.errorId === RETRY_ERROR_ID).map((e) => e.handlerId)).toEqual(['b']);
  await m.close();
  expect((await count.leftovers()).timers).toEqual([]);
  expect(m.log().filter((e) => e.errorId === RETRY_ERROR_ID)).toEqual([]);
});
