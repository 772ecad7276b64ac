/**
 * An estimate of the bytes a structured-cloneable value takes when stored:
 * strings at two bytes per code unit, binary data at its byte length, eight
 * bytes per number, plus the keys of objects and maps. It is a bound for
 * limits, not an exact figure. The walk stops as soon as `limit` is passed.
 */
export function estimateSize(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
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
      case 'object':
        break;
      default:
        // Functions and symbols cannot be stored; the store refuses them.
        total += 8;
        continue;
    }
    if (v === null) {
      total += 1;
      continue;
    }
    if (seen.has(v)) {
      total += 8; // a reference to something counted already
      continue;
    }
    seen.add(v);
    if (v instanceof ArrayBuffer) total += v.byteLength;
    else if (ArrayBuffer.isView(v)) total += v.byteLength;
    else if (typeof Blob !== 'undefined' && v instanceof Blob) total += v.size;
    else if (v instanceof Date) total += 8;
    else if (v instanceof RegExp) total += 2 * v.source.length + 8;
    else if (v instanceof Map) for (const [key, item] of v) stack.push(key, item);
    else if (v instanceof Set) for (const item of v) stack.push(item);
    else if (Array.isArray(v)) {
      total += 8;
      for (const item of v) stack.push(item);
    } else {
      for (const [key, item] of Object.entries(v)) {
        total += 2 * key.length;
        stack.push(item);
      }
    }
  }
  return total;
}
