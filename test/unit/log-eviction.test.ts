import { expect, test } from 'vitest';
import { LogBook, MAX_LOG_ENTRIES, type LogEntry } from '../../src/state/log-book.ts';
import type { LogLevel } from '../../src/protocol/types.ts';

const entry = (errorId: string, level: LogLevel, handlerId: string | null = 'h'): LogEntry => ({
  errorId, level, text: errorId, handlerId, itemId: null, actionable: false, time: 1, sessionId: null,
});

test('when full, the oldest information entry goes first, then warnings, errors last', () => {
  const log = new LogBook();
  log.add(entry('e1', 'error'));
  log.add(entry('w1', 'warning'));
  log.add(entry('i1', 'information'));
  log.add(entry('e2', 'error'));
  log.add(entry('i2', 'information'));
  log.add(entry('w2', 'warning'));
  expect(log.trim(4).map((e) => e.errorId)).toEqual(['i1', 'i2']);
  expect(log.trim(3).map((e) => e.errorId)).toEqual(['w1']);
  expect(log.trim(1).map((e) => e.errorId)).toEqual(['w2', 'e1']);
  expect(log.list().map((e) => e.errorId)).toEqual(['e2']);
});

test(`the bound is MAX_LOG_ENTRIES (${MAX_LOG_ENTRIES}) by default, and errors survive a flood of information`, () => {
  const log = new LogBook();
  log.add(entry('keep', 'error'));
  for (let i = 0; i < MAX_LOG_ENTRIES * 2; i++) {
    log.add(entry(`i${i}`, 'information'));
    log.trim();
  }
  expect(log.size).toBe(MAX_LOG_ENTRIES);
  expect(log.list()[0]!.errorId).toBe('keep');
  expect(log.list().at(-1)!.errorId).toBe(`i${MAX_LOG_ENTRIES * 2 - 1}`);
});

test('the observer sees every change by sequence number; a replacement keeps its number; restore continues the numbering', () => {
  const seen: [number, string | undefined][] = [];
  const log = new LogBook((seq, e) => seen.push([seq, e?.text]));
  log.add(entry('a', 'error'));
  log.add(entry('b', 'error'));
  log.add({ ...entry('a', 'error'), text: 'a again' });
  log.delete('h', 'b');
  log.add(entry('m', 'warning', null));
  expect(seen).toEqual([[1, 'a'], [2, 'b'], [1, 'a again'], [2, undefined], [3, 'm']]);
  expect(log.delete(null, 'm').map((e) => e.errorId)).toEqual(['m']);
  const restored = new LogBook((seq, e) => seen.push([seq, e?.text]));
  restored.restore([[7, entry('x', 'error')], [3, entry('y', 'error')]]);
  expect(restored.list().map((e) => e.errorId)).toEqual(['y', 'x']);
  restored.add(entry('z', 'error'));
  expect(restored.records().map(([seq]) => seq)).toEqual([3, 7, 8]);
});
