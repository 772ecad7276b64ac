import { describe, expect, test } from 'vitest';
import { DEFAULT_AUTO_RETRY, isLastChance, planRetry, resolveAutoRetry, type AutoRetryOptions } from '../../src/coordinator/auto-retry.ts';
import type { HandlerResult, SessionResult } from '../../src/coordinator/result.ts';
import type { SessionRequest } from '../../src/coordinator/session-request.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { fromWire, toWire } from '../../src/protocol/wire.ts';

const policy: AutoRetryOptions = { retries: 2, minDelay: 1000, maxDelay: 60_000, factor: 3, jitter: 0, maxRetryAfter: 10_000 };
const request = (over: Partial<SessionRequest> = {}): SessionRequest => ({
  trigger: 'interval', handlers: ['a', 'b'], items: new Map(), cookie: { c: 1 }, mayBotherUser: false, attempt: 1, ...over,
});
const handler = (id: string, outcome: HandlerResult['outcome'], error: Error | null, items: [string, HandlerResult['items'][number]['status']][] = []): HandlerResult => ({
  id, name: id, outcome, endedIn: 'synchronizing', error, startedAt: 0, endedAt: 0,
  items: items.map(([itemId, status]) => ({ id: itemId, name: itemId, status, text: '', value: 0, max: 0 })),
});
const result = (...handlers: HandlerResult[]): SessionResult => ({
  id: 's1', trigger: 'interval', outcome: handlers.some((h) => h.outcome !== 'succeeded') ? 'failed' : 'succeeded', startedAt: 0, endedAt: 0, handlers, connections: [],
});
const fail = (message = 'refused', retryAfter?: number | string) => new SyncError('E_FAIL', message, { retryAfter });
const ok = handler('b', 'succeeded', null, [['x', 'succeeded']]);

describe('which sessions are retried', () => {
  test('a failed handler of a trigger-started session is retried with its unfinished items, the same trigger and cookie, the next attempt', () => {
    const plan = planRetry(request(), result(handler('a', 'failed', fail(), [['x', 'succeeded'], ['y', 'failed'], ['z', 'updating'], ['w', 'skipped']]), ok), policy);
    expect(plan?.request.handlers).toEqual(['a']);
    expect([...plan!.request.items.get('a')!.ids]).toEqual(['y', 'z']);
    expect(plan?.request.items.get('a')?.choices).toBe(false);
    expect(plan?.request).toMatchObject({ trigger: 'interval', cookie: { c: 1 }, attempt: 2, mayBotherUser: false });
  });

  test('a handler that failed before it had items retries what the session asked of it: the user choices, or the explicit ids', () => {
    const choices = planRetry(request(), result(handler('a', 'crashed', fail()), ok), policy);
    expect(choices?.request.handlers).toEqual(['a']);
    expect(choices?.request.items.has('a')).toBe(false);
    const ids = planRetry(request({ items: new Map([['a', { choices: false, ids: new Set(['q']) }]]) }), result(handler('a', 'timed-out', new SyncError('E_TIMEOUT', 'slow')), ok), policy);
    expect([...ids!.request.items.get('a')!.ids]).toEqual(['q']);
  });

  test('a handler that succeeded with items marked failed retries those items', () => {
    const plan = planRetry(request(), result(handler('a', 'succeeded', null, [['x', 'succeeded'], ['y', 'failed']]), ok), policy);
    expect([...plan!.request.items.get('a')!.ids]).toEqual(['y']);
  });

  test('nothing is retried: manual sessions, retry off, cancelled sessions, successes, declines, errors that another attempt cannot cure', () => {
    const failed = result(handler('a', 'failed', fail()), ok);
    expect(planRetry(request({ trigger: 'manual' }), failed, policy)).toBeNull();
    expect(planRetry(request(), failed, null)).toBeNull();
    expect(planRetry(request(), { ...failed, outcome: 'cancelled' }, policy)).toBeNull();
    expect(planRetry(request(), result(ok, handler('a', 'declined', null)), policy)).toBeNull();
    for (const code of ['E_INVALIDARG', 'E_ACCESSDENIED', 'E_NOTIMPL', 'E_UNEXPECTED', 'E_ABORT', 'E_OUTOFMEMORY'] as const) {
      expect(planRetry(request(), result(handler('a', 'failed', new SyncError(code, 'no')), ok), policy), code).toBeNull();
    }
    for (const code of ['E_FAIL', 'E_TIMEOUT', 'E_OFFLINE'] as const) {
      expect(planRetry(request(), result(handler('a', 'failed', new SyncError(code, 'maybe')), ok), policy), code).not.toBeNull();
    }
    // An error without a code (a plain Error thrown by the handler) is worth another attempt.
    expect(planRetry(request(), result(handler('a', 'failed', new Error('boom')), ok), policy)).not.toBeNull();
  });

  test('after `retries` retries nothing more is retried; the last attempt is the last chance', () => {
    const failed = result(handler('a', 'failed', fail()));
    expect(planRetry(request({ attempt: 2 }), failed, policy)?.request.attempt).toBe(3);
    expect(planRetry(request({ attempt: 3 }), failed, policy)).toBeNull();
    expect([1, 2, 3].map((attempt) => isLastChance(request({ attempt }), policy))).toEqual([false, false, true]);
    expect(isLastChance(request({ trigger: 'manual' }), policy)).toBe(true);
    expect(isLastChance(request(), null)).toBe(true);
  });
});

describe('when the retry runs', () => {
  test('the backoff delay of the attempt, with jitter', () => {
    const failed = result(handler('a', 'failed', fail()));
    expect(planRetry(request({ attempt: 1 }), failed, policy)?.delay).toBe(1000);
    expect(planRetry(request({ attempt: 2 }), failed, policy)?.delay).toBe(3000);
    expect(planRetry(request(), failed, { ...policy, jitter: 0.5 }, () => 0.999)?.delay).toBe(500);
  });

  test("a failure's retryAfter replaces the backoff; the longest wait of the retried handlers wins; one over maxRetryAfter keeps its handler from a retry", () => {
    const plan = planRetry(request(), result(handler('a', 'failed', fail('busy', 7000)), handler('b', 'failed', fail())), policy);
    expect(plan?.delay).toBe(7000);
    expect([...plan!.retryAfter]).toEqual([['a', 7000], ['b', null]]);
    const short = planRetry(request(), result(handler('a', 'failed', fail('busy', 200)), handler('b', 'failed', fail())), policy);
    expect(short?.delay).toBe(1000);
    const tooLong = planRetry(request(), result(handler('a', 'failed', fail('busy', 10_001)), handler('b', 'failed', fail())), policy);
    expect(tooLong?.request.handlers).toEqual(['b']);
    expect(planRetry(request(), result(handler('a', 'failed', fail('busy', '11'))), policy)).toBeNull();
  });
});

describe('the retry option and SyncError.retryAfter', () => {
  test('off by default; true gives the defaults; an object overrides some; bad values are refused naming the option', () => {
    expect(resolveAutoRetry(undefined)).toBeNull();
    expect(resolveAutoRetry(false)).toBeNull();
    expect(resolveAutoRetry(true)).toEqual(DEFAULT_AUTO_RETRY);
    expect(resolveAutoRetry({ retries: 1 })).toEqual({ ...DEFAULT_AUTO_RETRY, retries: 1 });
    expect(() => resolveAutoRetry('yes')).toThrow(/`retry` must be true, false or an object/);
    expect(() => resolveAutoRetry({ retries: -1 })).toThrow(/retry.retries must be an integer from 0 to 100/);
    expect(() => resolveAutoRetry({ attempts: 3 })).toThrow(/unknown retry option 'attempts'/);
  });

  test('retryAfter takes ms or a Retry-After header value, crosses the worker boundary, and refuses a negative delay', () => {
    expect(new SyncError('E_FAIL', 'x').retryAfter).toBeNull();
    expect(new SyncError('E_FAIL', 'x', { retryAfter: 2500 }).retryAfter).toBe(2500);
    expect(new SyncError('E_FAIL', 'x', { retryAfter: '3' }).retryAfter).toBe(3000);
    expect(new SyncError('E_FAIL', 'x', { retryAfter: 'soon' }).retryAfter).toBeNull();
    expect((fromWire(toWire(new SyncError('E_FAIL', 'x', { retryAfter: 2500 }))) as SyncError).retryAfter).toBe(2500);
    expect(() => new SyncError('E_FAIL', 'x', { retryAfter: -1 })).toThrow(/retryAfter must be a delay in ms/);
  });
});
