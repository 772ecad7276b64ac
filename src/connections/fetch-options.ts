/**
 * The fetch endpoint: its options (url, headers, probe, how response bodies
 * cross to the worker, retries, the 401 hook), their defaults (named
 * constants, which the README points at) and their validation. Pure: no DOM,
 * no worker globals.
 *
 * Whole or streamed response bodies (DESIGN.md §2). A whole body is one
 * transferred ArrayBuffer: one message, one main-thread task, no per-chunk
 * cost, but it sits whole in the main thread until it is complete and the
 * worker sees nothing before then. A streamed body reaches the worker as it
 * arrives, and the network, the hand-over and the worker's reading overlap.
 * So the handler says what it wants, per request (`responseBody`):
 * - `'whole'`: one transferred ArrayBuffer;
 * - `'stream'`: chunks reach the worker as they arrive, the main thread holds
 *   only the chunks in flight (bounded by backpressure);
 * - `'auto'` (default): whole when the body is known to be small (a
 *   `Content-Length` ≤ `wholeBodyLimit`, not content-encoded), streamed when
 *   it is known to be large; a body of unknown length is read up to
 *   `wholeBodyLimit` and crosses whole if it ended by then, else it streams on
 *   from there. Typical API answers take the one-message path; a large
 *   download never sits whole in the main thread.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { REDIRECT_MODES, type RedirectMode } from '../protocol/fetch-messages.ts';
import { isOneOf } from '../protocol/types.ts';
import { resolveRetry, type FetchRetryOptions } from './retry-policy.ts';
import { checkHeaders, resolveConnectTimeout, type Dynamic, type EndpointKind } from './endpoint-common.ts';

/** A fetch endpoint: a base URL that handlers' paths are resolved against. */
export interface FetchEndpoint {
  kind: 'fetch';
  /** `http:` or `https:` base URL, or a path relative to the page; or a function returning one. */
  url: Dynamic<string>;
  /** Headers added by the manager to every request; handlers never see them. Default: none. */
  headers?: Dynamic<Record<string, string>>;
  /** A path (relative to `url`) fetched with GET when the connection is established; any 2xx means up. Default: none (up when the browser is online). */
  probe?: string;
  /** Milliseconds to wait for the probe, and for each evaluation of the `url` and `headers` functions, before failing with `E_TIMEOUT`. Default `DEFAULT_CONNECT_TIMEOUT`. */
  connectTimeout?: number;
  /** Retrying network errors, 429 and 5xx (repeatable requests only); `false`: never. Default `DEFAULT_FETCH_RETRY`. */
  retry?: false | Partial<FetchRetryOptions>;
  /** Runs (once at a time) when a request is answered 401; the request is then sent once more, with fresh `headers`. Default: none (the 401 goes to the handler). */
  onUnauthorized?: () => unknown;
  /** With `responseBody: 'auto'`, bodies up to this many bytes cross whole, larger ones stream. Default {@link DEFAULT_WHOLE_BODY_LIMIT}. */
  wholeBodyLimit?: number;
  /**
   * `'follow'` (default, {@link DEFAULT_REDIRECT}): redirects are followed, and a
   * response whose final URL lies outside the endpoint's base is refused with
   * `E_ACCESSDENIED`; `'error'`: no redirect is followed at all, a redirect answer
   * is refused with `E_ACCESSDENIED` (so the endpoint's headers never leave its base).
   */
  redirect?: RedirectMode;
}

/** A fetch endpoint follows redirects that end inside its base. */
export const DEFAULT_REDIRECT: RedirectMode = 'follow';

/** In `'auto'` mode, bodies up to this many bytes cross whole (1 MiB). */
export const DEFAULT_WHOLE_BODY_LIMIT = 1 << 20;

/**
 * Streamed bodies: the most bytes the manager has posted and the handler not
 * yet read (4 MiB), in every engine: a chunk of the engine's body reader
 * larger than this crosses in pieces. Some engines hand out chunks of up to a
 * few MiB; a window of one chunk would make the manager wait for the handler
 * after every chunk.
 */
export const STREAM_WINDOW_BYTES = 4 << 20;

export interface ResolvedFetchOptions {
  retry: FetchRetryOptions | null;
  redirect: RedirectMode;
  onUnauthorized: (() => unknown) | null;
  wholeBodyLimit: number;
}

/** A fetch endpoint as the manager keeps it: checked once, every default filled in. */
export interface ResolvedFetchEndpoint extends ResolvedFetchOptions {
  kind: 'fetch';
  name: string;
  url: Dynamic<string>;
  /** `null`: none. */
  headers: Dynamic<Record<string, string>> | null;
  /** `null`: none (up when the browser is online). */
  probe: string | null;
  connectTimeout: number;
}

/** The fetch row of the endpoint kinds (endpoint-config.ts). */
export const FETCH_ENDPOINT: EndpointKind<ResolvedFetchEndpoint> = {
  keys: ['kind', 'url', 'headers', 'probe', 'connectTimeout', 'retry', 'onUnauthorized', 'wholeBodyLimit', 'redirect'],
  schemes: ['http:', 'https:'],
  resolve(name, c) {
    const where = `endpoint '${name}'`;
    const connectTimeout = resolveConnectTimeout(where, c.connectTimeout);
    const h = c.headers;
    if (h !== undefined && typeof h !== 'function') checkHeaders(where, h);
    if (c.probe !== undefined && typeof c.probe !== 'string') throw new SyncError('E_INVALIDARG', `${where}: probe must be a path string relative to url.`);
    return {
      kind: 'fetch', name, url: c.url as Dynamic<string>, headers: (h as Dynamic<Record<string, string>> | undefined) ?? null,
      probe: (c.probe as string | undefined) ?? null, connectTimeout, ...resolveFetchOptions(where, c),
    };
  },
};

/** Validates and fills in the options of a fetch endpoint config beyond url, headers and probe (retry, onUnauthorized, wholeBodyLimit, redirect). */
export function resolveFetchOptions(where: string, c: Record<string, unknown>): ResolvedFetchOptions {
  const retry = resolveRetry(where, c.retry);
  const hook = c.onUnauthorized;
  if (hook !== undefined && typeof hook !== 'function') throw new SyncError('E_INVALIDARG', `${where}: onUnauthorized must be a function (it may be async).`);
  const limit = c.wholeBodyLimit ?? DEFAULT_WHOLE_BODY_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new SyncError('E_INVALIDARG', `${where}: wholeBodyLimit must be a whole number of bytes ≥ 0, not ${JSON.stringify(limit)}.`);
  }
  const redirect = c.redirect === undefined ? DEFAULT_REDIRECT : c.redirect;
  if (!isOneOf(REDIRECT_MODES, redirect)) {
    throw new SyncError('E_INVALIDARG', `${where}: redirect must be ${REDIRECT_MODES.map((m) => `'${m}'`).join(' or ')}, not ${JSON.stringify(redirect)}.`);
  }
  return { retry, redirect, onUnauthorized: (hook as (() => unknown) | undefined) ?? null, wholeBodyLimit: limit };
}
