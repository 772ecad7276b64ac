/**
 * One session at a time, merged (README, Sessions one at a time): a burst of
 * `invoke` requests becomes one session; requests for the same handlers and
 * cookie that wait for their turn merge (items united, the stronger trigger
 * kept) and answer the same session; `whenSyncing: 'join'` answers the
 * running session when it already syncs every item asked for;
 * `manager.pending()` tells what waits and why.
 */
import { expect, test } from 'vitest';
import { cookie, scripted, testBed } from '../fixtures/harness.ts';

const bed = testBed();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a burst of 100 invoke requests in about 50 ms becomes one session, which starts after the debounce', async () => {
  // A debounce far above the burst's length: a busy machine may stretch the burst, and the rule is the merge.
  const m = bed.manager({ triggers: { invoke: { debounce: 2_000, maxWait: 10_000 } }, handlers: [scripted('a')] });
  let starts = 0;
  m.addEventListener('sessionstart', () => starts++);
  const c = cookie({ a: { items: [{ id: 'x', name: 'X' }, { id: 'y', name: 'Y' }, { id: 'z', name: 'Z' }] } });
  const sessions = new Set<string>();
  for (let i = 0; i < 100; i++) {
    sessions.add(m.invoke({ cookie: c, items: { a: [i % 2 === 0 ? 'x' : 'y'] } }).id);
    if (i % 10 === 9) await sleep(5);
  }
  expect(sessions.size).toBe(1);
  expect(starts).toBe(0);
  const [pending] = m.pending();
  expect(pending).toMatchObject({ trigger: 'invoke', handlers: ['a'], items: { a: { choices: false, ids: ['x', 'y'] } }, waitingFor: 'debounce' });
  expect(pending!.notBefore).toBeGreaterThan(Date.now());
  const result = await pending!.session.done;
  expect(starts).toBe(1);
  expect(result.trigger).toBe('invoke');
  expect(result.handlers[0]!.items.map((i) => i.id)).toEqual(['x', 'y']);
  expect(m.sessions()).toHaveLength(1);
});

test('a debounced request starts at most maxWait after the first of a steady stream', async () => {
  const m = bed.manager({ triggers: { invoke: { debounce: 200, maxWait: 600 } }, handlers: [scripted('a')] });
  const first = Date.now();
  const session = m.invoke({ cookie: cookie({ a: {} }) });
  let started = 0;
  m.addEventListener('sessionstart', () => (started = Date.now()));
  // Requests every 50 ms would push a plain debounce back forever.
  while (!started && Date.now() - first < 5_000) {
    expect(m.invoke({ cookie: cookie({ a: {} }) })).toBe(session);
    await sleep(50);
  }
  expect(started - first).toBeGreaterThanOrEqual(600 - 2);
  await session.done;
});

test('requests waiting for their turn merge: the same session, items united, the stronger trigger, the user bothered if either may', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('a'), scripted('b')] });
  const running = m.synchronize({ handlers: ['a'], cookie: cookie({ a: { steps: [{ op: 'wait' }] } }) });
  await reports.wait((r) => r.sessionId === running.id && r.phase === 'synchronize');
  const c = cookie({ a: { items: [{ id: 'x', name: 'X' }, { id: 'y', name: 'Y' }, { id: 'z', name: 'Z', checked: false }] } });
  const first = m.synchronize({ trigger: 'interval', handlers: ['a'], items: { a: ['z'] }, cookie: c });
  const second = m.synchronize({ trigger: 'manual', handlers: ['a'], cookie: c });
  // Another cookie, or other handlers: separate sessions.
  const other = m.synchronize({ handlers: ['a'], cookie: cookie({ a: {} }) });
  const both = m.synchronize({ handlers: ['a', 'b'], cookie: c });
  expect(second).toBe(first);
  expect(new Set([first.id, other.id, both.id]).size).toBe(3);
  expect(first.trigger).toBe('manual');
  expect(m.pending().map((p) => [p.sessionId, p.waitingFor, p.items])).toEqual([
    [first.id, 'turn', { a: { choices: true, ids: ['z'] } }],
    [other.id, 'turn', {}],
    [both.id, 'turn', {}],
  ]);
  reports.release(running.id, 'a');
  const merged = await first.done;
  // The user's choices (x, y) and the item asked for explicitly (z, unchecked).
  expect(merged.handlers[0]!.items.map((i) => i.id)).toEqual(['x', 'y', 'z']);
  const init = await reports.wait((r) => r.sessionId === first.id && r.phase === 'initialize');
  expect(init.value).toEqual({ trigger: 'manual', mayBotherUser: true });
  await Promise.all([other.done, both.done]);
  expect(m.sessions().map((s) => s.id)).toEqual([running.id, first.id, other.id, both.id]);
});

test('a request with a signal never merges; cancelling a waiting session ends it at once', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('a')] });
  const running = m.synchronize({ cookie: cookie({ a: { steps: [{ op: 'wait' }] } }) });
  await reports.wait((r) => r.sessionId === running.id && r.phase === 'synchronize');
  const c = cookie({ a: {} });
  const plain = m.synchronize({ cookie: c });
  const signalled = m.synchronize({ cookie: c, signal: new AbortController().signal });
  expect(signalled).not.toBe(plain);
  expect(m.synchronize({ cookie: c })).toBe(plain);
  plain.cancel();
  expect((await plain.done).outcome).toBe('cancelled');
  expect(m.pending().map((p) => p.sessionId)).toEqual([signalled.id]);
  reports.release(running.id, 'a');
  expect((await signalled.done).outcome).toBe('succeeded');
});

test("whenSyncing: 'join' answers the running session when it syncs every item asked for, and queues otherwise", async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('a'), scripted('b')] });
  const c = cookie({ a: { items: [{ id: 'x', name: 'X' }, { id: 'y', name: 'Y', checked: false }], steps: [{ op: 'wait' }] } });
  const running = m.synchronize({ handlers: ['a'], cookie: c });
  await reports.wait((r) => r.sessionId === running.id && r.phase === 'synchronize');
  expect(m.synchronize({ handlers: ['a'], whenSyncing: 'join' })).toBe(running);
  expect(m.synchronize({ handlers: ['a'], items: { a: ['x'] }, whenSyncing: 'join' })).toBe(running);
  // y is not checked, so the running session does not sync it; b does not take part.
  const notCovered = m.synchronize({ handlers: ['a'], items: { a: ['y'] }, whenSyncing: 'join', cookie: c });
  const otherHandler = m.synchronize({ handlers: ['a', 'b'], whenSyncing: 'join' });
  expect(notCovered).not.toBe(running);
  expect(otherHandler).not.toBe(running);
  expect(m.pending().map((p) => p.sessionId)).toEqual([notCovered.id, otherHandler.id]);
  reports.release(running.id, 'a');
  // The queued one waits like any: release it too once it runs.
  await reports.wait((r) => r.sessionId === notCovered.id && r.phase === 'synchronize');
  reports.release(notCovered.id, 'a');
  await Promise.all([notCovered.done, otherHandler.done]);
});
