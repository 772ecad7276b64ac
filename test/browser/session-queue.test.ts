/**
 * A session cancelled before its turn never starts (README, `SyncSession.cancel()`):
 * no worker, no lock, no journal, no event, no history, and `done` answers it
 * cancelled, whether it was cancelled while queued or by a signal aborted
 * before it was asked for.
 */
import { expect, test } from 'vitest';
import { cookie, scriptedWorker, testBed } from '../fixtures/harness.ts';
import { MemoryStateStore, SyncError, type StateChanges, type StateStore } from '../../src/index.ts';

const bed = testBed();

const EVENTS = ['sessionstart', 'sessionend', 'handlerstate', 'progress', 'itemstatus', 'connectionopen'];

test('a session cancelled while queued, or by a signal aborted before it was asked for, never starts: no worker, lock, journal, event or history', async () => {
  const reports = bed.reports;
  // Every Web Lock this page asks for, and every journal the manager writes.
  const locks: string[] = [];
  const request = LockManager.prototype.request;
  LockManager.prototype.request = function (this: LockManager, name: string, ...rest: unknown[]) {
    locks.push(name);
    return (request as (...args: unknown[]) => Promise<unknown>).call(this, name, ...rest);
  } as typeof request;
  bed.cleanup(() => {
    LockManager.prototype.request = request;
  });
  const memory = new MemoryStateStore();
  const journals: { sessionId: string }[] = [];
  const store: StateStore = {
    get: (k) => memory.get(k), set: (k, v) => memory.set(k, v), delete: (k) => memory.delete(k), update: (k, u) => memory.update(k, u),
    keys: (p) => memory.keys(p), entries: (p) => memory.entries(p),
    write: (changes: StateChanges) => {
      const journal = changes.get('manager/journal') as { sessionId: string } | undefined;
      if (journal) journals.push(journal);
      return memory.write(changes);
    },
  };
  let workers = 0;
  const m = bed.manager({ storage: store, handlers: [{ id: 'h1', worker: () => (workers++, scriptedWorker()) }] });
  const events: [type: string, sessionId: string][] = [];
  for (const type of EVENTS) {
    m.addEventListener(type, (e) => events.push([type, (e as { session?: { id: string } }).session?.id ?? (e as { sessionId?: string }).sessionId ?? '']));
  }

  const s1 = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'wait' }] } }) });
  const s2 = m.synchronize({ cookie: cookie({ h1: {} }) });
  const s3 = m.synchronize({ cookie: cookie({ h1: {} }), signal: AbortSignal.abort() });
  await reports.wait((r) => r.sessionId === s1.id && r.phase === 'synchronize');
  // A session cancelled while it waits ends at once (s3, by its signal); s2 waits for its turn.
  expect([s1.state, s2.state, s3.state]).toEqual(['running', 'queued', 'ended']);
  s2.cancel();
  reports.release(s1.id, 'h1');
  const [r1, r2, r3] = await Promise.all([s1.done, s2.done, s3.done]);

  expect(r1.outcome).toBe('succeeded');
  for (const [session, result] of [[s2, r2], [s3, r3]] as const) {
    expect(session.state).toBe('ended');
    expect(result).toMatchObject({ id: session.id, outcome: 'cancelled', connections: [] });
    expect(result.handlers.map((h) => [h.id, h.outcome, h.endedIn, h.items, SyncError.is(h.error, 'E_ABORT')])).toEqual([['h1', 'cancelled', 'starting', [], true]]);
    expect(events.filter(([, id]) => id === session.id)).toEqual([]);
    expect(locks.filter((name) => name.includes(session.id))).toEqual([]);
    expect(journals.filter((j) => j.sessionId === session.id)).toEqual([]);
  }
  // What the running session did, seen by the same means: one worker, its events, its lock, its journal, its history.
  expect(workers).toBe(1);
  expect(events.filter(([type, id]) => id === s1.id && type.startsWith('session')).map(([type]) => type)).toEqual(['sessionstart', 'sessionend']);
  expect(locks.filter((name) => name.includes(s1.id))).toHaveLength(1);
  expect(journals.some((j) => j.sessionId === s1.id)).toBe(true);
  expect(m.sessions().map((s) => s.id)).toEqual([s1.id]);
  expect(reports.all.filter((r) => r.sessionId === s2.id || r.sessionId === s3.id)).toEqual([]);
});
