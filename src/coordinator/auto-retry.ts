/**
 * The manager's automatic retry, as pure functions: which failures of a
 * session are worth another session, for which items, and when it runs.
 *
 * The rules (README, "Automatic retry"):
 * - only sessions started by a trigger other than `manual` are retried (a
 *   user who started one sees its failure and retries from the log);
 * - a handler that failed, crashed or timed out is retried when its error's
 *   code is one of {@link RETRYABLE_ERROR_CODES}; so is a handler that
 *   succeeded with items it marked `failed`;
 * - the retry syncs the handler's items that did not end `succeeded` or
 *   `skipped`, or, when it had none, what the session asked of it;
 * - the wait is the longest any retried handler asks for: the `retryAfter`
 *   its failure carried, else the attempt's backoff delay; a `retryAfter`
 *   longer than `maxRetryAfter` keeps that handler from being retried (a
 *   shorter wait would not honour it);
 * - after `retries` retries (attempt `retries + 1`) nothing more is retried.
 */
import type { SyncErrorCode } from '../protocol/sync-error.ts';
import { backoffDelay } from '../connections/backoff.ts';
import { resolveRetry, type FetchRetryOptions } from '../connections/retry-policy.ts';
import { SyncError } from '../protocol/sync-error.ts';
import type { SessionResult } from './result.ts';
import { USER_CHOICES, type ItemSelection, type SessionRequest } from './session-request.ts';

/** The manager's `retry` option: how many automatic retries, their backoff, and the longest `retryAfter` honoured. */
export type AutoRetryOptions = FetchRetryOptions;

/** Defaults of the manager's `retry` when it is `true`: 3 retries, 5 s tripling to at most 5 min, half of each delay random, `retryAfter` up to 1 h. */
export const DEFAULT_AUTO_RETRY: Readonly<AutoRetryOptions> = Object.freeze({
  retries: 3,
  minDelay: 5_000,
  maxDelay: 300_000,
  factor: 3,
  jitter: 0.5,
  maxRetryAfter: 3_600_000,
});

/** Failures another attempt may cure: a refused or cut connection, a crash, a time limit, the network gone. */
export const RETRYABLE_ERROR_CODES: readonly SyncErrorCode[] = Object.freeze(['E_FAIL', 'E_TIMEOUT', 'E_OFFLINE']);

/** Validates the manager's `retry` option: `undefined` and `false` are off (`null`), `true` the defaults. */
export function resolveAutoRetry(value: unknown): AutoRetryOptions | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { ...DEFAULT_AUTO_RETRY };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyncError('E_INVALIDARG', `SyncManager option \`retry\` must be true, false or an object like { retries: 3, minDelay: 5000 }, not ${JSON.stringify(value)}.`);
  }
  return resolveRetry('SyncManager option `retry`', value, DEFAULT_AUTO_RETRY);
}

/** `true` when a session of `request` that fails is not retried automatically (Background Sync's `lastChance`). */
export function isLastChance(request: SessionRequest, options: AutoRetryOptions | null): boolean {
  return options === null || request.trigger === 'manual' || request.attempt > options.retries;
}

export interface PlannedRetry {
  /** The retry's request: the same trigger and cookie, the next attempt, only the handlers and items to retry. */
  request: SessionRequest;
  /** Ms from the end of the failed session. */
  delay: number;
  /** Per handler in `request`: the `retryAfter` it carried, or `null`. */
  retryAfter: ReadonlyMap<string, number | null>;
}

/**
 * The retry of a session that ended with `result`; `null` when nothing is to
 * be retried. `random` returns a number in [0, 1).
 */
export function planRetry(request: SessionRequest, result: SessionResult, options: AutoRetryOptions | null, random: () => number = Math.random): PlannedRetry | null {
  if (isLastChance(request, options) || result.outcome === 'cancelled') return null;
  const policy = options!;
  const items = new Map<string, ItemSelection>();
  const retryAfter = new Map<string, number | null>();
  for (const handler of result.handlers) {
    const failed = handler.outcome === 'failed' || handler.outcome === 'crashed' || handler.outcome === 'timed-out';
    const failedItems = handler.items.some((i) => i.status === 'failed');
    if (!failed && !(handler.outcome === 'succeeded' && failedItems)) continue;
    const code = (handler.error as { code?: unknown } | null)?.code;
    if (failed && code !== undefined && !RETRYABLE_ERROR_CODES.includes(code as SyncErrorCode)) continue;
    const asked = retryAfterOf(handler.error);
    if (asked !== null && asked > policy.maxRetryAfter) continue;
    const unfinished = handler.items.filter((i) => i.status !== 'succeeded' && i.status !== 'skipped').map((i) => i.id);
    items.set(handler.id, unfinished.length > 0 ? { choices: false, ids: new Set(unfinished) } : request.items.get(handler.id) ?? USER_CHOICES);
    retryAfter.set(handler.id, asked);
  }
  if (items.size === 0) return null;
  const handlers = request.handlers.filter((id) => items.has(id));
  const backoff = backoffDelay(request.attempt, policy, random);
  const delay = Math.max(...[...retryAfter.values()].map((ms) => ms ?? backoff));
  // A handler syncing the user's choices is absent from a request's items.
  for (const [id, selection] of items) if (selection === USER_CHOICES) items.delete(id);
  return {
    request: { trigger: request.trigger, handlers, items, cookie: request.cookie, mayBotherUser: false, attempt: request.attempt + 1 },
    delay,
    retryAfter,
  };
}

function retryAfterOf(error: Error | null): number | null {
  const value = (error as { retryAfter?: unknown } | null)?.retryAfter;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}
