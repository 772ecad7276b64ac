/**
 * What every kind of endpoint shares: values that may be computed at each
 * connect, the default connect time limit, and the checks of URLs, headers
 * and durations that the kinds' option resolvers use.
 */
import { SyncError } from '../protocol/sync-error.ts';

/** A value, or a function computing it (called at every connect, so tokens stay fresh). */
export type Dynamic<T> = T | (() => T | Promise<T>);

/** Default time to wait for a WebSocket `open` or a fetch probe. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** Evaluates a {@link Dynamic} value. */
export async function evaluate<T>(value: Dynamic<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}

/** Checks a URL of an endpoint; relative URLs are allowed (resolved against the page at connect time). */
export function checkUrl(where: string, url: string, schemes: readonly string[]): void {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid/');
  } catch (cause) {
    throw new SyncError('E_INVALIDARG', `${where}: url ${JSON.stringify(url)} is not a valid URL.`, { cause });
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new SyncError('E_INVALIDARG', `${where}: url ${JSON.stringify(url)} must use ${schemes.join(' or ')}.`);
  }
}

/** Checks a headers record: string names and values. */
export function checkHeaders(where: string, headers: unknown): asserts headers is Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new SyncError('E_INVALIDARG', `${where}: headers must be an object of name → value strings, or a function returning one.`);
  }
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string') throw new SyncError('E_INVALIDARG', `${where}: header '${k}' must be a string, not ${typeof v}.`);
  }
}

/** Checks a time limit in milliseconds. */
export function checkDuration(where: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new SyncError('E_INVALIDARG', `${where} must be a number of milliseconds between 1 and 2147483647, not ${JSON.stringify(value)}.`);
  }
}

/** The endpoint's `connectTimeout`, checked, or the default. */
export function resolveConnectTimeout(where: string, value: unknown): number {
  if (value === undefined) return DEFAULT_CONNECT_TIMEOUT;
  checkDuration(`${where}: connectTimeout`, value);
  return value;
}

/**
 * One kind of endpoint as validation sees it: the options it accepts, the
 * URL schemes it takes, and how its options are checked and filled in
 * (once, when the manager is built).
 */
export interface EndpointKind<R> {
  /** Every option this kind accepts, `kind` and `url` included. */
  readonly keys: readonly string[];
  readonly schemes: readonly string[];
  /** Checks a config of this kind (its `kind`, keys and a string `url` already checked) and fills in every default. */
  resolve(name: string, config: Record<string, unknown>): R;
}
