/**
 * The `invoke` trigger (SyncMgr's INVOKE, `manager.invoke()`): a request from
 * app code, e.g. after a local change. Requests within `debounce` ms of each
 * other become one session, which starts `debounce` ms after the last of
 * them, or `maxWait` ms after the first, whichever comes first: a steady
 * stream of changes still syncs.
 */

/** Defaults of `triggers.invoke`, in ms. */
export const DEFAULT_INVOKE_DEBOUNCE = 100;
export const DEFAULT_INVOKE_MAX_WAIT = 1_000;

/** When a debounced request may start: `debounce` after `last`, at most `maxWait` after `first`. */
export function debouncedStart(first: number, last: number, debounce: number, maxWait: number): number {
  return Math.min(last + debounce, first + maxWait);
}
