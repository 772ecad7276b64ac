/**
 * The leveled log (DESIGN.md §3 step 5): `ctx.logError` adds entries that
 * carry what the UI shows, `ctx.deleteLogError` removes one or all of the
 * handler's own, the same errorId replaces, bad calls are refused, and the
 * manager reports every change as a `log` event.
 */
import { expect, test } from 'vitest';
import { cookie, scripted, testBed } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { LogEntry, LogEvent, SyncManager } from '../../src/index.ts';

const bed = testBed();

/** Every `log` event, as `[action, handlerId:errorId:text …]`. */
function logEvents(target: SyncManager): LogEvent[] {
  const events: LogEvent[] = [];
  target.addEventListener('log', (e) => events.push(e));
  return events;
}

function summary(events: readonly LogEvent[], handlerId?: string): [string, string[]][] {
  return events
    .map((e): [string, string[]] => [e.action, e.entries.filter((x) => handlerId === undefined || x.handlerId === handlerId).map(key)])
    .filter(([, entries]) => entries.length > 0);
}

function key(e: LogEntry): string {
  return `${e.handlerId}:${e.errorId}:${e.text}`;
}

/** The value of a handler's step, which must have succeeded (reports may arrive after `done`). */
async function stepValue(handlerId: string, index: number, phase = 'step'): Promise<unknown> {
  const r = await bed.reports.waitStep(handlerId, index, phase);
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return r.value;
}

test('logError adds an entry with level, text, handler, item, time, errorId, actionable and sessionId', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const events = logEvents(m);
  const before = Date.now();
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        prepare: [{ op: 'log', level: 'warning', text: 'Quota almost used up', options: { errorId: 'quota' } }],
        steps: [
          { op: 'log', level: 'error', text: 'Disk full', options: { itemId: 'a', errorId: 'disk', actionable: true } },
          { op: 'log', level: 'information', text: 'Synced 3 notes' },
        ],
      },
    }),
  });
  const result = await session.done;
  const after = Date.now();
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(await stepValue('h1', 0, 'prepare')).toBe('quota');
  expect(await stepValue('h1', 0)).toBe('disk');
  const generated = await stepValue('h1', 1);
  expect(generated).toEqual(expect.any(String));
  expect(generated).not.toBe('');

  const time = expect.any(Number);
  const sessionId = session.id;
  const log = m.log();
  expect(log).toEqual([
    { errorId: 'quota', level: 'warning', text: 'Quota almost used up', handlerId: 'h1', itemId: null, actionable: false, time, sessionId },
    { errorId: 'disk', level: 'error', text: 'Disk full', handlerId: 'h1', itemId: 'a', actionable: true, time, sessionId },
    { errorId: generated, level: 'information', text: 'Synced 3 notes', handlerId: 'h1', itemId: null, actionable: false, time, sessionId },
  ]);
  for (const entry of log) {
    expect(entry.time).toBeGreaterThanOrEqual(before);
    expect(entry.time).toBeLessThanOrEqual(after);
  }
  expect(events.map((e) => [e.action, e.entries])).toEqual(log.map((entry) => ['add', [entry]]));
});

test('deleteLogError(errorId) deletes that entry only and emits a delete event; an unknown id deletes nothing', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const events = logEvents(m);
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'log', level: 'error', text: 'one', options: { errorId: 'e1' } },
          { op: 'log', level: 'error', text: 'two', options: { errorId: 'e2' } },
          { op: 'delete-log', errorId: 'e1' },
          { op: 'delete-log', errorId: 'e1' },
          { op: 'delete-log', errorId: 'never-logged' },
        ],
      },
    }),
  });
  await session.done;
  expect([await stepValue('h1', 2), await stepValue('h1', 3), await stepValue('h1', 4)]).toEqual([1, 0, 0]);
  expect(m.log().map(key)).toEqual(['h1:e2:two']);
  expect(summary(events)).toEqual([
    ['add', ['h1:e1:one']],
    ['add', ['h1:e2:two']],
    ['delete', ['h1:e1:one']],
  ]);
});

test("deleteLogError() without an id deletes all of the handler's entries and leaves other handlers' entries", async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const events = logEvents(m);
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'log', level: 'error', text: 'x of h1', options: { errorId: 'x' } },
          { op: 'log', level: 'warning', text: 'y of h1', options: { errorId: 'y' } },
          { op: 'wait' },
          { op: 'delete-log' },
        ],
      },
      // Same errorId as one of h1's: errorIds belong to their handler.
      h2: { steps: [{ op: 'log', level: 'error', text: 'x of h2', options: { errorId: 'x' } }, { op: 'wait' }] },
    }),
  });
  // h1 deletes only once h2's entry exists.
  await reports.waitStep('h1', 1);
  await reports.waitStep('h2', 0);
  reports.release(session.id, 'h1');
  expect(await stepValue('h1', 3)).toBe(2);
  reports.release(session.id, 'h2');
  await session.done;
  expect(m.log().map(key)).toEqual(['h2:x:x of h2']);
  expect(summary(events, 'h1')).toEqual([
    ['add', ['h1:x:x of h1']],
    ['add', ['h1:y:y of h1']],
    ['delete', ['h1:x:x of h1', 'h1:y:y of h1']],
  ]);
  expect(summary(events, 'h2')).toEqual([['add', ['h2:x:x of h2']]]);
});

test('logging the same errorId twice replaces the entry (a delete event, then an add event)', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const events = logEvents(m);
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'log', level: 'warning', text: 'first', options: { errorId: 'e' } },
          { op: 'wait' },
          { op: 'log', level: 'error', text: 'second', options: { errorId: 'e', itemId: 'a', actionable: true } },
        ],
      },
      h2: { steps: [{ op: 'log', level: 'information', text: 'other', options: { errorId: 'e' } }] },
    }),
  });
  await reports.waitStep('h1', 0);
  await reports.waitStep('h2', 0);
  reports.release(session.id, 'h1');
  await session.done;
  expect(await stepValue('h1', 2)).toBe('e');
  const log = m.log();
  expect(log.filter((e) => e.handlerId === 'h1')).toEqual([
    expect.objectContaining({ errorId: 'e', level: 'error', text: 'second', itemId: 'a', actionable: true }),
  ]);
  expect(log.filter((e) => e.handlerId === 'h2').map(key)).toEqual(['h2:e:other']);
  expect(summary(events, 'h1')).toEqual([
    ['add', ['h1:e:first']],
    ['delete', ['h1:e:first']],
    ['add', ['h1:e:second']],
  ]);
});

test('logError with a bad level, an empty text or a bad option, and deleteLogError with a non-string id, reject with E_INVALIDARG', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1')] });
  const events = logEvents(m);
  const bad: { step: Step; mentions: string[] }[] = [
    { step: { op: 'log', level: 'fatal', text: 'x' }, mentions: ['level', '"fatal"'] },
    { step: { op: 'log', level: 'error', text: '' }, mentions: ['text'] },
    { step: { op: 'log', level: 'error', text: 42 }, mentions: ['text'] },
    { step: { op: 'log', level: 'error', text: 'x'.repeat(4097) }, mentions: ['text', '4096'] },
    { step: { op: 'log', level: 'error', text: 'x', options: { severity: 1 } }, mentions: ["'severity'"] },
    { step: { op: 'log', level: 'error', text: 'x', options: { actionable: 'yes' } }, mentions: ['actionable'] },
    { step: { op: 'log', level: 'error', text: 'x', options: { itemId: '' } }, mentions: ['itemId'] },
    { step: { op: 'log', level: 'error', text: 'x', options: { errorId: 7 } }, mentions: ['errorId'] },
    { step: { op: 'log', level: 'error', text: 'x', options: 'loud' }, mentions: ['options'] },
    { step: { op: 'delete-log', errorId: 42 }, mentions: ['deleteLogError'] },
  ];
  const session = m.synchronize({ cookie: cookie({ h1: { steps: bad.map((b) => b.step) } }) });
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  for (const [i, { step, mentions }] of bad.entries()) {
    const r = await reports.waitStep('h1', i);
    expect(r.ok, JSON.stringify(step)).toBe(false);
    expect(r.error, JSON.stringify(step)).toMatchObject({ name: 'SyncError', code: 'E_INVALIDARG' });
    for (const word of ["'h1'", ...mentions]) expect(r.error!.message, JSON.stringify(step)).toContain(word);
  }
  expect(m.log()).toEqual([]);
  expect(events).toEqual([]);
});

test('manager.clearLog() deletes every entry of every handler with one delete event', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const session = m.synchronize({
    cookie: cookie({
      h1: { steps: [{ op: 'log', level: 'error', text: 'a', options: { errorId: 'a' } }, { op: 'log', level: 'warning', text: 'b', options: { errorId: 'b' } }] },
      h2: { steps: [{ op: 'log', level: 'information', text: 'c', options: { errorId: 'c' } }] },
    }),
  });
  await session.done;
  const before = m.log();
  expect(before.map(key).sort()).toEqual(['h1:a:a', 'h1:b:b', 'h2:c:c']);
  const events = logEvents(m);

  m.clearLog();

  expect(m.log()).toEqual([]);
  expect(events.map((e) => [e.action, e.entries.map(key).sort()])).toEqual([['delete', ['h1:a:a', 'h1:b:b', 'h2:c:c']]]);
  m.clearLog();
  expect(events).toHaveLength(1);
});
