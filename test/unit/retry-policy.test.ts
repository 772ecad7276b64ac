import { describe, expect, test } from 'vitest';
import {
  DEFAULT_FETCH_RETRY, isIdempotentMethod, isRetryableStatus, mayRepeat, nextRetry, parseHttpDate, parseRetryAfter, resolveRetry,
  type AttemptContext, type AttemptOutcome, type FetchRetryOptions,
} from '../../src/connections/retry-policy.ts';
import { resolveFetchOptions, DEFAULT_WHOLE_BODY_LIMIT } from '../../src/connections/fetch-options.ts';
import { validateEndpoints } from '../../src/connections/endpoint-config.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0); // Tue, 24 Nov 2026 12:00:00 GMT
const options: FetchRetryOptions = { retries: 3, minDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5, maxRetryAfter: 5000 };
const status = (s: number, retryAfter: string | null = null): AttemptOutcome => ({ kind: 'response', status: s, retryAfter });
const network: AttemptOutcome = { kind: 'network-error' };
const ctx = (over: Partial<AttemptContext> = {}): AttemptContext => ({ method: 'GET', idempotent: null, attempt: 1, now: NOW, ...over });
const noJitter = () => 0;

describe('which outcomes are retried', () => {
  test('429 and 5xx are retryable, except 501 and 505', () => {
    expect([429, 500, 502, 503, 504, 507, 599].map(isRetryableStatus)).toEqual([true, true, true, true, true, true, true]);
    expect([501, 505].map(isRetryableStatus)).toEqual([false, false]);
  });

  test('2xx, 3xx and 4xx other than 429 are final (401 included: it has its own hook)', () => {
    for (const s of [200, 204, 301, 304, 400, 401, 403, 404, 408, 409, 410, 413, 422, 428, 431, 451]) {
      expect(isRetryableStatus(s), String(s)).toBe(false);
      expect(nextRetry(status(s), ctx(), options)).toEqual({ retry: false, reason: 'final' });
    }
  });

  test('network errors, 429 and 503 of a GET are retried with the backoff delay', () => {
    expect(nextRetry(network, ctx(), options, noJitter)).toEqual({ retry: true, delay: 100 });
    expect(nextRetry(status(429), ctx(), options, noJitter)).toEqual({ retry: true, delay: 100 });
    expect(nextRetry(status(503), ctx({ attempt: 2 }), options, noJitter)).toEqual({ retry: true, delay: 200 });
    expect(nextRetry(status(500), ctx({ attempt: 3 }), options, noJitter)).toEqual({ retry: true, delay: 400 });
  });

  test('retries stop after `retries` further attempts', () => {
    expect(nextRetry(status(503), ctx({ attempt: 3 }), options).retry).toBe(true);
    expect(nextRetry(status(503), ctx({ attempt: 4 }), options)).toEqual({ retry: false, reason: 'exhausted' });
    expect(nextRetry(network, ctx({ attempt: 4 }), options)).toEqual({ retry: false, reason: 'exhausted' });
    expect(nextRetry(network, ctx(), { ...options, retries: 0 })).toEqual({ retry: false, reason: 'disabled' });
    expect(nextRetry(network, ctx(), null)).toEqual({ retry: false, reason: 'disabled' });
  });

  test('backoff grows by the factor, is capped at maxDelay and jitter only shortens it', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => (nextRetry(network, ctx({ attempt }), { ...options, retries: 10 }, noJitter) as { delay: number }).delay))
      .toEqual([100, 200, 400, 800, 1000, 1000]);
    for (let i = 0; i < 200; i++) {
      const d = (nextRetry(network, ctx({ attempt: 3 }), options) as { delay: number }).delay;
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe('which requests may be repeated', () => {
  test('idempotent methods (RFC 9110) without an opt-in; POST, PATCH and others not', () => {
    expect(['GET', 'head', 'OPTIONS', 'TRACE', 'PUT', 'delete'].every(isIdempotentMethod)).toBe(true);
    expect(['POST', 'PATCH', 'CONNECT', 'PROPFIND', 'post'].some(isIdempotentMethod)).toBe(false);
  });

  test('a POST or PATCH is retried only when the caller opted in', () => {
    for (const method of ['POST', 'PATCH']) {
      expect(nextRetry(status(503), ctx({ method }), options)).toEqual({ retry: false, reason: 'not-idempotent' });
      expect(nextRetry(network, ctx({ method }), options)).toEqual({ retry: false, reason: 'not-idempotent' });
      expect(nextRetry(status(503), ctx({ method, idempotent: true }), options, noJitter)).toEqual({ retry: true, delay: 100 });
    }
  });

  test('idempotent: false opts even a GET out; the status is still judged first', () => {
    expect(mayRepeat('GET', false)).toBe(false);
    expect(mayRepeat('POST', true)).toBe(true);
    expect(mayRepeat('PUT', null)).toBe(true);
    expect(nextRetry(status(503), ctx({ idempotent: false }), options)).toEqual({ retry: false, reason: 'not-idempotent' });
    expect(nextRetry(status(400), ctx({ method: 'POST', idempotent: true }), options)).toEqual({ retry: false, reason: 'final' });
  });
});

describe('Retry-After', () => {
  test('delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('99999999999999999999999', NOW)).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('HTTP-date in all three forms of RFC 9110, relative to now; the past means 0', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Tuesday, 24-Nov-26 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Tue Nov 24 12:00:05 2026', NOW)).toBe(5_000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });

  test("RFC 850's two-digit years are never more than 50 years ahead", () => {
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Friday, 06-Nov-76 08:49:37 GMT', NOW)).toBe(Date.UTC(2076, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Friday, 06-Nov-77 08:49:37 GMT', NOW)).toBe(Date.UTC(1977, 10, 6, 8, 49, 37));
  });

  test('garbage is ignored (null), never read as a date by a lenient parser', () => {
    for (const value of [null, undefined, '', '  ', '-1', '1.5', '+3', '1e3', '0x10', 'soon', 'tomorrow', '12 seconds', '2026-11-24T12:00:30Z',
      'Tue, 24 Nov 2026 12:00:30', 'Tue, 24 Nov 2026 12:00:30 UTC', 'Tue, 31 Feb 2026 12:00:30 GMT', 'Tue, 24 Nov 2026 25:00:00 GMT', 'Xyz, 24 Nov 2026 12:00:30 GMT']) {
      expect(parseRetryAfter(value, NOW), String(value)).toBeNull();
    }
  });

  test('Retry-After replaces the backoff delay, without jitter', () => {
    expect(nextRetry(status(503, '1'), ctx({ attempt: 3 }), options)).toEqual({ retry: true, delay: 1000 });
    expect(nextRetry(status(429, 'Tue, 24 Nov 2026 12:00:02 GMT'), ctx(), options)).toEqual({ retry: true, delay: 2000 });
    expect(nextRetry(status(503, 'garbage'), ctx(), options, noJitter)).toEqual({ retry: true, delay: 100 });
  });

  test('a Retry-After beyond maxRetryAfter ends the retries (it is not shortened), at the cap it waits', () => {
    expect(nextRetry(status(503, '5'), ctx(), options)).toEqual({ retry: true, delay: 5000 });
    expect(nextRetry(status(503, '6'), ctx(), options)).toEqual({ retry: false, reason: 'retry-after-too-long' });
    expect(nextRetry(status(503, 'Tue, 24 Nov 2026 13:00:00 GMT'), ctx(), options)).toEqual({ retry: false, reason: 'retry-after-too-long' });
  });

  test('Retry-After does not make a non-retryable request retryable', () => {
    expect(nextRetry(status(400, '1'), ctx(), options)).toEqual({ retry: false, reason: 'final' });
    expect(nextRetry(status(503, '1'), ctx({ method: 'POST' }), options)).toEqual({ retry: false, reason: 'not-idempotent' });
    expect(nextRetry(status(503, '1'), ctx({ attempt: 4 }), options)).toEqual({ retry: false, reason: 'exhausted' });
  });
});

describe('the retry option', () => {
  test('defaults, partial objects and false', () => {
    expect(DEFAULT_FETCH_RETRY).toEqual({ retries: 3, minDelay: 500, maxDelay: 30_000, factor: 2, jitter: 0.5, maxRetryAfter: 60_000 });
    expect(Object.isFrozen(DEFAULT_FETCH_RETRY)).toBe(true);
    expect(resolveRetry('e', undefined)).toEqual(DEFAULT_FETCH_RETRY);
    expect(resolveRetry('e', { retries: 1, minDelay: 10 })).toEqual({ ...DEFAULT_FETCH_RETRY, retries: 1, minDelay: 10 });
    expect(resolveRetry('e', false)).toBeNull();
  });

  test.each([
    [true, /retry must be false or an object/],
    [3, /retry must be false or an object/],
    [{ retries: -1 }, /retry.retries must be an integer from 0 to 100/],
    [{ retries: 1.5 }, /retry.retries/],
    [{ minDelay: Number.NaN }, /retry.minDelay/],
    [{ jitter: 2 }, /retry.jitter must be a number from 0 to 1/],
    [{ factor: 0.5 }, /retry.factor/],
    [{ maxRetryAfter: '60' }, /retry.maxRetryAfter/],
    [{ minDelay: 2000, maxDelay: 1000 }, /maxDelay \(1000\) must be ≥ retry.minDelay \(2000\)/],
    [{ retires: 3 }, /unknown retry option 'retires'/],
  ])('refuses %j', (value, message) => {
    const error = (() => {
      try {
        resolveRetry("endpoint 'api'", value);
      } catch (e) {
        return e;
      }
    })();
    expect(SyncError.is(error, 'E_INVALIDARG')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("endpoint 'api'");
  });

  test('the manager checks retry, onUnauthorized, wholeBodyLimit and redirect of fetch endpoints at start-up', () => {
    const ok = validateEndpoints({ api: { kind: 'fetch', url: '/api/', retry: { retries: 1 }, onUnauthorized: async () => {}, wholeBodyLimit: 0 } });
    expect(ok.get('api')).toMatchObject({ retry: { retries: 1 }, wholeBodyLimit: 0 });
    expect(() => validateEndpoints({ api: { kind: 'fetch', url: '/api/', retry: { retries: 'x' } } })).toThrow(/endpoint 'api': retry.retries/);
    expect(() => validateEndpoints({ api: { kind: 'fetch', url: '/api/', onUnauthorized: 'refresh' } })).toThrow(/onUnauthorized must be a function/);
    expect(() => validateEndpoints({ api: { kind: 'fetch', url: '/api/', wholeBodyLimit: -1 } })).toThrow(/wholeBodyLimit/);
    expect(validateEndpoints({ api: { kind: 'fetch', url: '/api/', redirect: 'error' } }).get('api')).toMatchObject({ redirect: 'error' });
    for (const bad of ['manual', 'ERROR', true, null, 0]) {
      expect(() => validateEndpoints({ api: { kind: 'fetch', url: '/api/', redirect: bad } })).toThrow(expect.objectContaining({ code: 'E_INVALIDARG', message: expect.stringMatching(/endpoint 'api': redirect must be 'follow' or 'error'/) }));
    }
    expect(() => validateEndpoints({ live: { kind: 'websocket', url: '/ws', redirect: 'error' } })).toThrow(/unknown option 'redirect'/);
    expect(() => validateEndpoints({ api: { kind: 'fetch', url: '/api/', retries: 3 } })).toThrow(/unknown option 'retries'/);
    // Fetch options are not WebSocket options.
    expect(() => validateEndpoints({ live: { kind: 'websocket', url: '/ws', retry: false } })).toThrow(/unknown option 'retry'/);
    expect(resolveFetchOptions('e', {})).toEqual({ retry: { ...DEFAULT_FETCH_RETRY }, redirect: 'follow', onUnauthorized: null, wholeBodyLimit: DEFAULT_WHOLE_BODY_LIMIT });
  });
});
