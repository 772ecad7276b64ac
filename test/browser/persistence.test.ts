/**
 * Persistence across reloads, with real IndexedDB: a manager in one page
 * (an iframe) writes, the page goes away, and a new manager in a fresh page
 * over the same database reads the same picture. A page removed mid-session
 * (its worker dies with it) leaves a journal: the next start reports the
 * session as interrupted, with its unfinished items `stopped`.
 */
import { expect, test } from 'vitest';
import { cookie, liveWorkers, liveWorkersReach, scripted, testBed } from '../fixtures/harness.ts';
import type { StatePage } from '../fixtures/state-page.ts';
import { SyncManager, type StateChangeEvent } from '../../src/index.ts';

const bed = testBed();

let databases = 0;
/** A database name of this test alone (IndexedDB is shared by every test file of a run). */
const uniqueName = (label: string) => `persist-${label}-${++databases}-${Date.now()}`;

/** A fresh page in an iframe; resolves with its manager factory. */
async function openPage(): Promise<{ frame: HTMLIFrameElement; page: StatePage }> {
  const frame = document.createElement('iframe');
  frame.src = '/test/fixtures/state-page.html';
  document.body.append(frame);
  bed.cleanup(() => frame.remove());
  await new Promise((r) => frame.addEventListener('load', r, { once: true }));
  const end = Date.now() + 10_000;
  for (;;) {
    const page = (frame.contentWindow as unknown as { statePage?: StatePage } | null)?.statePage;
    if (page) return { frame, page };
    if (Date.now() > end) throw new Error('the state page did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Plain data in this realm (objects made in the iframe's realm compare by value then). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

test('choices, item states, the log and the history survive a reload: a new manager in a fresh page over the same database shows the same picture', async () => {
  void bed.reports; // listening before the session starts
  const name = uniqueName('reload');
  const first = await openPage();
  const m1 = first.page.open(name, ['h1', 'h2']);
  expect(m1.storage).toBe('indexeddb');
  m1.setItemChecked('h1', 'b', false);
  m1.setItemChecked('h1', 'gone', false); // an item the handler does not list (SyncMgr's MISSINGITEMS)
  const items = [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }];
  const session = m1.synchronize({
    cookie: cookie({
      h1: {
        items,
        steps: [
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
          { op: 'log', level: 'error', text: 'Disk full', options: { itemId: 'c', errorId: 'disk', actionable: true } },
          { op: 'progress', item: 'c', update: { status: 'failed' } },
        ],
      },
      h2: { items: [{ id: 'x', name: 'X' }], steps: [{ op: 'log', level: 'information', text: 'about to fail' }, { op: 'throw', code: 'E_FAIL', message: 'server said no' }] },
    }),
  });
  const result = await session.done;
  expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'failed']);
  m1.setItemChecked('h2', 'x', false);
  await m1.flush();
  const before = plain({ h1: m1.items('h1'), h2: m1.items('h2'), log: m1.log(), sessions: m1.sessions() });
  expect(before.h1.map((r) => [r.id, r.checked, r.status, r.lastError?.message ?? null])).toEqual([
    ['a', true, 'succeeded', null], ['b', false, null, null], ['c', true, 'failed', 'Disk full'],
  ]);
  expect(before.h1[0]!.lastSuccess).toBe(result.endedAt);
  expect(before.h2).toEqual([expect.objectContaining({ id: 'x', checked: false, status: 'failed', lastError: { name: 'SyncError', code: 'E_FAIL', message: 'server said no' } })]);
  // The two handlers log side by side: either may come first.
  // h2's failure is logged by the manager too (h2 logged no error of its own).
  expect(before.log.map((e) => [e.handlerId, e.text]).sort()).toEqual([['h1', 'Disk full'], ['h2', 'about to fail'], ['h2', "h2 failed on 'X' while synchronizing: server said no"]]);
  expect(before.sessions.map((s) => [s.id, s.outcome, s.handlers.map((h) => h.outcome)])).toEqual([[session.id, 'failed', ['succeeded', 'failed']]]);

  // The page goes away without close(): nothing but what is in IndexedDB is left.
  first.frame.remove();

  const second = await openPage();
  const m2 = bed.track(second.page.open(name, ['h1', 'h2']));
  const loaded: string[] = [];
  m2.addEventListener('statechange', (e: StateChangeEvent) => loaded.push(e.part));
  expect(m2.items('h1')).toEqual([]); // before the load: nothing known yet; the call starts it
  await m2.load();
  expect(loaded[0]).toBe('loaded');
  expect(plain({ h1: m2.items('h1'), h2: m2.items('h2'), log: m2.log(), sessions: m2.sessions() })).toEqual(before);

  // The stored choices make the selection: b and the unlisted-then-listed 'gone' stay unchecked.
  const next = m2.synchronize({ cookie: cookie({ h1: { items: [...items, { id: 'gone', name: 'Gone' }] }, h2: { items: [{ id: 'x', name: 'X' }] } }) });
  const again = await next.done;
  expect(again.handlers.map((h) => [h.id, h.outcome, h.items.map((i) => i.id)])).toEqual([['h1', 'succeeded', ['a', 'c']], ['h2', 'nothing-selected', []]]);
  expect(m2.sessions().map((s) => s.id)).toEqual([session.id, next.id]);
});

test('a session interrupted by killing its page (and worker) is reported as interrupted on the next start, with its unfinished items stopped', async () => {
  const reports = bed.reports;
  const name = uniqueName('interrupted');
  const first = await openPage();
  const m1 = first.page.open(name, ['h1']);
  const session = m1.synchronize({
    trigger: 'interval',
    handlers: ['h1'],
    cookie: cookie({
      h1: {
        items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }],
        steps: [{ op: 'progress', item: 'a', update: { status: 'succeeded' } }, { op: 'progress', item: 'b', update: { status: 'updating', value: 1, max: 3 } }, { op: 'wait' }],
      },
    }),
  });
  await reports.waitStep('h1', 1);
  await m1.flush(); // what the page had written by then (a write is due within STATE_FLUSH_INTERVAL anyway)
  await liveWorkersReach(1);
  first.frame.remove(); // the tab closes mid-session
  const end = Date.now() + 3000;
  while ((await liveWorkers()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(await liveWorkers()).toBe(0);

  const m2 = bed.track(new SyncManager({ name, handlers: [scripted('h1')] }));
  const parts: string[] = [];
  m2.addEventListener('statechange', (e) => parts.push(e.part));
  await m2.load();
  const last = m2.sessions().at(-1)!;
  expect(last).toMatchObject({ id: session.id, trigger: 'interval', outcome: 'interrupted' });
  expect(last.handlers.map((h) => [h.id, h.outcome, h.error?.code, h.items.map((i) => [i.id, i.status])])).toEqual([
    ['h1', 'interrupted', 'E_ABORT', [['a', 'succeeded'], ['b', 'stopped'], ['c', 'stopped']]],
  ]);
  expect(m2.items('h1').map((r) => [r.id, r.status])).toEqual([['a', 'succeeded'], ['b', 'stopped'], ['c', 'stopped']]);
  const log = m2.log();
  expect(log).toHaveLength(1);
  expect(log[0]).toMatchObject({ level: 'warning', handlerId: null, itemId: null, sessionId: session.id });
  expect(log[0]!.text).toMatch(/was interrupted: the page was closed, reloaded or crashed before it ended\. 2 item\(s\) were stopped: h1\/b, h1\/c\./);
  expect(parts).toContain('loaded');
  expect(parts).toContain('sessions');

  // Reported once: the next start (after this one closed) finds no journal.
  await m2.close();
  const m3 = bed.track(new SyncManager({ name, handlers: [scripted('h1')] }));
  await m3.load();
  expect(m3.sessions().map((s) => s.outcome)).toEqual(['interrupted']);
  expect(m3.log()).toHaveLength(1);
  // And it syncs again normally.
  const result = await m3.synchronize({ cookie: cookie({ h1: { items: [{ id: 'a', name: 'A' }] } }) }).done;
  expect(result.outcome).toBe('succeeded');
  expect(m3.items('h1').map((r) => [r.id, r.status])).toEqual([['a', 'succeeded']]);
});

test('a session still running in another page is not taken for an interrupted one (its Web Lock is held)', async () => {
  const reports = bed.reports;
  const name = uniqueName('alive');
  const first = await openPage();
  const m1 = first.page.open(name, ['h1']);
  const session = m1.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'wait' }] } }) });
  await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'synchronize');
  await m1.flush();
  const m2 = bed.track(new SyncManager({ name, handlers: [scripted('h1')] }));
  await m2.load();
  expect(m2.sessions()).toEqual([]);
  expect(m2.log()).toEqual([]);
  reports.release(session.id, 'h1');
  expect((await session.done).outcome).toBe('succeeded');
  await m1.close();
});

test('a session whose handlers all fail before its journal is written still ends with no journal left behind (the next start reports no interrupted session)', async () => {
  // Workers start while the journal is written; a factory that throws finishes its handler at once,
  // so the session's result must wait for the journal it replaces.
  const name = uniqueName('early-end');
  const broken = { id: 'broken', worker: (): Worker => { throw new Error('no worker today'); } };
  const m1 = bed.track(new SyncManager({ name, handlers: [broken] }));
  const result = await m1.synchronize().done;
  expect([result.outcome, result.handlers[0]!.outcome]).toEqual(['failed', 'crashed']);
  await m1.close();

  const m2 = bed.track(new SyncManager({ name, handlers: [broken] }));
  await m2.load();
  expect(m2.sessions().map((s) => [s.id, s.outcome])).toEqual([[result.id, 'failed']]);
  expect(m2.log().filter((e) => /interrupted/.test(e.text))).toEqual([]);
});
