import { expect, test } from 'vitest';
import { LogBook, type LogEntry } from '../../src/state/log-book.ts';

const entry = (handlerId: string, errorId: string, text = errorId): LogEntry => ({
  errorId, level: 'error', text, handlerId, itemId: null, actionable: false, time: 1, sessionId: 's',
});

test('the same errorId of the same handler replaces; other handlers keep theirs', () => {
  const log = new LogBook();
  expect(log.add(entry('a', 'x', 'first'))).toBeUndefined();
  log.add(entry('b', 'x'));
  expect(log.add(entry('a', 'x', 'second'))?.text).toBe('first');
  expect(log.list().map((e) => [e.handlerId, e.text])).toEqual([['a', 'second'], ['b', 'x']]);
});

test('delete by id, then all of one handler, leaves the others', () => {
  const log = new LogBook();
  for (const [h, id] of [['a', '1'], ['a', '2'], ['a', '3'], ['b', '1']] as const) log.add(entry(h, id));
  expect(log.delete('a', '2').map((e) => e.errorId)).toEqual(['2']);
  expect(log.delete('a', 'missing')).toEqual([]);
  expect(log.delete('a').map((e) => e.errorId)).toEqual(['1', '3']);
  expect(log.list().map((e) => [e.handlerId, e.errorId])).toEqual([['b', '1']]);
  expect(log.clear()).toHaveLength(1);
  expect(log.list()).toEqual([]);
});

test('list returns copies', () => {
  const log = new LogBook();
  log.add(entry('a', '1'));
  log.list()[0]!.text = 'changed';
  expect(log.list()[0]!.text).toBe('1');
});
