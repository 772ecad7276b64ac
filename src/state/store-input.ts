/**
 * Checks of `ctx.store` calls as they arrive from a handler's worker: keys,
 * prefixes and values are untrusted input. Each check throws a `SyncError`
 * naming the handler, the call and the limit.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from '../protocol/types.ts';
import { estimateSize } from '../storage/value-size.ts';

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
 * A value: anything structured-cloneable but `undefined` (use `delete`), of at
 * most {@link MAX_STORE_VALUE_BYTES} (estimated). It arrived through
 * postMessage, so it is cloneable already.
 */
export function checkStoreValue(value: unknown, handlerId: string, key: string): void {
  if (value === undefined) {
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ctx.store.set('${key}', undefined): to remove a key, call ctx.store.delete('${key}').`);
  }
  const size = estimateSize(value, MAX_STORE_VALUE_BYTES);
  if (size > MAX_STORE_VALUE_BYTES) {
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ctx.store.set('${key}') got a value of more than ${MAX_STORE_VALUE_BYTES} bytes (the limit per key); store large data in the handler's own IndexedDB database and keep a cursor here.`);
  }
}
