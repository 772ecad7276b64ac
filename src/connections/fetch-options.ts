/**
 * The fetch endpoint's options beyond url, headers and probe: how response
 * bodies cross to the worker, retries, and the 401 hook; their defaults (named
 * constants, which the README points at) and their validation. Pure: no DOM,
 * no worker globals.
 *
 * Whole or streamed response bodies (DESIGN.md §2, perf-baseline.md §6).
 * A whole body is one transferred ArrayBuffer: one message, one main-thread
 * task, no per-chunk cost; perf-baseline measured it at 0.97× a worker's own
 * fetch. But it sits whole in the main thread until it is complete, and the
 * worker sees nothing before then. Measured here with the chunk pump
 * (fetch-connection.ts), streaming costs nothing extra for small bodies (16 KiB
 * to 1 MiB: within noise of whole) and is faster for large ones (20 MiB: last
 * byte after ~50 ms streamed, ~90 ms whole), because the network, the hand-over
 * and the worker's reading overlap. So the handler says what it wants, per
 * request (`responseBody`):
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
import { SyncError } from '../protocol/errors.ts';
import type { ResponseBodyMode } from '../protocol/api.ts';
import { resolveRetry, type FetchRetryOptions } from './retry-policy.ts';

export type { ResponseBodyMode };

/** In `'auto'` mode, bodies up to this many bytes cross whole (1 MiB). */
export const DEFAULT_WHOLE_BODY_LIMIT = 1 << 20;

/**
 * Streamed bodies (the chunk pump, the default transport): the most bytes the
 * manager posts ahead of what the handler has read (4 MiB). Transferred
 * streams carry their own backpressure. Chromium's body reader hands out
 * chunks of up to ~2 MiB: a window of one chunk would make the pump wait for
 * the handler after every chunk (8 MiB read whole in the worker: 1.2× a
 * worker's own fetch with 1 MiB, 1.0× with 4 MiB; see bench/).
 */
export const STREAM_WINDOW_BYTES = 4 << 20;

export const RESPONSE_BODY_MODES: readonly ResponseBodyMode[] = ['auto', 'whole', 'stream'];

/** The fetch endpoint options this module checks. */
export const FETCH_ROBUSTNESS_KEYS = ['retry', 'onUnauthorized', 'wholeBodyLimit'] as const;

export interface ResolvedFetchOptions {
  retry: FetchRetryOptions | null;
  onUnauthorized: (() => unknown) | null;
  wholeBodyLimit: number;
}

/** Validates and fills in the options above of a fetch endpoint config. */
export function resolveFetchOptions(where: string, c: Record<string, unknown>): ResolvedFetchOptions {
  const retry = resolveRetry(where, c.retry);
  const hook = c.onUnauthorized;
  if (hook !== undefined && typeof hook !== 'function') throw new SyncError('E_INVALIDARG', `${where}: onUnauthorized must be a function (it may be async).`);
  const limit = c.wholeBodyLimit ?? DEFAULT_WHOLE_BODY_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new SyncError('E_INVALIDARG', `${where}: wholeBodyLimit must be a whole number of bytes ≥ 0, not ${JSON.stringify(limit)}.`);
  }
  return { retry, onUnauthorized: (hook as (() => unknown) | undefined) ?? null, wholeBodyLimit: limit };
}
