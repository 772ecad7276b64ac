// DESIGN.md §2 rules 5 and 6 under Deno: a handler that finishes early closes
// nothing; the session's connections close only once the last handler has
// finished, however it finished (succeeded, failed, crashed with
// crash-handler.ts, timed out with hang-handler.ts, cancelled): the server
// sees the socket closed with 1000 and the early handler's fetch aborted,
// and the manager dispatches `connectionclose` after the last handler's
// `handlerstate` finished event.
import assert from 'node:assert/strict';
import type { ConnectionEvent, HandlerOutcome, HandlerRegistration, HandlerStateEvent, SyncErrorCode } from '../../src/index.ts';
import { deferred } from '../../src/internal/deferred.ts';
import { gated } from '../fixtures/gated-worker.ts';
import { scripted } from '../fixtures/scripted.ts';
import type { RequestRecord, ServerState } from '../fixtures/server.ts';
import type { Script, Step } from '../../workers/fixtures/script.ts';
import { test, type Bed } from './bed.ts';

const crashWorker = () => new Worker(new URL('../../workers/fixtures/crash-handler.ts', import.meta.url), { type: 'module' });
const hangWorker = () => new Worker(new URL('../../workers/fixtures/hang-handler.ts', import.meta.url), { type: 'module' });

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

type Seen = [type: string, who: string, phase?: string];

/** Starts a session of `early` and `last` and records the events whose order matters. */
function start(bed: Bed, last: HandlerRegistration, lastCookie: Script | undefined) {
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: bed.server.wsUrl('live') }, api: { kind: 'fetch', url: bed.server.apiUrl } },
    handlers: [scripted('early'), last],
  });
  const events: Seen[] = [];
  const earlyDone = deferred<HandlerStateEvent>();
  m.addEventListener('handlerstate', (e: HandlerStateEvent) => {
    events.push([e.type, e.handlerId, e.phase]);
    if (e.handlerId === 'early' && e.phase === 'finished') earlyDone.resolve(e);
  });
  m.addEventListener('connectionclose', (e: ConnectionEvent) => events.push([e.type, e.name]));
  const scripts: Record<string, Script> = { early: EARLY };
  if (lastCookie) scripts.last = lastCookie;
  const session = m.synchronize({ cookie: { scripts } });
  const lastFinished = () => events.some(([type, who, phase]) => type === 'handlerstate' && who === 'last' && phase === 'finished');
  return { session, events, earlyDone: earlyDone.promise, lastFinished };
}

/** While `last` still runs and `early` has finished: the socket is open at the server and the early handler's fetch is in flight. */
async function expectNothingClosed(bed: Bed, started: ReturnType<typeof start>): Promise<void> {
  const { session, events, lastFinished } = started;
  await bed.server.waitFor(slowRequest);
  const state = await bed.server.state();
  // This view of the server was taken while the last handler had not finished.
  assert.equal(lastFinished(), false);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.open, s.closeCode]), [['live', true, null]]);
  assert.deepEqual(((r) => [r?.aborted, r?.finished, r?.status])(slowRequest(state)), [false, false, null]);
  assert.deepEqual(events.filter(([type]) => type === 'connectionclose'), []);
  assert.deepEqual(session.openConnections().sort(), ['api', 'live']);
}

/** After `done`: the server saw the socket close with 1000 and the fetch aborted; the closes were dispatched after the last handler finished. */
async function expectAllClosedAfterLast(bed: Bed, started: ReturnType<typeof start>): Promise<void> {
  const { session, events } = started;
  const result = await session.done;
  assert.equal(result.handlers.find((h) => h.id === 'early')?.outcome, 'succeeded');
  const state = await bed.server.waitFor((s) => s.sockets.every((x) => !x.open) && slowRequest(s)?.aborted && s, 2000);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.closeCode, s.closedBy]), [['live', 1000, 'client']]);
  assert.deepEqual(((r) => [r?.aborted, r?.status])(slowRequest(state)), [true, null]);
  const connections = [...result.connections].sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(connections.map((c) => [c.name, c.closeCode, c.abortedRequests]), [['api', null, 1], ['live', 1000, 0]]);
  const lastFinishedAt = events.findIndex(([type, who, phase]) => type === 'handlerstate' && who === 'last' && phase === 'finished');
  const closes = events.flatMap(([type], i) => (type === 'connectionclose' ? [i] : []));
  assert.ok(lastFinishedAt >= 0);
  assert.deepEqual(closes.map((i) => events[i]![1]).sort(), ['api', 'live']);
  assert.ok(Math.min(...closes) > lastFinishedAt, JSON.stringify(events));
}

test('a handler that finishes early closes nothing: the socket stays open and usable, its unawaited fetch stays in flight', async (bed) => {
  const started = start(bed, scripted('last'), lastScript([{ op: 'wait' }]));
  const { session, lastFinished } = started;

  assert.equal((await started.earlyDone).outcome, 'succeeded');
  await bed.reports.stepOf(session.id, 'last', 0);
  await expectNothingClosed(bed, started);

  // The last handler still uses the socket after the early one finished.
  bed.reports.release(session.id, 'last');
  assert.deepEqual((await bed.reports.stepOf(session.id, 'last', 3)).value, ['from-last']);
  const state = await bed.server.state();
  assert.equal(lastFinished(), false);
  assert.deepEqual(state.sockets.map((s) => [s.open, s.closeCode, s.received]), [[true, null, ['from-last']]]);
  assert.deepEqual(((r) => [r?.aborted, r?.finished])(slowRequest(state)), [false, false]);

  bed.reports.release(session.id, 'last');
  await expectAllClosedAfterLast(bed, started);
  assert.equal((await session.done).handlers.find((h) => h.id === 'last')?.outcome, 'succeeded');
});

interface Case {
  how: string;
  outcome: HandlerOutcome;
  /** Code of the last handler's error in the result; null when it has none. */
  code: SyncErrorCode | null;
  /** The registration of `last` (gate: see gated-worker.ts) and its script, if scripted. */
  last(gate: Promise<void>): HandlerRegistration;
  script?: Script;
  /** How the test lets the last handler end: release its wait, cancel the session after step 3, or open the gate. */
  end: 'release' | 'cancel' | 'gate';
}

const cases: Case[] = [
  {
    how: 'throwing', outcome: 'failed', code: 'E_FAIL', last: () => scripted('last'),
    script: lastScript([{ op: 'throw', code: 'E_FAIL', message: 'the last handler gave up' }]), end: 'release',
  },
  { how: 'crashing its worker (crash-handler.ts)', outcome: 'crashed', code: 'E_FAIL', last: (gate) => ({ id: 'last', worker: gated(crashWorker, gate) }), end: 'gate' },
  {
    how: 'hanging past its timeout (hang-handler.ts)', outcome: 'timed-out', code: 'E_TIMEOUT',
    last: (gate) => ({ id: 'last', worker: gated(hangWorker, gate), timeouts: { handler: 2500 } }), end: 'gate',
  },
  {
    how: 'cancelled (it stops on its signal)', outcome: 'cancelled', code: 'E_ABORT',
    last: () => scripted('last'), script: lastScript([{ op: 'wait-abort' }]), end: 'cancel',
  },
];

for (const c of cases) {
  test(`connections close only after the last handler finished: last handler ${c.how}`, async (bed) => {
    const gate = deferred<void>();
    const started = start(bed, c.last(gate.promise), c.script);
    const { session, lastFinished } = started;

    assert.equal((await started.earlyDone).outcome, 'succeeded');
    if (c.script) await bed.reports.stepOf(session.id, 'last', 0);
    await expectNothingClosed(bed, started);

    if (c.end === 'gate') gate.resolve();
    else bed.reports.release(session.id, 'last');
    if (c.end === 'cancel') {
      await bed.reports.stepOf(session.id, 'last', 3);
      assert.equal(lastFinished(), false);
      session.cancel();
    }

    await expectAllClosedAfterLast(bed, started);
    const last = (await session.done).handlers.find((h) => h.id === 'last')!;
    assert.equal(last.outcome, c.outcome);
    assert.equal((last.error as { code?: string } | null)?.code ?? null, c.code);
  });
}
