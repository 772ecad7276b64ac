import { describe, expect, test } from 'vitest';
import { applyProgress, canChangeStatus, newItemState } from '../../src/coordinator/item-state.ts';
import { parseItems, parseProgressUpdate } from '../../src/coordinator/handler-input.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { ITEM_STATUSES, TERMINAL_STATUSES } from '../../src/protocol/types.ts';

describe('item status rule', () => {
  test('a terminal status changes afterwards only to failed', () => {
    for (const from of TERMINAL_STATUSES) {
      for (const to of ITEM_STATUSES) {
        expect(canChangeStatus(from, to), `${from} → ${to}`).toBe(to === from || to === 'failed');
      }
    }
  });

  test('a non-terminal status may change to anything', () => {
    for (const from of ITEM_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s))) {
      for (const to of ITEM_STATUSES) expect(canChangeStatus(from, to)).toBe(true);
    }
  });

  test('applyProgress refuses a forbidden status and keeps the item as it was', () => {
    const done = { ...newItemState('a', 'A'), status: 'succeeded' as const, text: 'ok', value: 1, max: 1 };
    const refused = applyProgress(done, { status: 'updating', text: 'again', value: 0 });
    expect(refused.statusRefused).toBe(true);
    expect(refused.next).toEqual(done);
    const failed = applyProgress(done, { status: 'failed', text: 'later failure' });
    expect(failed.statusChanged).toBe(true);
    expect(failed.next.status).toBe('failed');
    expect(failed.next.text).toBe('later failure');
  });

  test('applyProgress updates text, value and max without a status', () => {
    const r = applyProgress(newItemState('a', 'A'), { text: 't', value: 3, max: 10 });
    expect(r.next).toMatchObject({ status: 'pending', text: 't', value: 3, max: 10 });
    expect(r.statusChanged).toBe(false);
  });
});

describe('parseProgressUpdate', () => {
  test('accepts the four fields and nothing else', () => {
    expect(parseProgressUpdate({ status: 'updating', text: 'x', value: 1, max: 2 }, 'w')).toEqual({ status: 'updating', text: 'x', value: 1, max: 2 });
    expect(parseProgressUpdate(undefined, 'w')).toEqual({});
    expect(() => parseProgressUpdate({ stauts: 'updating' }, 'w')).toThrow(/unknown field 'stauts'/);
  });

  test.each([
    [{ status: 'done' }, /status "done" is not one of/],
    [{ value: -1 }, /value must be a finite number/],
    [{ max: Number.NaN }, /max must be a finite number/],
    [{ text: 5 }, /text must be a string/],
    ['updating', /must be an object/],
  ])('rejects %j with E_INVALIDARG', (update, message) => {
    try {
      parseProgressUpdate(update, "Handler 'h': progress('a')");
      expect.unreachable();
    } catch (error) {
      expect(SyncError.is(error, 'E_INVALIDARG')).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain("Handler 'h'");
    }
  });
});

describe('parseItems', () => {
  test('keeps id, name, checked and lastUpdate', () => {
    expect(parseItems([{ id: 'a', name: 'A', checked: false, lastUpdate: 5 }, { id: 'b', name: 'B' }], 'h')).toEqual([
      { id: 'a', name: 'A', checked: false, lastUpdate: 5 },
      { id: 'b', name: 'B' },
    ]);
  });

  test.each([
    [null, /must return an array/],
    [[{ id: 'a' }], /needs a name/],
    [[{ id: '', name: 'A' }], /needs an id/],
    [[{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }], /listed twice/],
    [[{ id: 'a', name: 'x'.repeat(129) }], /1 to 128 characters/],
    [[{ id: 'a', name: 'A', checkd: true }], /unknown field 'checkd'/],
    [[{ id: 'a', name: 'A', checked: 'yes' }], /checked must be a boolean/],
  ])('rejects %j', (items, message) => {
    expect(() => parseItems(items, 'notes')).toThrow(message);
    expect(() => parseItems(items, 'notes')).toThrow(/Handler 'notes'/);
  });
});
