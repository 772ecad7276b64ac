/**
 * Checks of `ctx.store` calls as they arrive from a handler's worker: keys,
 * prefixes and values are untrusted input. Each check throws a `SyncError`
 * naming the handler, the call and the limit.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from '../protocol/types.ts';
import { storeValueProblem } from '../protocol/value-size.ts';

/** A key: a string of 1 to {@link MAX_STORE_KEY_LENGTH} characters. */
export function checkStoreKey(key: unknown, handlerId: string, call: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STORE_KEY_LENGTH) {
    const what = typeof key === 'string' ? `a string of ${key.length} characters` : key === null ? 'null' : typeof key;
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ctx.store.${call}(key) needs a key string of 1 to ${MAX_STORE_KEY_LENGTH} characters, not ${what}.`);
  }
  return key;
}

/** A prefix for keys()/entries(): a string up to {@link MAX_STORE_KEY_LENGTH} characters; nothing means every key. */
export function checkStorePrefix(prefix: unknown, handlerId: string, call: string): string {
  if (prefix === undefined || prefix === null) return '';
  if (typeof prefix !== 'string' || prefix.length > MAX_STORE_KEY_LENGTH) {
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ctx.store.${call}(prefix) takes a string of at most ${MAX_STORE_KEY_LENGTH} characters, or nothing for every key.`);
  }
  return prefix;
}

/**
 * A value: anything IndexedDB can store but `undefined` (use `delete`), of at
 * most {@link MAX_STORE_VALUE_BYTES} (estimated). The worker checked it
 * already; this check, as cheap and as bounded, is for a worker that did not.
 */
export function checkStoreValue(value: unknown, handlerId: string, key: string): void {
  const problem = storeValueProblem(value, key);
  if (problem !== null) throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ${problem}`);
}
