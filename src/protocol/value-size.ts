/**
 * What a value for `ctx.store` costs, and whether IndexedDB can keep it.
 * Both sides run it: the worker before anything is sent, the manager again
 * on arrival (a worker may post on its port directly). The walk is bounded:
 * it stops as soon as `limit` is passed, and an array's length is counted
 * before its elements are, so a sparse array of length 2³²−1 costs no more
 * than a short one.
 */
import { MAX_STORE_VALUE_BYTES } from './types.ts';

/** The estimate, and what makes the value unstorable (`null`: nothing). */
export interface ValueCheck {
  /** Estimated bytes: strings at two bytes per code unit, binary data at its byte length, eight bytes per number, plus keys; at least one per array slot, collection entry and object key. Past `limit`, a lower bound. */
  size: number;
  /** Where and what, e.g. "value.mod is a WebAssembly.Module, which IndexedDB cannot store". */
  problem: string | null;
}

// Serializable objects IndexedDB stores (HTML's StructuredSerializeForStorage), besides
// ArrayBuffer and its views, which are checked by type. Anything else that is no plain object
// (a WebAssembly.Module, MessagePort, ImageBitmap, SharedArrayBuffer...) cannot be stored.
const STORABLE_TAGS = new Set([
  'Object', 'Array', 'Date', 'RegExp', 'Map', 'Set', 'Blob', 'File', 'FileList', 'ImageData',
  'Boolean', 'Number', 'String', 'BigInt', 'Error', 'DOMException', 'CryptoKey',
  'FileSystemFileHandle', 'FileSystemDirectoryHandle',
]);

/** Checks `value` (see {@link ValueCheck}); `name` starts the paths of the problem's description. */
export function checkValue(value: unknown, limit = Number.POSITIVE_INFINITY, name = 'value'): ValueCheck {
  let total = 0;
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[value, name]];
  while (stack.length > 0 && total <= limit) {
    const [v, path] = stack.pop()!;
    switch (typeof v) {
      case 'string':
        total += 2 * v.length;
        continue;
      case 'number':
      case 'bigint':
        total += 8;
        continue;
      case 'boolean':
      case 'undefined':
        total += 1;
        continue;
      case 'function':
        return { size: total, problem: `${path} is a function, which cannot be stored` };
      case 'symbol':
        return { size: total, problem: `${path} is a Symbol, which cannot be stored` };
      default:
        break;
    }
    if (v === null) {
      total += 1;
      continue;
    }
    const o = v as object;
    if (seen.has(o)) {
      total += 8; // a reference to something counted already
      continue;
    }
    seen.add(o);
    if (o instanceof ArrayBuffer) {
      total += o.byteLength;
      continue;
    }
    if (ArrayBuffer.isView(o)) {
      if (!(o.buffer instanceof ArrayBuffer)) return { size: total, problem: `${path} is a view of a SharedArrayBuffer, which cannot be stored` };
      total += o.byteLength;
      continue;
    }
    const tag = Object.prototype.toString.call(o).slice(8, -1);
    if (!STORABLE_TAGS.has(tag)) return { size: total, problem: `${path} is a ${tag}, which IndexedDB cannot store` };
    if (typeof Blob !== 'undefined' && o instanceof Blob) total += o.size;
    else if (o instanceof Date) total += 8;
    else if (o instanceof RegExp) total += 2 * o.source.length + 8;
    else if (o instanceof Map) {
      // Entries, keys and slots cost at least a byte each, paid as they are visited: the walk stops
      // at the limit instead of queueing every entry of a huge collection first.
      let i = 0;
      for (const [key, item] of o) {
        if ((total += 1) > limit) break;
        stack.push([key, `${path} key ${i}`], [item, `${path} entry ${i}`]);
        i++;
      }
    } else if (o instanceof Set) {
      let i = 0;
      for (const item of o) {
        if ((total += 1) > limit) break;
        stack.push([item, `${path} entry ${i++}`]);
      }
    } else if (Array.isArray(o)) {
      // Each slot costs at least a byte, holes included: the length is paid before any slot is visited.
      total += 8 + o.length;
      if (total > limit) break;
      for (let i = o.length - 1; i >= 0; i--) if (i in o) stack.push([o[i], `${path}[${i}]`]);
    } else {
      for (const key in o) {
        if (!Object.hasOwn(o, key)) continue;
        if ((total += 2 * key.length + 1) > limit) break;
        stack.push([(o as Record<string, unknown>)[key], `${path}.${key}`]);
      }
    }
  }
  return { size: total, problem: null };
}

/** The estimated stored size of `value` (see {@link checkValue}); the walk stops once `limit` is passed. */
export function estimateSize(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  return checkValue(value, limit).size;
}

/** What is wrong with a value for `ctx.store.set(key, value)`, in words that say what to do; `null`: nothing. */
export function storeValueProblem(value: unknown, key: string): string | null {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  const call = `ctx.store.set('${shown}')`;
  if (value === undefined) return `ctx.store.set('${shown}', undefined): to remove a key, call ctx.store.delete('${shown}').`;
  const { size, problem } = checkValue(value, MAX_STORE_VALUE_BYTES);
  if (problem !== null) return `${call}: ${problem}; store plain data (objects, arrays, strings, numbers, binary data, Dates, Maps, Sets, Blobs).`;
  if (size > MAX_STORE_VALUE_BYTES) {
    return `${call} got a value of more than ${MAX_STORE_VALUE_BYTES} bytes (the limit per key); store large data in the handler's own IndexedDB database and keep a cursor here.`;
  }
  return null;
}
