import { describe, expect, test } from 'vitest';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { fail, fromWire, ok, toWire, unwrap } from '../../src/protocol/wire.ts';

describe('SyncError on the wire', () => {
  test('code, message and a chain of causes survive a structured clone', () => {
    const error = new SyncError('E_FAIL', 'outer', { cause: new SyncError('E_ACCESSDENIED', 'inner', { cause: new TypeError('root') }) });
    const back = fromWire(structuredClone(toWire(error)));
    expect(SyncError.is(back, 'E_FAIL')).toBe(true);
    expect(back.message).toBe('outer');
    const inner = back.cause as SyncError;
    expect(SyncError.is(inner, 'E_ACCESSDENIED')).toBe(true);
    expect(inner.message).toBe('inner');
    const root = inner.cause as Error;
    expect(root.name).toBe('TypeError');
    expect(root.message).toBe('root');
    expect(SyncError.is(root)).toBe(false);
  });

  test('a plain error keeps its name and stack; non-errors become messages', () => {
    const error = new RangeError('bad');
    const wire = toWire(error);
    expect(wire).toMatchObject({ name: 'RangeError', message: 'bad' });
    expect(fromWire(wire).stack).toBe(error.stack);
    expect(toWire('text')).toEqual({ name: 'Error', message: 'text' });
    expect(toWire({ a: 1 })).toEqual({ name: 'Error', message: '{"a":1}' });
  });

  test('cause chains are cut at depth 8 (a cycle cannot loop)', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    let wire = toWire(a);
    let depth = 0;
    while (wire.cause) {
      wire = wire.cause;
      depth++;
    }
    expect(depth).toBe(8);
  });

  test('outcomes unwrap to the value or throw the rebuilt error', () => {
    expect(unwrap(ok(5))).toBe(5);
    expect(() => unwrap(fail(new SyncError('E_TIMEOUT', 'late')))).toThrow(expect.objectContaining({ code: 'E_TIMEOUT', message: 'late' }));
  });
});
