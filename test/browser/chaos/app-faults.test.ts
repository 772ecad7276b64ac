/**
 * Chaos, the app's side: manager.close(), session.cancel() and an aborted
 * signal at each phase of a handler; a queued session cancelled; 100
 * sessions in a row and 100 queued at once; storage that is blocked,
 * damaged, over quota, failing or silent, falling back to memory once; two
 * managers of the same name; another handler's keys out of reach of
 * ctx.store whatever the key says. Each case ends with no hang and no leak
 * (cases.ts, `ended`).
 */
import { expect, test } from 'vitest';
import { cookie, liveWorkers, noUnhandledRejections, scripted, scriptedWorker, testBed, type Script } from '../../fixtures/harness.ts';
import { IndexedDbStateStore, stateDatabaseName, type StateStore, type SessionResult, type StorageFallbackEvent, type SyncManager, type SyncSession } from '../../../src/index.ts';
import { ended, noWorkerSince, start, value, within, SESSION_BOUND_MS, STEP_BOUND_MS } from './cases.ts';

noUnhandledRejections();
const bed = testBed();

// ---- stopping a session at each phase ----

type Stop = 'close' | 'cancel' | 'signal';
const PHASES: { phase: string; script: Script; report: string | null }[] = [
  { phase: 'starting', script: {}, report: null },
  { phase: 'enumerating', script: { itemsWait: true }, report: 'items' },
  { phase: 'preparing', script: { prepare: [{ op: 'wait' }] }, report: 'prepare' },
  { phase: 'synchronizing', script: { steps: [{ op: 'wait' }] }, report: 'synchronize' },
];
const stops = PHASES.flatMap((p) => (['close', 'cancel', 'signal'] as Stop[]).map((stop) => ({ ...p, stop })));

test.for(stops)('$stop while the handler is $phase: it ends cancelled in that phase, done resolves, no worker is left', async ({ phase, script, report, stop }) => {
  const reports = bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('h', { timeouts: { cancel: 500 } })] });
  const abort = new AbortController();
  // The manager's own word that the handler is in the phase: the worker's report travels on another channel and may come first.
  const entered = new Promise<void>((resolve) => m.addEventListener('handlerstate', (e) => e.phase === phase && resolve()));
  const session = m.synchronize({ cookie: cookie({ h: script }), signal: abort.signal });
  if (report) {
    await reports.wait((r) => r.sessionId === session.id && r.phase === report, STEP_BOUND_MS);
    await within(entered, STEP_BOUND_MS, `the handler entering ${phase}`);
  }
  if (stop === 'close') await within(m.close(), SESSION_BOUND_MS, 'manager.close()');
  else if (stop === 'cancel') session.cancel();
  else abort.abort();
  const result = await ended(session);
  expect([result.outcome, result.handlers[0]!.outcome, result.handlers[0]!.endedIn]).toEqual(['cancelled', 'cancelled', phase]);
  if (stop === 'close') expect(() => m.synchronize()).toThrow(expect.objectContaining({ code: 'E_UNEXPECTED' }));
});

test('a handler that cooperates with cancel (it waits on ctx.signal) sees E_ABORT and ends cancelled before timeouts.cancel', async () => {
  const run = start(bed, { steps: [{ op: 'wait-abort' }] }, { registration: { timeouts: { cancel: 20_000 } } });
  await bed.reports.wait((r) => r.sessionId === run.session.id && r.phase === 'synchronize', STEP_BOUND_MS);
  run.session.cancel();
  expect(value<{ code: string }>(await run.step(0)).code).toBe('E_ABORT');
  const result = await ended(run.session);
  expect(result.handlers[0]!.outcome).toBe('cancelled');
});

test('a queued session cancelled never starts: no worker, cancelled in phase starting, not in the history', async () => {
  let workers = 0;
  const m = bed.manager({ storage: 'memory', handlers: [{ id: 'h', worker: () => (workers++, scriptedWorker()) }] });
  const first = m.synchronize({ cookie: cookie({ h: { steps: [{ op: 'wait', ms: 300 }] } }) });
  const queued = m.synchronize();
  expect(queued.state).toBe('queued');
  queued.cancel();
  const result = await ended(queued);
  expect([result.outcome, result.handlers[0]!.outcome, result.handlers[0]!.endedIn]).toEqual(['cancelled', 'cancelled', 'starting']);
  await ended(first);
  expect(workers).toBe(1);
  expect(m.sessions().map((s) => s.id)).toEqual([first.id]);
});

// ---- many sessions ----

// Each session spawns its worker, whose start (module loading) is most of what a session costs: on a busy
// machine, and in engines with a slower worker start, 100 of them take minutes. The test's time limit is
// only an outer bound; a hang fails at once by the bound on each session.
const HUNDRED_SESSIONS_MS = 600_000;

test('100 sessions in a row: each succeeds, no worker is left, the history keeps the last 20', { timeout: HUNDRED_SESSIONS_MS }, async () => {
  void bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('h')] });
  const started = Date.now();
  for (let i = 0; i < 100; i++) {
    const result = await within(m.synchronize({ cookie: cookie({ h: { steps: [{ op: 'progress', item: 'a', update: { status: 'succeeded' } }] } }) }).done, SESSION_BOUND_MS, `session ${i}`);
    expect(result.outcome).toBe('succeeded');
  }
  await noWorkerSince(started);
  expect(m.sessions()).toHaveLength(20);
  expect(m.activeSession).toBeNull();
});

test('100 sessions queued at once run one at a time, in order, and leave no worker', { timeout: HUNDRED_SESSIONS_MS }, async () => {
  void bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('h')] });
  const order: string[] = [];
  m.addEventListener('sessionstart', (e) => order.push(e.session.id));
  const started = Date.now();
  // Each its own cookie: requests for the same handlers and cookie would merge into one session.
  const sessions: SyncSession[] = Array.from({ length: 100 }, (_, i) => m.synchronize({ cookie: { n: i } }));
  // They end in order, so each must end within a session's bound of the one before it: a stuck queue fails there.
  const results: SessionResult[] = [];
  for (const [i, session] of sessions.entries()) results.push(await within(session.done, SESSION_BOUND_MS, `queued session ${i} (after session ${i - 1} ended)`));
  expect(results.every((r) => r.outcome === 'succeeded')).toBe(true);
  expect(order).toEqual(sessions.map((s) => s.id));
  await noWorkerSince(started);
});

// ---- storage that fails: one fallback to memory ----

function tracked(m: SyncManager): StorageFallbackEvent[] {
  const fallbacks: StorageFallbackEvent[] = [];
  m.addEventListener('storagefallback', (e) => fallbacks.push(e));
  return fallbacks;
}

const storeScript: Script = { steps: [{ op: 'store-set', key: 'k', value: 1 }, { op: 'store-get', key: 'k' }, { op: 'progress', item: 'a', update: { status: 'succeeded' } }] };

/** A store over IndexedDB whose `method` fails (or never answers) from its `after`-th call on. */
function faulty(method: keyof StateStore, after: number, failure: () => Promise<never>): StateStore {
  const real = new IndexedDbStateStore(`chaos-${method}-${crypto.randomUUID()}`);
  let calls = 0;
  const wrap = <K extends keyof StateStore>(k: K) => (...args: unknown[]) => (k === method && ++calls > after ? failure() : (real[k] as (...a: unknown[]) => unknown).apply(real, args));
  return {
    get: wrap('get'), set: wrap('set'), delete: wrap('delete'), update: wrap('update'), keys: wrap('keys'), entries: wrap('entries'), write: wrap('write'), close: () => real.close(),
  } as StateStore;
}
const quota = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
const broken = () => Promise.reject(new DOMException('The database is damaged.', 'UnknownError'));
const silent = () => new Promise<never>(() => {});

/** Makes the manager's own database damaged before it opens: it exists, without the object store the manager needs. */
async function damage(m: SyncManager): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(stateDatabaseName(m.name), 1);
    req.onupgradeneeded = () => req.result.createObjectStore('not-state');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  bed.cleanup(() => void indexedDB.deleteDatabase(stateDatabaseName(m.name)));
}

/** Blocks the manager's database: an old connection that ignores versionchange and an upgrade queued behind it. */
async function block(m: SyncManager): Promise<void> {
  const name = stateDatabaseName(m.name);
  const old = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('state');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const upgrade = indexedDB.open(name, 2);
  const blocked = new Promise((r) => (upgrade.onblocked = r));
  upgrade.onsuccess = () => upgrade.result.close();
  await blocked;
  bed.cleanup(() => old.close());
}

/** Writes a `manager/meta` of a schema from the future into the manager's database. */
async function fromTheFuture(m: SyncManager): Promise<void> {
  const store = new IndexedDbStateStore(stateDatabaseName(m.name));
  await store.set('manager/meta', { schema: 99 });
  await store.close?.();
}

// `silent`: the case is a store that never answers, found by timeouts.storage (300 ms here); the
// others keep the default limit, since a real IndexedDB read can take longer than 300 ms on a busy machine.
const storages: { name: string; storage?: () => StateStore; before?: (m: SyncManager) => Promise<void>; says: RegExp; silent?: true }[] = [
  { name: 'blocked by an upgrade that never gets through', before: block, says: /did not answer within 300 ms/, silent: true },
  { name: 'damaged (its object store is missing)', before: damage, says: /indexeddb state store failed/ },
  { name: 'written by a newer syncmgr', before: fromTheFuture, says: /newer syncmgr/ },
  { name: 'over quota from the first write', storage: () => faulty('write', 0, quota), says: /QuotaExceededError/ },
  { name: 'over quota after two writes', storage: () => faulty('write', 2, quota), says: /QuotaExceededError/ },
  { name: 'failing every read', storage: () => faulty('get', 0, broken), says: /UnknownError/ },
  { name: 'failing its listing of keys', storage: () => faulty('entries', 0, broken), says: /UnknownError/ },
  { name: 'silent on writes', storage: () => faulty('write', 0, silent), says: /did not answer within 300 ms/, silent: true },
  { name: 'silent on reads', storage: () => faulty('get', 0, silent), says: /did not answer within 300 ms/, silent: true },
];

test.for(storages)('storage $name: one storagefallback, one warning, state in memory; two sessions succeed', async ({ storage, before, says, silent }) => {
  void bed.reports;
  const m = bed.manager({ handlers: [scripted('h')], ...(silent ? { timeouts: { storage: 300 } } : {}), ...(storage ? { storage: storage() } : {}) });
  const fallbacks = tracked(m);
  await before?.(m);
  for (let i = 0; i < 2; i++) {
    const session = m.synchronize({ cookie: cookie({ h: storeScript }) });
    const result = await ended(session);
    expect(result.outcome).toBe('succeeded');
    expect((await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'step' && r.index === 1, STEP_BOUND_MS)).value).toBe(1);
  }
  await m.flush();
  expect(m.storage).toBe('memory');
  expect(fallbacks).toHaveLength(1);
  expect((fallbacks[0]!.error as { code?: string }).code).toBe('E_FAIL');
  expect(`${fallbacks[0]!.error.message} ${String((fallbacks[0]!.error.cause as Error | undefined)?.message)}`).toMatch(says);
  expect(m.log().filter((e) => e.errorId === 'syncmgr:storage-fallback').map((e) => e.level)).toEqual(['warning']);
  expect(m.sessions()).toHaveLength(2);
});

// ---- two managers of one name ----

test('two managers of the same name sync at the same time: both succeed, neither falls back to memory', async () => {
  void bed.reports;
  const name = `chaos-twin-${crypto.randomUUID()}`;
  bed.cleanup(() => void indexedDB.deleteDatabase(stateDatabaseName(name)));
  const a = bed.manager({ name, handlers: [scripted('h')] });
  const b = bed.manager({ name, handlers: [scripted('h')] });
  const fallbacks = [...tracked(a), ...tracked(b)];
  const [ra, rb] = await Promise.all([ended(a.synchronize({ cookie: cookie({ h: storeScript }) })), ended(b.synchronize({ cookie: cookie({ h: storeScript }) }))]);
  expect([ra.outcome, rb.outcome]).toEqual(['succeeded', 'succeeded']);
  await Promise.all([a.flush(), b.flush()]);
  expect([a.storage, b.storage, fallbacks.length]).toEqual(['indexeddb', 'indexeddb', 0]);
});

test('a manager of the same name made after the first one closed reads its choices and its handler keys', async () => {
  void bed.reports;
  const name = `chaos-heir-${crypto.randomUUID()}`;
  bed.cleanup(() => void indexedDB.deleteDatabase(stateDatabaseName(name)));
  const first = bed.manager({ name, handlers: [scripted('h')] });
  first.setItemChecked('h', 'b', false);
  await ended(first.synchronize({ cookie: cookie({ h: { items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], steps: [{ op: 'store-set', key: 'cursor', value: 7 }] } }) }));
  await first.close();
  const second = bed.manager({ name, handlers: [scripted('h')] });
  const session = second.synchronize({ cookie: cookie({ h: { items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], steps: [{ op: 'store-get', key: 'cursor' }] } }) });
  const result = await ended(session);
  expect(result.handlers[0]!.items.map((i) => i.id)).toEqual(['a']);
  expect((await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'step' && r.index === 0, STEP_BOUND_MS)).value).toBe(7);
});

// ---- another handler's keys ----

const KEYS = ['secret', '../owner/secret', 'handler/owner/secret', '/handler/owner/secret', 'owner/secret', '../../handler/owner/secret', 'manager/meta', '..', '\\owner\\secret', '%2e%2e/owner/secret'];

test.for(KEYS)('another handler asking ctx.store for %j gets nothing of the owner\'s keys', async (key) => {
  const reports = bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [scripted('owner'), scripted('other')] });
  const started = Date.now();
  const session = m.synchronize({
    cookie: cookie({
      owner: { steps: [{ op: 'store-set', key: 'secret', value: 'owner-only' }, { op: 'store-set', key: 'handler/owner/secret', value: 'owner-only' }] },
      other: { steps: [{ op: 'wait' }, { op: 'store-get', key }, { op: 'store-keys' }, { op: 'store-entries' }, { op: 'store-delete', key }] },
    }),
  });
  // The owner's keys are set before the other handler asks; the other one waits for the release
  // from the moment it reports synchronize (its wait step listens in that same task).
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'owner' && r.phase === 'returned', STEP_BOUND_MS);
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'other' && r.phase === 'synchronize', STEP_BOUND_MS);
  reports.release(session.id, 'other');
  const result = await within(session.done, SESSION_BOUND_MS, 'the session');
  await noWorkerSince(started);
  expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  // Every step's report has arrived once the one after the last step has (a worker's reports arrive in order).
  await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'other' && r.phase === 'returned', STEP_BOUND_MS);
  const got = (i: number) => reports.all.find((r) => r.sessionId === session.id && r.handlerId === 'other' && r.phase === 'step' && r.index === i)!;
  expect([got(1).ok, got(1).value]).toEqual([true, undefined]);
  expect(got(2).value).toEqual([]);
  expect(got(3).value).toEqual([]);
  expect(got(4).value).toBe(false);
  expect(await liveWorkers()).toBe(0);
});
