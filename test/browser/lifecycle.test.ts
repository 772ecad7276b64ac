/**
 * The session lifecycle (DESIGN.md §3): handlers that decline or have nothing
 * selected never synchronize and still count as finished; phases come in
 * order; initialize learns the session's facts; the `items` option; sessions
 * queue; `close()`; workers that never handshake, fail to start, vanish,
 * crash or hang all end their session; bad options are refused up front.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { cookie, inlineHandler, limitFromSpawn, noLiveWorkers, scripted, scriptedWorker, testBed, type Script } from '../fixtures/harness.ts';
import {
  SyncError, SyncManager, type HandlerRegistration, type HandlerStateEvent, type SessionEvent, type SyncManagerOptions,
} from '../../src/index.ts';

const bed = testBed();

function phases(events: readonly HandlerStateEvent[], handlerId: string): string[] {
  return events.filter((e) => e.handlerId === handlerId).map((e) => e.phase);
}

function handlerStates(target: SyncManager): HandlerStateEvent[] {
  const events: HandlerStateEvent[] = [];
  target.addEventListener('handlerstate', (e) => events.push(e));
  return events;
}

/** Waits for the `finished` handlerstate event of a handler. */
function finished(target: SyncManager, handlerId: string): Promise<HandlerStateEvent> {
  return new Promise((resolve) => {
    const listener = (e: HandlerStateEvent) => {
      if (e.handlerId !== handlerId || e.phase !== 'finished') return;
      target.removeEventListener('handlerstate', listener);
      resolve(e);
    };
    target.addEventListener('handlerstate', listener);
  });
}

/** Calls `fn` and answers what it threw (fails when it did not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** The scripted handler's worker, counting how often it is created. */
function countedWorker(): { registration: (id: string) => HandlerRegistration; count: () => number } {
  let n = 0;
  return {
    registration: (id) => ({
      id,
      worker: () => {
        n += 1;
        return scriptedWorker();
      },
    }),
    count: () => n,
  };
}

// ---- handlers that finish without synchronizing ----

const early: { rule: string; script: Script; uncheck?: boolean; outcome: string; endedIn: string }[] = [
  { rule: 'declines in initialize', script: { decline: 'initialize' }, outcome: 'declined', endedIn: 'initializing' },
  { rule: 'lists its items unchecked', script: { items: [{ id: 'a', name: 'A', checked: false }, { id: 'b', name: 'B', checked: false }] }, outcome: 'nothing-selected', endedIn: 'enumerating' },
  { rule: 'has its only item unchecked by setItemChecked', script: {}, uncheck: true, outcome: 'nothing-selected', endedIn: 'enumerating' },
  { rule: 'declines in prepare', script: { decline: 'prepare' }, outcome: 'declined', endedIn: 'preparing' },
];

test.for(early)('a handler that $rule never synchronizes and counts as finished; the other handler succeeds and the connections close after both', async ({ script, uncheck, outcome, endedIn }) => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } },
    handlers: [scripted('early'), scripted('worker')],
  });
  if (uncheck) m.setItemChecked('early', 'a', false);
  const earlyDone = finished(m, 'early');
  const session = m.synchronize({
    cookie: cookie({
      early: script,
      worker: { steps: [{ op: 'establish', name: 'live' }, { op: 'wait' }, { op: 'progress', item: 'a', update: { status: 'succeeded' } }] },
    }),
  });
  // The early handler has finished while the other one holds the connection: it stays open (rule 5).
  expect((await earlyDone).outcome).toBe(outcome);
  expect((await reports.waitStep('worker', 0)).ok).toBe(true);
  expect(session.openConnections()).toEqual(['live']);
  expect((await server.state()).sockets.map((s) => s.open)).toEqual([true]);
  // The early handler's worker lives until the session ends: once it has answered a flush, every
  // report it posted has arrived, so the checks below see all it did.
  await reports.flush(session.id, 'early');
  reports.release(session.id, 'worker');

  const result = await session.done;
  expect(result.handlers.map((h) => [h.id, h.outcome, h.endedIn])).toEqual([
    ['early', outcome, endedIn],
    ['worker', 'succeeded', 'synchronizing'],
  ]);
  expect(result.outcome).toBe('succeeded');
  expect(reports.of('early', 'synchronize')).toEqual([]);
  // items() is sent right behind initialize(); the worker must not run it for a handler that declined.
  if (endedIn === 'initializing') expect(reports.of('early', 'items')).toEqual([]);
  else expect(reports.of('early', 'items')).toHaveLength(1);
  expect(result.connections.map((c) => [c.name, c.handlers, c.closeCode])).toEqual([['live', ['worker'], 1000]]);
  const sockets = await server.waitFor((s) => s.sockets.every((x) => !x.open) && s.sockets);
  expect(sockets.map((s) => [s.closeCode, s.closedBy])).toEqual([[1000, 'client']]);
  await noLiveWorkers();
});

test('handler phases are emitted in order: starting, initializing, enumerating, preparing, synchronizing, finished', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1'), scripted('shy')] });
  const events = handlerStates(m);
  const session = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'progress', item: 'a', update: { status: 'succeeded' } }] }, shy: { decline: 'prepare' } }) });
  await session.done;
  expect(phases(events, 'h1')).toEqual(['starting', 'initializing', 'enumerating', 'preparing', 'synchronizing', 'finished']);
  expect(phases(events, 'shy')).toEqual(['starting', 'initializing', 'enumerating', 'preparing', 'finished']);
  expect(events.filter((e) => e.phase !== 'finished').every((e) => e.outcome === null && e.error === null)).toBe(true);
  const last = events.filter((e) => e.phase === 'finished').map((e) => [e.handlerId, e.outcome, e.sessionId]);
  expect(last.sort()).toEqual([['h1', 'succeeded', session.id], ['shy', 'declined', session.id]]);
});

// ---- what initialize learns ----

test.for([
  { trigger: 'manual', given: undefined, expected: true },
  { trigger: 'online', given: undefined, expected: false },
  { trigger: 'online', given: true, expected: true },
  { trigger: 'manual', given: false, expected: false },
] as const)('initialize receives trigger $trigger with mayBotherUser $expected (given: $given) and the cookie', async ({ trigger, given, expected }) => {
  const reports = bed.reports;
  // Registered for the trigger: a session without a handler list takes those registered for its trigger.
  const m = bed.manager({ triggers: { online: false }, handlers: [scripted('h1', { triggers: [trigger] })] });
  const data = { scripts: { h1: { steps: [{ op: 'inspect', on: 'none' }] } }, note: 'from the app', list: [1, 2, 3] };
  const session = m.synchronize(given === undefined ? { trigger, cookie: data } : { trigger, cookie: data, mayBotherUser: given });
  await session.done;
  const init = await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'initialize');
  expect(init.sessionId).toBe(session.id);
  expect(init.value).toEqual({ trigger, mayBotherUser: expected });
  const context = JSON.parse(((await reports.waitStep('h1', 0)).value as { context: string }).context);
  expect(context).toMatchObject({ sessionId: session.id, handlerId: 'h1', trigger, mayBotherUser: expected, cookie: data });
});

test('the items option of synchronize() restricts a handler to exactly those items, whatever the user chose', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const items = [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C', checked: false }];
  m.setItemChecked('h1', 'a', false);
  const session = m.synchronize({ items: { h1: ['c', 'a'] }, cookie: cookie({ h1: { items }, h2: { items } }) });
  const result = await session.done;
  expect((await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'synchronize')).value).toEqual(['a', 'c']);
  expect((await reports.wait((r) => r.handlerId === 'h1' && r.phase === 'prepare')).value).toEqual(['a', 'c']);
  expect(result.handlers[0]!.items.map((i) => i.id)).toEqual(['a', 'c']);
  // A handler the option does not name keeps its selection.
  expect((await reports.wait((r) => r.handlerId === 'h2' && r.phase === 'synchronize')).value).toEqual(['a', 'b']);
});

test('handler ids that are names of Object.prototype are ids like any other, also in the items option', async () => {
  const ids = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
  const m = bed.manager({ handlers: ids.map((id) => scripted(id)) });
  const items = [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }];
  const scripts = Object.fromEntries(ids.map((id) => [id, { items }]));
  // JSON.parse makes `__proto__` an own key, as user data would.
  const only = JSON.parse('{"toString": ["b"], "__proto__": ["a"]}') as Record<string, string[]>;
  const result = await m.synchronize({ items: only, cookie: cookie(scripts) }).done;
  expect(result.handlers.map((h) => [h.id, h.outcome, h.items.map((i) => i.id)])).toEqual([
    ['constructor', 'succeeded', ['a', 'b']],
    ['toString', 'succeeded', ['b']],
    ['__proto__', 'succeeded', ['a']],
    ['hasOwnProperty', 'succeeded', ['a', 'b']],
  ]);
  await noLiveWorkers();
});

// ---- sessions one at a time, and close() ----

test("sessions are queued: a second synchronize() starts only after the first one's done", async () => {
  const reports = bed.reports;
  const workers = countedWorker();
  const m = bed.manager({ handlers: [workers.registration('h1')] });
  const order: string[] = [];
  const log = (e: SessionEvent) => order.push(`${e.type}:${e.session === s1 ? 1 : 2}`);
  m.addEventListener('sessionstart', log);
  m.addEventListener('sessionend', log);
  // Distinct cookies: equal ones would merge the second request into the first.
  const s1 = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'wait' }] } }) });
  const s2 = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'wait', ms: 600_000 }] } }) });
  await reports.wait((r) => r.sessionId === s1.id && r.phase === 'synchronize');
  expect([s1.state, s2.state]).toEqual(['running', 'queued']);
  expect(m.activeSession).toBe(s1);
  // The queued session has no worker yet, so no report of it can come.
  expect(workers.count()).toBe(1);
  expect(reports.all.filter((r) => r.sessionId === s2.id)).toEqual([]);

  reports.release(s1.id, 'h1');
  await s1.done;
  await reports.wait((r) => r.sessionId === s2.id && r.phase === 'synchronize');
  reports.release(s2.id, 'h1');
  await s2.done;
  expect(order).toEqual(['sessionstart:1', 'sessionend:1', 'sessionstart:2', 'sessionend:2']);
  expect([(await s1.done).outcome, (await s2.done).outcome]).toEqual(['succeeded', 'succeeded']);
});

test('manager.close() cancels the running and the queued sessions, is idempotent, and then synchronize() throws E_UNEXPECTED', async () => {
  const reports = bed.reports;
  const workers = countedWorker();
  const m = bed.manager({ handlers: [workers.registration('h1')] });
  const s1 = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'wait-abort' }] } }) });
  const s2 = m.synchronize({ cookie: cookie({ h1: {} }) });
  await reports.wait((r) => r.sessionId === s1.id && r.phase === 'synchronize');

  const closing = m.close();
  expect(m.close()).toBe(closing);
  await closing;

  expect([s1.state, s2.state]).toEqual(['ended', 'ended']);
  const [r1, r2] = [await s1.done, await s2.done];
  expect([r1.outcome, r1.handlers[0]!.outcome]).toEqual(['cancelled', 'cancelled']);
  expect((await reports.waitStep('h1', 0)).value).toMatchObject({ name: 'SyncError', code: 'E_ABORT' });
  expect([r2.outcome, r2.handlers[0]!.outcome]).toEqual(['cancelled', 'cancelled']);
  expect(workers.count()).toBe(1); // the queued session started no worker
  expect(reports.all.filter((r) => r.sessionId === s2.id)).toEqual([]);
  await noLiveWorkers();

  await m.close();
  const error = thrown(() => m.synchronize());
  expect(SyncError.is(error, 'E_UNEXPECTED')).toBe(true);
  expect(error.message).toContain(m.name);
});

// ---- workers that misbehave ----

test('a worker that never calls defineHandler fails with E_TIMEOUT after timeouts.ready, outcome crashed', async () => {
  const m = bed.manager({
    handlers: [
      // script.ts loads fine but never handshakes.
      { id: 'silent', worker: () => new Worker(new URL('../../workers/fixtures/script.ts', import.meta.url), { type: 'module' }), timeouts: { ready: 500 } },
      scripted('ok'),
    ],
  });
  const result = await m.synchronize().done;
  const silent = result.handlers[0]!;
  expect([silent.outcome, silent.endedIn]).toEqual(['crashed', 'starting']);
  expect(SyncError.is(silent.error, 'E_TIMEOUT')).toBe(true);
  expect(silent.error!.message).toContain("'silent'");
  expect(silent.error!.message).toContain('500 ms');
  expect(silent.error!.message).toContain('defineHandler');
  expect(result.handlers[1]!.outcome).toBe('succeeded');
  expect(result.outcome).toBe('failed');
  await noLiveWorkers();
});

test('a worker factory that throws gives outcome crashed with E_FAIL and its cause', async () => {
  const boom = new Error('no workers in this context');
  const m = bed.manager({ handlers: [{ id: 'broken', worker: () => { throw boom; } }, scripted('ok')] });
  const result = await m.synchronize().done;
  const broken = result.handlers[0]!;
  expect([broken.outcome, broken.endedIn]).toEqual(['crashed', 'starting']);
  expect(SyncError.is(broken.error, 'E_FAIL')).toBe(true);
  expect(broken.error!.message).toContain("'broken'");
  expect(broken.error!.cause).toBe(boom);
  expect(result.handlers[1]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('a worker that calls self.close() once it holds its Web Lock is detected through the lock at once, not at a time limit', async () => {
  void bed.reports; // listening before the session starts
  // timeouts.ready (8 s) covers the handshake only; once the worker holds its lock (synchronize() waits for it), the lock tells of its end at once.
  const m = bed.manager({ handlers: [{ ...scripted('h1'), timeouts: { ready: 8000 } }, scripted('ok')] });
  // Timed from the handler's first progress (it holds its lock by then), not from the spawn: the worker's start is no part of it.
  let t0 = 0;
  m.addEventListener('progress', (e) => (t0 ||= e.handlerId === 'h1' ? performance.now() : 0));
  const session = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'progress', item: 'a', update: { status: 'updating' } }, { op: 'wait', ms: 300 }, { op: 'close-self' }] } }) });
  const result = await session.done;
  expect(t0).toBeGreaterThan(0);
  expect(performance.now() - t0).toBeLessThan(4000);
  const h1 = result.handlers[0]!;
  expect([h1.outcome, h1.endedIn]).toEqual(['crashed', 'synchronizing']);
  expect(SyncError.is(h1.error, 'E_FAIL')).toBe(true);
  expect(h1.error!.message).toMatch(/'h1': its worker ended unexpectedly/);
  expect(h1.items.map((i) => i.status)).toEqual(['failed']);
  expect(result.handlers[1]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('a worker that ends itself before it holds its Web Lock looks like a busy one: the handler time limit ends it, timed-out', { timeout: 60_000 }, async () => {
  // close() right after defineHandler(): the lock request never went out. Nothing tells this worker
  // from one busy with synchronous work (next test), so no shorter limit may declare it dead.
  const gone = inlineHandler('gone', `
    defineHandler({ initialize: () => new Promise(() => {}), items: () => [{ id: 'a', name: 'A' }], synchronize() {} });
    self.close();
  `);
  // The limit runs from the spawn: it leaves room for the worker's start, so the worker is in initialize() when it passes.
  const m = bed.manager({ handlers: [{ ...gone, timeouts: { handler: await limitFromSpawn(6000) } }, scripted('ok')] });
  const result = await m.synchronize().done;
  const h = result.handlers[0]!;
  expect([h.outcome, h.endedIn]).toEqual(['timed-out', 'initializing']);
  expect(SyncError.is(h.error, 'E_TIMEOUT')).toBe(true);
  expect(result.handlers[1]!.outcome).toBe('succeeded');
  await noLiveWorkers();
});

test('a worker busy with synchronous work past timeouts.ready right after defineHandler() (a large WASM module, say) is alive, not crashed', async () => {
  void bed.reports; // listening before the session starts
  // timeouts.ready leaves room for the worker's start (the handshake is sent before the busy part); the busy part outlasts it.
  const READY = await limitFromSpawn(500);
  const busy = inlineHandler('busy', `
    defineHandler({ items: () => [{ id: 'a', name: 'A' }], synchronize: (ids, ctx) => report(ctx, 'synced', ids) });
    const end = Date.now() + ${READY} + 1000;
    while (Date.now() < end) { /* compiling, say */ }
  `);
  const m = bed.manager({ handlers: [{ ...busy, timeouts: { ready: READY } }] });
  const session = m.synchronize();
  const result = await session.done;
  expect(result.handlers.map((h) => [h.outcome, h.error?.message ?? null])).toEqual([['succeeded', null]]);
  expect((await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'synced')).value).toEqual(['a']);
  await noLiveWorkers();
});

test("a worker's crash is its outcome only: the page sees no uncaught error", async () => {
  const pageErrors: string[] = [];
  const onError = (event: ErrorEvent) => pageErrors.push(event.message);
  window.addEventListener('error', onError);
  bed.cleanup(() => window.removeEventListener('error', onError));
  const crasher = inlineHandler('crasher', `
    defineHandler({ items: () => [{ id: 'a', name: 'A' }], synchronize: () => { setTimeout(() => { throw new Error('crash for the page test'); }); return new Promise(() => {}); } });
  `);
  const m = bed.manager({ handlers: [crasher] });
  const result = await m.synchronize().done;
  expect([result.handlers[0]!.outcome, result.handlers[0]!.error?.message]).toEqual(['crashed', expect.stringContaining('crash for the page test')]);
  // A later task: an error event reported to the page would have been dispatched by now.
  await new Promise((r) => setTimeout(r, 200));
  expect(pageErrors).toEqual([]);
  await noLiveWorkers();
});

test('a worker whose Web Locks refuse its life lock says so and is not taken for dead when timeouts.ready passes', async () => {
  // The worker's LockManager refuses (as in an opaque origin); the handler outlives timeouts.ready, which
  // itself leaves room for the worker's start.
  const READY = await limitFromSpawn(500);
  const refused = inlineHandler('refused', `
    LockManager.prototype.request = () => Promise.reject(new DOMException('refused by the test', 'SecurityError'));
    defineHandler({ items: () => [{ id: 'a', name: 'A' }], synchronize: () => new Promise((r) => setTimeout(r, ${READY} + 500)) });
  `);
  const m = bed.manager({ handlers: [{ ...refused, timeouts: { ready: READY } }] });
  const result = await m.synchronize().done;
  expect(result.handlers.map((h) => [h.outcome, h.error?.message ?? null])).toEqual([['succeeded', null]]);
});

test('a handler whose initialize() throws is not asked for its items, and fails in initializing', async () => {
  void bed.reports; // listening before the session starts
  const thrower = inlineHandler('thrower', `
    const bus2 = new BroadcastChannel('syncmgr-inline-items');
    defineHandler({
      initialize() { throw new Error('no init'); },
      items() { bus2.postMessage('items called'); return [{ id: 'a', name: 'A' }]; },
      synchronize() {},
    });
  `);
  const heard: unknown[] = [];
  const bus = new BroadcastChannel('syncmgr-inline-items');
  bus.onmessage = (event) => heard.push(event.data);
  const m = bed.manager({ handlers: [thrower] });
  const result = await m.synchronize().done;
  await new Promise((r) => setTimeout(r, 100));
  bus.close();
  const h = result.handlers[0]!;
  expect([h.outcome, h.endedIn, h.error?.message]).toEqual(['failed', 'initializing', 'no init']);
  expect(heard).toEqual([]);
});

test('the crash-handler fixture finishes crashed, its session ends and no worker is left', async () => {
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } },
    handlers: [{ id: 'crasher', worker: () => new Worker(new URL('../../workers/fixtures/crash-handler.ts', import.meta.url), { type: 'module' }) }],
  });
  const result = await m.synchronize().done;
  const crasher = result.handlers[0]!;
  expect([crasher.outcome, crasher.endedIn, result.outcome]).toEqual(['crashed', 'synchronizing', 'failed']);
  expect(SyncError.is(crasher.error, 'E_FAIL')).toBe(true);
  expect(crasher.error!.message).toContain('deliberate uncaught error');
  expect(crasher.items.map((i) => `${i.id}:${i.status}`)).toEqual(['a:failed']);
  await noLiveWorkers();
});

test('the hang-handler fixture finishes timed-out with E_TIMEOUT at its timeouts.handler, its session ends and no worker is left', { timeout: 60_000 }, async () => {
  // The limit runs from the spawn, so it leaves room for the worker's start: the handler hangs in synchronize() when it passes.
  const m = bed.manager({
    handlers: [{ id: 'hanger', timeouts: { handler: await limitFromSpawn(6000) }, worker: () => new Worker(new URL('../../workers/fixtures/hang-handler.ts', import.meta.url), { type: 'module' }) }],
  });
  const result = await m.synchronize().done;
  const hanger = result.handlers[0]!;
  expect([hanger.outcome, hanger.endedIn, result.outcome]).toEqual(['timed-out', 'synchronizing', 'failed']);
  expect(SyncError.is(hanger.error, 'E_TIMEOUT')).toBe(true);
  expect(hanger.error!.message).toContain("'hanger'");
  expect(hanger.items.map((i) => `${i.id}:${i.status}`)).toEqual(['a:failed']);
  await noLiveWorkers();
});

// ---- bad options ----

const worker = scriptedWorker;
const h = (id: string, extra: Record<string, unknown> = {}) => ({ id, worker, ...extra });

test.for([
  { what: 'no name', options: { handlers: [h('h1')] }, mentions: ['`name`'] },
  { what: 'a name with spaces', options: { name: 'my app', handlers: [h('h1')] }, mentions: ['`name`', '"my app"'] },
  { what: 'no handlers', options: { name: 'app', handlers: [] }, mentions: ['`handlers`'] },
  { what: 'an unknown option', options: { name: 'app', handlers: [h('h1')], colour: 'red' }, mentions: ["'colour'"] },
  { what: 'a zero time limit', options: { name: 'app', handlers: [h('h1')], timeouts: { ready: 0 } }, mentions: ['`timeouts`', 'ready'] },
  { what: 'an unknown time limit', options: { name: 'app', handlers: [h('h1')], timeouts: { idle: 5 } }, mentions: ["'idle'"] },
  { what: 'a default endpoint that is not configured', options: { name: 'app', handlers: [h('h1')], defaultEndpoint: 'api' }, mentions: ['`defaultEndpoint`', '"api"'] },
  { what: 'an endpoint of an unknown kind', options: { name: 'app', endpoints: { api: { kind: 'ftp', url: '/x' } }, handlers: [h('h1')] }, mentions: ["'api'", 'kind'] },
  { what: 'a fetch endpoint with a ws: url', options: { name: 'app', endpoints: { api: { kind: 'fetch', url: 'ws://host/' } }, handlers: [h('h1')] }, mentions: ["'api'", 'url'] },
  { what: 'a handler without worker', options: { name: 'app', handlers: [{ id: 'h1' }] }, mentions: ["'h1'", 'worker'] },
  { what: 'a handler id used twice', options: { name: 'app', handlers: [h('h1'), h('h1')] }, mentions: ["'h1'", 'twice'] },
  { what: 'a handler allowed an unknown endpoint', options: { name: 'app', handlers: [h('h1', { endpoints: ['nope'] })] }, mentions: ["'h1'", "'nope'"] },
  { what: 'a handler with an unknown option', options: { name: 'app', handlers: [h('h1', { priority: 1 })] }, mentions: ['handlers[0]', "'priority'"] },
  { what: 'a handler with a session-wide time limit', options: { name: 'app', handlers: [h('h1', { timeouts: { close: 5 } })] }, mentions: ["'h1'", "'close'"] },
  { what: 'a handler name over 32 characters', options: { name: 'app', handlers: [h('h1', { name: 'n'.repeat(33) })] }, mentions: ["'h1'", 'name'] },
])('new SyncManager() with $what throws E_INVALIDARG naming the option', ({ options, mentions }) => {
  const error = thrown(() => new SyncManager(options as unknown as SyncManagerOptions));
  expect(SyncError.is(error, 'E_INVALIDARG'), String(error)).toBe(true);
  for (const word of mentions) expect(error.message).toContain(word);
});

test.for([
  { what: 'a non-object', options: 'manual', mentions: ['synchronize(options)'] },
  { what: 'an unknown option', options: { priority: 1 }, mentions: ["'priority'"] },
  { what: 'an unknown trigger', options: { trigger: 'sometimes' }, mentions: ['trigger', '"sometimes"'] },
  { what: 'an unregistered handler', options: { handlers: ['ghost'] }, mentions: ['handlers', '"ghost"'] },
  { what: 'handlers that is not an array', options: { handlers: 'h1' }, mentions: ['handlers'] },
  { what: 'a handler listed twice', options: { handlers: ['h1', 'h1'] }, mentions: ['handlers', 'twice'] },
  { what: 'items for an unregistered handler', options: { items: { ghost: ['a'] } }, mentions: ['items', '"ghost"'] },
  { what: 'items that are not an array', options: { items: { h1: 'a' } }, mentions: ["items['h1']"] },
  { what: 'items that are an array', options: { items: ['a'] }, mentions: ['items'] },
  { what: 'a cookie that cannot be cloned', options: { cookie: { f: () => 1 } }, mentions: ['cookie'] },
  { what: 'a mayBotherUser that is not a boolean', options: { mayBotherUser: 'yes' }, mentions: ['mayBotherUser'] },
  { what: 'a signal that is not an AbortSignal', options: { signal: {} }, mentions: ['signal'] },
])('synchronize() with $what throws E_INVALIDARG naming the option, and queues nothing', async ({ options, mentions }) => {
  const workers = countedWorker();
  const m = bed.manager({ handlers: [workers.registration('h1'), workers.registration('h2')] });
  const starts: SessionEvent[] = [];
  m.addEventListener('sessionstart', (e) => starts.push(e));
  const error = thrown(() => m.synchronize(options as never));
  expect(SyncError.is(error, 'E_INVALIDARG'), String(error)).toBe(true);
  for (const word of mentions) expect(error.message).toContain(word);
  // A valid session afterwards is the only one that runs.
  const valid = m.synchronize();
  await valid.done;
  expect(starts.map((e) => e.session)).toEqual([valid]);
  expect(workers.count()).toBe(2);
});
