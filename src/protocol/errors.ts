/**
 * The error type of syncmgr and its wire form.
 *
 * Comlink keeps only `name`, `message` and `stack` of a thrown error, so errors
 * never cross the worker boundary as exceptions: every call returns an
 * {@link Outcome}, whose failure side is a {@link WireError} that the receiver
 * rebuilds with {@link fromWire}. Code, message and cause survive both ways.
 */

/** What went wrong, in SyncMgr's vocabulary. */
export type SyncErrorCode =
  | 'E_INVALIDARG' // bad input: an unknown name, a wrong type, an over-long string
  | 'E_UNEXPECTED' // a call at the wrong moment (outside the phase that allows it)
  | 'E_ACCESSDENIED' // not allowed: an endpoint outside the handler's list, a path escaping the endpoint
  | 'E_FAIL' // it was tried and failed: a connection refused, a handler that threw or crashed
  | 'E_ABORT' // cancelled by the user, the app or the end of the session
  | 'E_TIMEOUT' // a time limit passed
  | 'E_OFFLINE' // the browser is offline
  | 'E_OUTOFMEMORY' // a queue or a store is full
  | 'E_NOTIMPL'; // the handler does not implement what was asked

export const SYNC_ERROR_CODES: readonly SyncErrorCode[] = [
  'E_INVALIDARG', 'E_UNEXPECTED', 'E_ACCESSDENIED', 'E_FAIL', 'E_ABORT',
  'E_TIMEOUT', 'E_OFFLINE', 'E_OUTOFMEMORY', 'E_NOTIMPL',
];

export function isSyncErrorCode(value: unknown): value is SyncErrorCode {
  return typeof value === 'string' && (SYNC_ERROR_CODES as readonly string[]).includes(value);
}

/** An error with a {@link SyncErrorCode}; its message says what to do about it. */
export class SyncError extends Error {
  override name = 'SyncError';
  readonly code: SyncErrorCode;

  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** `true` for a SyncError from any realm or thread (no `instanceof` across threads). */
  static is(value: unknown, code?: SyncErrorCode): value is SyncError {
    return value instanceof Error && isSyncErrorCode((value as SyncError).code) && (code === undefined || (value as SyncError).code === code);
  }
}

/** An error as plain, structured-cloneable data. */
export interface WireError {
  name: string;
  message: string;
  code?: SyncErrorCode;
  stack?: string;
  cause?: WireError;
}

/** The result of every call across the worker boundary. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

const MAX_CAUSE_DEPTH = 8;

/** Turns anything thrown into a {@link WireError}, keeping the chain of causes. */
export function toWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const wire: WireError = { name: error.name, message: error.message };
    const code = (error as { code?: unknown }).code;
    if (isSyncErrorCode(code)) wire.code = code;
    if (typeof error.stack === 'string') wire.stack = error.stack;
    if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWire(error.cause, depth + 1);
    return wire;
  }
  if (typeof DOMException !== 'undefined' && error instanceof DOMException) {
    return { name: error.name, message: error.message };
  }
  return { name: 'Error', message: describe(error) };
}

/** Rebuilds an error from its wire form: a {@link SyncError} when it carries a code. */
export function fromWire(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  const options = cause === undefined ? undefined : { cause };
  const error = wire.code ? new SyncError(wire.code, wire.message, options) : new Error(wire.message, options);
  if (!wire.code) error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

/** `true` when the value has the shape of a {@link WireError}. */
export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.message === 'string' && (v.code === undefined || isSyncErrorCode(v.code));
}

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail(error: unknown): Outcome<never> {
  return { ok: false, error: toWire(error) };
}

/** Unwraps an {@link Outcome}, throwing the rebuilt error on failure. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw fromWire(outcome.error);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
