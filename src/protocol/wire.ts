/**
 * Errors and answers as they cross the worker boundary.
 *
 * Comlink keeps only `name`, `message` and `stack` of a thrown error, so errors
 * never cross as exceptions: every call returns an {@link Outcome}, whose
 * failure side is a {@link WireError} that the receiver rebuilds with
 * {@link fromWire}.
 */
import { SyncError, isSyncErrorCode, type SyncErrorCode } from './sync-error.ts';
import { redactCredentials, redactUrls } from './redact.ts';

/** An error as plain, structured-cloneable data. */
export interface WireError {
  name: string;
  message: string;
  code?: SyncErrorCode;
  stack?: string;
  cause?: WireError;
  /** A SyncError's `retryAfter`, in ms. */
  retryAfter?: number;
}

/** The result of every call across the worker boundary. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

const MAX_CAUSE_DEPTH = 8;

/**
 * Turns anything thrown into a {@link WireError}, keeping the chain of causes
 * (a `DOMException` is an `Error` too). Messages and stacks lose the
 * credentials of any URL they quote and the query of any WebSocket URL
 * (redact.ts): whatever a connection's code missed never reaches a worker.
 * A cause's message (an engine's error, which may quote an endpoint's whole
 * URL) and its stack keep only the scheme and host of every URL in them.
 */
export function toWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const message = depth > 0 ? redactUrls(error.message) : redactCredentials(error.message);
    const wire: WireError = { name: error.name, message };
    const code = (error as { code?: unknown }).code;
    if (isSyncErrorCode(code)) wire.code = code;
    const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
    if (typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0) wire.retryAfter = retryAfter;
    // An engine's stack may repeat its message in other words: a cause's stack is cut the same way (its frames name only the origin then).
    if (typeof error.stack === 'string') wire.stack = depth > 0 ? redactUrls(error.stack) : redactCredentials(error.stack);
    if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWire(error.cause, depth + 1);
    return wire;
  }
  return { name: 'Error', message: redactCredentials(describe(error)) };
}

/** Rebuilds an error from its wire form: a {@link SyncError} when it carries a code. */
export function fromWire(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  const options = cause === undefined ? undefined : { cause };
  const retryAfter = typeof wire.retryAfter === 'number' && Number.isFinite(wire.retryAfter) && wire.retryAfter >= 0 ? wire.retryAfter : null;
  const error = wire.code ? new SyncError(wire.code, wire.message, { ...options, retryAfter }) : new Error(wire.message, options);
  if (!wire.code) error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
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
    try {
      return String(value);
    } catch {
      // An object whose toString and valueOf are not functions: what it is, at least.
      return Object.prototype.toString.call(value);
    }
  }
}
