/**
 * The error type of syncmgr. It crosses the worker boundary as data (see
 * wire.ts): code, message and the chain of causes survive both ways.
 */
import { isOneOf } from './types.ts';
import { parseRetryAfter } from './retry-after.ts';

/**
 * What went wrong, in SyncMgr's vocabulary:
 * - `E_INVALIDARG`: bad input: an unknown name, a wrong type, an over-long string;
 * - `E_UNEXPECTED`: a call at the wrong moment (outside the phase that allows it);
 * - `E_ACCESSDENIED`: not allowed: an endpoint outside the handler's list, a path escaping the endpoint;
 * - `E_FAIL`: it was tried and failed: a connection refused, a handler that threw or crashed;
 * - `E_ABORT`: cancelled by the user, the app or the end of the session;
 * - `E_TIMEOUT`: a time limit passed;
 * - `E_OFFLINE`: the browser is offline;
 * - `E_OUTOFMEMORY`: a queue or a store is full;
 * - `E_NOTIMPL`: the handler (or this version) does not implement what was asked.
 */
export const SYNC_ERROR_CODES = [
  'E_INVALIDARG', 'E_UNEXPECTED', 'E_ACCESSDENIED', 'E_FAIL', 'E_ABORT',
  'E_TIMEOUT', 'E_OFFLINE', 'E_OUTOFMEMORY', 'E_NOTIMPL',
] as const;
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number];

export function isSyncErrorCode(value: unknown): value is SyncErrorCode {
  return isOneOf(SYNC_ERROR_CODES, value);
}

/** An error with a {@link SyncErrorCode}; its message says what to do about it. */
export class SyncError extends Error {
  override name = 'SyncError';
  readonly code: SyncErrorCode;
  /**
   * How long the server asked to wait before trying again, in ms from when
   * the error was made; `null` when it did not say. The manager's automatic
   * retry waits that long (see the manager's `retry` option).
   */
  readonly retryAfter: number | null;

  /**
   * `options.retryAfter`: a delay in ms, or a `Retry-After` header's value as
   * the server sent it (delay-seconds or an HTTP-date; one that cannot be
   * read counts as not said).
   */
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number | string | null }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfter = readRetryAfter(options?.retryAfter);
  }

  /** `true` for a SyncError from any realm or thread (no `instanceof` across threads). */
  static is(value: unknown, code?: SyncErrorCode): value is SyncError {
    return value instanceof Error && isSyncErrorCode((value as SyncError).code) && (code === undefined || (value as SyncError).code === code);
  }
}

function readRetryAfter(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return parseRetryAfter(value, Date.now());
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new SyncError('E_INVALIDARG', `SyncError: retryAfter must be a delay in ms (a number ≥ 0) or a Retry-After header value, not ${typeof value === 'number' ? value : typeof value}.`);
}
