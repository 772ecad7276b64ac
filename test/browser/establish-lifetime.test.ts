// DESIGN.md §2 rules 5 and 6: a handler that finishes early closes nothing;
// the session's connections close only once the last handler has finished,
// however it finished (succeeded, failed, crashed, timed out, cancelled):
// WebSocket close code 1000, in-flight fetches aborted, `connectionclose`
// events after the last handler's `handlerstate` finished event.
import { expect, test } from 'vitest';
import { TestServer, type RequestRecord, type ServerState } from '../fixtures/server.ts';
import { limitFromSpawn, noLiveWorkers, scripted, testBed, type Script } from '../fixtures/harness.ts';
import { gated } from '../fixtures/gated-worker.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type {
  ConnectionEvent, HandlerRegistration, HandlerStateEvent, HandlerOutcome, SyncErrorCode, SyncSession,
} from '../../src/index.ts';
import { deferred } from '../../src/internal/deferred.ts';

const bed = testBed();

const crashWorker = () => new Worker(new URL('../../workers/fixtures/crash-handler.ts', import.meta.url), { type: 'module' });
const hangWorker = () => new Worker(new URL('../../workers/fixtures/hang-handler.ts', import.meta.url), { type: 'module' });
// A handler's time limit runs from its worker's spawn: room to start, then the hang. The test must see
// the connections still open before it passes, through the page's requests to the server, which a busy
// machine (Firefox's parent process, above all) has been seen to hold for seconds.
const HANG_LIMIT = await limitFromSpawn(10_000);

/** Finishes first: opens both connections and fires a slow fetch it never awaits. */
const EARLY: Script = {
  steps: [
    { op: 'establish', name: 'live' },
    { op: 'establish', name: 'api' },
    { op: 'fetch', on: 'api', path: 'slow?ms=60000', noAwait: true },
  ],
};

/** The last handler: waits for the test, uses the socket, then ends with `end`. */
function lastScript(end: Step[]): Script {
  return {
    steps: [
      { op: 'establish', name: 'live' }, // 0
      { op: 'wait' }, // 1
      { op: 'send', on: 'live', data: 'from-last' }, // 2
      { op: 'expect', on: 'live', count: 1 }, // 3
      ...end, // 4…
    ],
  };
}

const slowRequest = (s: ServerState): RequestRecord | undefined => s.requests.find((r) => r.path === 'slow');

interface Seen {
  type: string;
  handlerId?: string;
  phase?: string;
  outcome?: HandlerOutcome | null;
  name?: string;
}

/** Starts a session of `early` and `last` and records the events that order matters for. */
function start(server: TestServer, last: HandlerRegistration, lastCookie: Script | undefined) {
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, api: { kind: 'fetch', url: server.apiUrl } },
    handlers: [scripted('early'), last],
  });
  const events: Seen[] = [];
  const finished = new Map([['early', deferred<HandlerStateEvent>()], ['last', deferred<HandlerStateEvent>()]]);
  m.addEventListener('handlerstate', (e: HandlerStateEvent) => {
    events.push({ type: e.type, handlerId: e.handlerId, phase: e.phase, outcome: e.outcome });
    if (e.phase === 'finished') finished.get(e.handlerId)?.resolve(e);
  });
  m.addEventListener('connectionclose', (e: ConnectionEvent) => events.push({ type: e.type, name: e.name }));
  const scripts: Record<string, Script> = { early: EARLY };
  if (lastCookie) scripts.last = lastCookie;
  const session = m.synchronize({ cookie: { scripts } });
  const lastFinished = () => events.some((e) => e.type === 'handlerstate' && e.handlerId === 'last' && e.phase === 'finished');
  return { session, events, earlyDone: finished.get('early')!.promise, lastFinished };
}

/** While `last` still runs and `early` has finished: the socket is open and the early handler's fetch is in flight. */
async function expectNothingClosed(server: TestServer, session: SyncSession, events: Seen[], lastFinished: () => boolean): Promise<void> {
  await server.waitFor(slowRequest);
  const state = await server.state();
  // This view of the server was taken while the last handler had not finished.
  expect(lastFinished()).toBe(false);
  expect(state.sockets.map((s) => [s.channel, s.open, s.closeCode])).toEqual([['live', true, null]]);
  expect(slowRequest(state)).toMatchObject({ aborted: false, finished: false, status: null });
  expect(events.filter((e) => e.type === 'connectionclose')).toEqual([]);
  expect(session.openConnections().sort()).toEqual(['api', 'live']);
}

/** After `done`: everything closed (1000), the fetch aborted, no worker left, closes reported after the last handler finished. */
async function expectAllClosedAfterLast(server: TestServer, session: SyncSession, events: Seen[]): Promise<void> {
  const result = await session.done;
  expect(result.handlers.find((h) => h.id === 'early')?.outcome).toBe('succeeded');
  const state = await server.waitFor((s) => s.sockets.every((x) => !x.open) && slowRequest(s)?.aborted && s, 2000);
  expect(state.sockets.map((s) => [s.channel, s.closeCode])).toEqual([['live', 1000]]);
  expect(slowRequest(state)).toMatchObject({ aborted: true, status: null });
  const connections = [...result.connections].sort((a, b) => a.name.localeCompare(b.name));
  expect(connections.map((c) => [c.name, c.closeCode, c.abortedRequests])).toEqual([['api', null, 1], ['live', 1000, 0]]);
  await noLiveWorkers();

  const lastFinishedAt = events.findIndex((e) => e.type === 'handlerstate' && e.handlerId === 'last' && e.phase === 'finished');
  const closes = events.flatMap((e, i) => (e.type === 'connectionclose' ? [i] : []));
  expect(lastFinishedAt).toBeGreaterThanOrEqual(0);
  expect(closes.map((i) => events[i]!.name).sort()).toEqual(['api', 'live']);
  expect(Math.min(...closes)).toBeGreaterThan(lastFinishedAt);
}

test('a handler that finishes early closes nothing: the socket stays open and usable, its unawaited fetch stays in flight', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const { session, events, earlyDone, lastFinished } = start(server, scripted('last'), lastScript([{ op: 'wait' }]));

  expect((await earlyDone).outcome).toBe('succeeded');
  await reports.stepOf(session.id, 'last', 0);
  await expectNothingClosed(server, session, events, lastFinished);

  // The last handler still uses the socket after the early one finished.
  reports.release(session.id, 'last');
  expect((await reports.stepOf(session.id, 'last', 3)).value).toEqual(['from-last']);
  const state = await server.state();
  expect(lastFinished()).toBe(false);
  expect(state.sockets.map((s) => [s.open, s.closeCode, s.received])).toEqual([[true, null, ['from-last']]]);
  expect(slowRequest(state)).toMatchObject({ aborted: false, finished: false });

  reports.release(session.id, 'last');
  await expectAllClosedAfterLast(server, session, events);
  expect((await session.done).handlers.find((h) => h.id === 'last')?.outcome).toBe('succeeded');
});

interface Case {
  how: string;
  outcome: HandlerOutcome;
  /** Code of the last handler's error in the result; null when it has none. */
  code: SyncErrorCode | null;
  /** The registration of `last` (gate: see {@link gated}) and its script, if scripted. */
  last(gate: Promise<void>): HandlerRegistration;
  script?: Script;
  /** How the test lets the last handler end: release its wait, cancel the session after step 3, or open the gate. */
  end: 'release' | 'cancel' | 'gate';
}

const cases: Case[] = [
  { how: 'succeeding', outcome: 'succeeded', code: null, last: () => scripted('last'), script: lastScript([]), end: 'release' },
  {
    how: 'throwing', outcome: 'failed', code: 'E_FAIL', last: () => scripted('last'),
    script: lastScript([{ op: 'throw', code: 'E_FAIL', message: 'the last handler gave up' }]), end: 'release',
  },
  { how: 'crashing its worker (step crash)', outcome: 'crashed', code: 'E_FAIL', last: () => scripted('last'), script: lastScript([{ op: 'crash' }]), end: 'release' },
  { how: 'crashing its worker (crash-handler.ts)', outcome: 'crashed', code: 'E_FAIL', last: (gate) => ({ id: 'last', worker: gated(crashWorker, gate) }), end: 'gate' },
  {
    how: 'hanging past its timeout (step hang)', outcome: 'timed-out', code: 'E_TIMEOUT',
    last: () => scripted('last', { timeouts: { handler: HANG_LIMIT } }), script: lastScript([{ op: 'hang' }]), end: 'release',
  },
  {
    how: 'hanging past its timeout (hang-handler.ts)', outcome: 'timed-out', code: 'E_TIMEOUT',
    last: (gate) => ({ id: 'last', worker: gated(hangWorker, gate), timeouts: { handler: HANG_LIMIT } }), end: 'gate',
  },
  {
    how: 'cancelled (it stops on its signal)', outcome: 'cancelled', code: 'E_ABORT',
    last: () => scripted('last'), script: lastScript([{ op: 'wait-abort' }]), end: 'cancel',
  },
  {
    how: 'cancelled (it ignores its signal, ended after timeouts.cancel)', outcome: 'cancelled', code: 'E_ABORT',
    last: () => scripted('last', { timeouts: { cancel: 1000 } }), script: lastScript([{ op: 'hang' }]), end: 'cancel',
  },
];

test.each(cases)('connections close only after the last handler finished: last handler $how', { timeout: 60_000 }, async (c) => {
  const reports = bed.reports;
  const server = TestServer.create();
  const gate = deferred<void>();
  const { session, events, earlyDone, lastFinished } = start(server, c.last(gate.promise), c.script);

  expect((await earlyDone).outcome).toBe('succeeded');
  if (c.script) await reports.stepOf(session.id, 'last', 0);
  await expectNothingClosed(server, session, events, lastFinished);

  if (c.end === 'gate') gate.resolve();
  else reports.release(session.id, 'last');
  if (c.end === 'cancel') {
    await reports.stepOf(session.id, 'last', 3);
    expect(lastFinished()).toBe(false);
    session.cancel();
  }

  await expectAllClosedAfterLast(server, session, events);
  const last = (await session.done).handlers.find((h) => h.id === 'last')!;
  expect(last.outcome).toBe(c.outcome);
  expect((last.error as { code?: string } | null)?.code ?? null).toBe(c.code);
});
