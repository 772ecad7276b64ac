/**
 * When the manager tries a fetch again, as pure functions (no timers, no
 * globals): which outcomes are worth another attempt, which methods may be
 * repeated, how long to wait (exponential backoff with jitter, or the
 * server's `Retry-After`), and the validation of an endpoint's `retry` option.
 *
 * The rules (README, "Retries"):
 * - a network error, a 429 and a 5xx are retried, except 501 and 505, which
 *   say the request can never succeed; every other status is final (the 401
 *   re-authorisation is separate: see fetch-connection.ts);
 * - a request is repeated only when repeating it is harmless: an idempotent
 *   method (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), or the
 *   caller opted in (an `Idempotency-Key` header, or `idempotent: true`);
 *   `idempotent: false` opts any method out;
 * - the wait is the server's `Retry-After` (delay-seconds or an HTTP-date)
 *   when it sends one, else the backoff delay. A `Retry-After` longer than
 *   `maxRetryAfter` is not shortened (that would not honour it): the response
 *   goes to the handler as it is;
 * - after `retries` further attempts the last outcome is final.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { parseRetryAfter } from '../protocol/retry-after.ts';

export { parseHttpDate, parseRetryAfter } from '../protocol/retry-after.ts';

/** A fetch endpoint's `retry`: the backoff of its delays, how many retries, and the longest `Retry-After` it honours. */
export interface FetchRetryOptions extends BackoffOptions {
  /** Further attempts after the first (0: none). */
  retries: number;
  /** The longest `Retry-After` (ms) the manager waits for; a longer one ends the retries. */
  maxRetryAfter: number;
}

/** Defaults of a fetch endpoint's `retry`: 3 retries, 500 ms doubling to at most 30 s, half of each delay random, `Retry-After` up to 60 s. */
export const DEFAULT_FETCH_RETRY: Readonly<FetchRetryOptions> = Object.freeze({
  retries: 3,
  minDelay: 500,
  maxDelay: 30_000,
  factor: 2,
  jitter: 0.5,
  maxRetryAfter: 60_000,
});

/** Methods whose repetition has the same effect as one request (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** 5xx statuses that are never retried: the server says the request cannot succeed. */
export const FINAL_SERVER_ERRORS: readonly number[] = Object.freeze([501, 505]);

/** Largest value of any delay option (setTimeout's limit). */
const MAX_DELAY = 2_147_483_647;

/** What one attempt gave. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfter: string | null }
  | { kind: 'network-error' };

export interface AttemptContext {
  /** The request's method (any case). */
  method: string;
  /** The caller's word: `true` (an Idempotency-Key or `idempotent: true`), `false` (`idempotent: false`) or `null` (nothing said). */
  idempotent: boolean | null;
  /** Number of the attempt that just ended: 1 for the first. */
  attempt: number;
  /** Epoch ms, to read an HTTP-date `Retry-After`. */
  now: number;
}

export type RetryDecision =
  | { retry: true; delay: number }
  | { retry: false; reason: 'final' | 'disabled' | 'not-idempotent' | 'exhausted' | 'retry-after-too-long' };

/** `true` for a status worth another attempt: 429 and 5xx other than {@link FINAL_SERVER_ERRORS}. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && !FINAL_SERVER_ERRORS.includes(status));
}

/** `true` when `method` may be repeated without the caller's opt-in. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.includes(method.toUpperCase());
}

/** Whether a request may be repeated at all: the caller's word first, else its method. */
export function mayRepeat(method: string, idempotent: boolean | null): boolean {
  return idempotent ?? isIdempotentMethod(method);
}

/**
 * What to do after an attempt: retry after `delay` ms, or stop (and why).
 * `options` is the endpoint's resolved policy, `null` when retries are off.
 * `random` returns a number in [0, 1).
 */
export function nextRetry(outcome: AttemptOutcome, context: AttemptContext, options: FetchRetryOptions | null, random: () => number = Math.random): RetryDecision {
  if (outcome.kind === 'response' && !isRetryableStatus(outcome.status)) return { retry: false, reason: 'final' };
  if (options === null || options.retries === 0) return { retry: false, reason: 'disabled' };
  if (!mayRepeat(context.method, context.idempotent)) return { retry: false, reason: 'not-idempotent' };
  if (context.attempt > options.retries) return { retry: false, reason: 'exhausted' };
  const asked = outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, context.now) : null;
  if (asked !== null) {
    return asked > options.maxRetryAfter ? { retry: false, reason: 'retry-after-too-long' } : { retry: true, delay: asked };
  }
  return { retry: true, delay: backoffDelay(context.attempt, options, random) };
}

/**
 * Validates an endpoint's `retry` option and fills in the defaults:
 * `false` gives `null` (retries off), `undefined` the defaults (a fetch
 * endpoint's, unless `defaults` says otherwise).
 */
export function resolveRetry(where: string, value: unknown, defaults: Readonly<FetchRetryOptions> = DEFAULT_FETCH_RETRY): FetchRetryOptions | null {
  if (value === false) return null;
  if (value === undefined) return { ...defaults };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyncError('E_INVALIDARG', `${where}: retry must be false or an object like { retries: 3, minDelay: 500 }.`);
  }
  const limits: Record<keyof FetchRetryOptions, [number, number, boolean]> = {
    retries: [0, 100, true],
    minDelay: [0, MAX_DELAY, false],
    maxDelay: [0, MAX_DELAY, false],
    factor: [1, 100, false],
    jitter: [0, 1, false],
    maxRetryAfter: [0, MAX_DELAY, false],
  };
  const out: FetchRetryOptions = { ...defaults };
  for (const [key, raw] of Object.entries(value)) {
    if (!Object.hasOwn(limits, key)) throw new SyncError('E_INVALIDARG', `${where}: unknown retry option '${key}'; known: ${Object.keys(limits).join(', ')}.`);
    if (raw === undefined) continue;
    const [min, max, integer] = limits[key as keyof FetchRetryOptions];
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < min || raw > max || (integer && !Number.isInteger(raw))) {
      throw new SyncError('E_INVALIDARG', `${where}: retry.${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(raw)}.`);
    }
    out[key as keyof FetchRetryOptions] = raw;
  }
  if (out.maxDelay < out.minDelay) throw new SyncError('E_INVALIDARG', `${where}: retry.maxDelay (${out.maxDelay}) must be ≥ retry.minDelay (${out.minDelay}).`);
  return out;
}
