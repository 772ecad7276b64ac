/**
 * Chaos, the handler's side: every shape of rejection from initialize,
 * items, prepare and synchronize (Errors, SyncErrors, strings, numbers,
 * null, undefined, objects, values that cannot be cloned); item lists that
 * are nonsense; `while (true)`, `self.close()`, uncaught errors, a syntax
 * error in the worker module, a module that never calls defineHandler, a
 * worker factory that throws; junk posted on the worker's global scope; a
 * handler that never answers. Each case asserts the documented outcome, the
 * phase it ended in and the error, and ends with no hang and no leak
 * (cases.ts, `ended`).
 */
import { expect, test } from 'vitest';
import { inlineHandler, limitFromSpawn, testBed } from '../../fixtures/harness.ts';
import type { RejectionShape, ScriptedPhase } from '../../../workers/fixtures/script.ts';
import { SyncError, type HandlerRegistration, type SessionResult } from '../../../src/index.ts';
import { ended, start } from './cases.ts';

const bed = testBed();

const ENDED_IN: Record<ScriptedPhase, string> = { initialize: 'initializing', items: 'enumerating', prepare: 'preparing', synchronize: 'synchronizing' };

/** What the HandlerResult's error says for each shape: the Error's own message, or the value described. */
const SHAPES: Record<RejectionShape, { name: string; message: string | RegExp; code?: string }> = {
  error: { name: 'Error', message: 'fixture: rejected with an Error' },
  'sync-error': { name: 'SyncError', message: 'fixture: rejected with a SyncError', code: 'E_ACCESSDENIED' },
  'dom-exception': { name: 'DataError', message: 'fixture: rejected with a DOMException' },
  'type-error': { name: 'TypeError', message: 'fixture: rejected with a TypeError' },
  'error-with-cause': { name: 'Error', message: 'fixture: rejected with a cause' },
  string: { name: 'Error', message: 'fixture: rejected with a string' },
  'empty-string': { name: 'Error', message: '' },
  number: { name: 'Error', message: '42' },
  zero: { name: 'Error', message: '0' },
  boolean: { name: 'Error', message: 'false' },
  null: { name: 'Error', message: 'null' },
  undefined: { name: 'Error', message: 'undefined' },
  object: { name: 'Error', message: '{"reason":"fixture: rejected with an object"}' },
  array: { name: 'Error', message: '["fixture","array"]' },
  bigint: { name: 'Error', message: '100000000000000000000' },
  symbol: { name: 'Error', message: 'Symbol(fixture: rejected with a symbol)' },
  function: { name: 'Error', message: /function fixtureRejection\(\)/ },
  cyclic: { name: 'Error', message: '[object Object]' },
};

function expectFailed(result: SessionResult, phase: ScriptedPhase, shape: RejectionShape): void {
  const h = result.handlers[0]!;
  expect([result.outcome, h.outcome, h.endedIn]).toEqual(['failed', 'failed', ENDED_IN[phase]]);
  const want = SHAPES[shape];
  expect(h.error).toBeInstanceOf(Error);
  expect(h.error!.name).toBe(want.name);
  if (typeof want.message === 'string') expect(h.error!.message).toBe(want.message);
  else expect(h.error!.message).toMatch(want.message);
  if (want.code) {
    expect(SyncError.is(h.error, want.code as 'E_ACCESSDENIED')).toBe(true);
    // The chain of causes survives the crossing.
    expect((h.error!.cause as SyncError).code).toBe('E_FAIL');
  }
  // Items that had not finished take the outcome's status.
  for (const item of h.items) expect(item.status).toBe('failed');
}

const everyShape = Object.keys(SHAPES) as RejectionShape[];
const someShapes: RejectionShape[] = ['error', 'sync-error', 'string', 'undefined', 'symbol', 'function'];
const rejections = [
  ...everyShape.map((shape) => ({ phase: 'synchronize' as const, shape })),
  ...(['initialize', 'items', 'prepare'] as const).flatMap((phase) => someShapes.map((shape) => ({ phase, shape }))),
];

test.for(rejections)('$phase() throws a value of shape $shape: the handler fails in its phase with that error', async ({ phase, shape }) => {
  const run = start(bed, { reject: { in: phase, shape } });
  const result = await ended(run.session);
  expectFailed(result, phase, shape);
});

// ---- item lists that are nonsense ----

const long = (n: number) => 'x'.repeat(n);
const nonsense: { name: string; answer: unknown }[] = [
  { name: 'null', answer: null },
  { name: 'a string', answer: 'a,b' },
  { name: 'a number', answer: 3 },
  { name: 'an object', answer: { a: { name: 'A' } } },
  { name: 'an item without a name', answer: [{ id: 'a' }] },
  { name: 'an item whose id is a number', answer: [{ id: 5, name: 'five' }] },
  { name: 'an empty id', answer: [{ id: '', name: 'empty' }] },
  { name: 'an id of 257 characters', answer: [{ id: long(257), name: 'long' }] },
  { name: 'a name of 129 characters', answer: [{ id: 'a', name: long(129) }] },
  { name: 'the same id twice', answer: [{ id: 'a', name: 'A' }, { id: 'a', name: 'again' }] },
  { name: 'checked that is not a boolean', answer: [{ id: 'a', name: 'A', checked: 'yes' }] },
  { name: 'lastUpdate that is not a number', answer: [{ id: 'a', name: 'A', lastUpdate: 'yesterday' }] },
  { name: 'a null entry', answer: [null] },
];

test.for(nonsense)('items() answers nonsense ($name): the handler fails while enumerating with E_INVALIDARG', async ({ answer }) => {
  const run = start(bed, { itemsAnswer: answer });
  const result = await ended(run.session);
  const h = result.handlers[0]!;
  expect([h.outcome, h.endedIn]).toEqual(['failed', 'enumerating']);
  expect(SyncError.is(h.error, 'E_INVALIDARG')).toBe(true);
});

// ---- the worker misbehaves ----

// `limit`: the handler's time limit runs from its worker's spawn, so it is that
// much work on top of room for the worker to start (slow in some engines).
const workerFaults: { name: string; script: Parameters<typeof start>[1]; limit?: number; registration?: Partial<HandlerRegistration>; cancel?: boolean; outcome: string; endedIn: string; code: string }[] = [
  { name: 'spins in synchronize (while (true)) past its time limit', script: { steps: [{ op: 'busy' }] }, limit: 6000, outcome: 'timed-out', endedIn: 'synchronizing', code: 'E_TIMEOUT' },
  { name: 'spins in prepare past its time limit', script: { prepare: [{ op: 'busy' }] }, limit: 6000, outcome: 'timed-out', endedIn: 'preparing', code: 'E_TIMEOUT' },
  { name: 'spins in synchronize and the session is cancelled', script: { steps: [{ op: 'progress', item: 'a', update: { status: 'updating' } }, { op: 'busy' }] }, registration: { timeouts: { cancel: 500 } }, cancel: true, outcome: 'cancelled', endedIn: 'synchronizing', code: 'E_ABORT' },
  { name: 'never answers in synchronize, past its time limit', script: { steps: [{ op: 'hang' }] }, limit: 6000, outcome: 'timed-out', endedIn: 'synchronizing', code: 'E_TIMEOUT' },
  { name: 'never answers in prepare, past its time limit', script: { prepare: [{ op: 'hang' }] }, limit: 6000, outcome: 'timed-out', endedIn: 'preparing', code: 'E_TIMEOUT' },
  { name: 'never answers and the session is cancelled', script: { steps: [{ op: 'progress', item: 'a', update: { status: 'updating' } }, { op: 'hang' }] }, registration: { timeouts: { cancel: 500 } }, cancel: true, outcome: 'cancelled', endedIn: 'synchronizing', code: 'E_ABORT' },
  { name: 'calls self.close() in synchronize', script: { steps: [{ op: 'close-self' }] }, outcome: 'crashed', endedIn: 'synchronizing', code: 'E_FAIL' },
  { name: 'calls self.close() in prepare', script: { prepare: [{ op: 'close-self' }] }, outcome: 'crashed', endedIn: 'preparing', code: 'E_FAIL' },
  { name: 'throws an uncaught error from a timer in synchronize', script: { steps: [{ op: 'crash' }] }, outcome: 'crashed', endedIn: 'synchronizing', code: 'E_FAIL' },
  { name: 'throws an uncaught error from a timer in prepare', script: { prepare: [{ op: 'crash' }] }, outcome: 'crashed', endedIn: 'preparing', code: 'E_FAIL' },
];

// The timeout leaves room for the limit (which grows with a slow start), SESSION_BOUND_MS and the
// wait for the workers' locks, so a case that hangs fails naming what hung.
test.for(workerFaults)('a handler that $name ends $outcome in its phase ($code); its worker is gone', { timeout: 90_000 }, async ({ script, limit, registration, cancel, outcome, endedIn, code }) => {
  const timed = limit === undefined ? registration : { ...registration, timeouts: { ...registration?.timeouts, handler: await limitFromSpawn(limit) } };
  const run = start(bed, script, timed ? { registration: timed } : {});
  if (cancel) {
    await run.step(0);
    run.session.cancel();
  }
  const result = await ended(run.session);
  const h = result.handlers[0]!;
  expect([h.outcome, h.endedIn]).toEqual([outcome, endedIn]);
  if (outcome !== 'cancelled') expect(SyncError.is(h.error, code as 'E_FAIL')).toBe(true);
});

// ---- workers that never become handlers ----

const HANDLER = `defineHandler({ items: () => [{ id: 'a', name: 'A' }], async synchronize() {} });`;
const brokenWorkers: { name: string; registration: () => HandlerRegistration; code: string; says: RegExp }[] = [
  { name: 'a syntax error in its module', registration: () => inlineHandler('h', `${HANDLER}\n defineHandler({ items: () => [ ;`), code: 'E_FAIL', says: /crashed/ },
  { name: 'a module that throws at the top level', registration: () => inlineHandler('h', `throw new Error('chaos: top level');\n${HANDLER}`), code: 'E_FAIL', says: /crashed/ },
  { name: 'a module that never calls defineHandler', registration: () => ({ ...inlineHandler('h', `const idle = 1;`), timeouts: { ready: 1000 } }), code: 'E_TIMEOUT', says: /defineHandler\(\)/ },
  { name: 'a module that cannot be loaded', registration: () => ({ id: 'h', worker: () => new Worker(new URL('../../../workers/fixtures/no-such-handler.ts', import.meta.url), { type: 'module' }) }), code: 'E_FAIL', says: /crashed/ },
  { name: 'a worker factory that throws', registration: () => ({ id: 'h', worker: () => { throw new Error('chaos: no worker'); } }), code: 'E_FAIL', says: /worker factory threw: chaos: no worker/ },
  { name: 'a worker factory that returns something else', registration: () => ({ id: 'h', worker: () => ({}) as Worker }), code: 'E_FAIL', says: /must return a Worker/ },
];

test.for(brokenWorkers)('$name: the handler ends crashed while starting ($code), the session fails and no worker is left', async ({ registration, code, says }) => {
  void bed.reports;
  const m = bed.manager({ storage: 'memory', handlers: [registration()] });
  const session = m.synchronize();
  const result = await ended(session);
  const h = result.handlers[0]!;
  expect([result.outcome, h.outcome, h.endedIn]).toEqual(['failed', 'crashed', 'starting']);
  expect(SyncError.is(h.error, code as 'E_FAIL')).toBe(true);
  expect(h.error!.message).toMatch(says);
});

// ---- junk on the worker's global scope (its own port): ignored ----

const JUNK: unknown[] = [
  'junk', 42, null, true, [1, 2, 3], {}, { type: 'bogus' },
  { type: 'syncmgr:ready', protocol: 1, port: null, lock: null },
  { type: 'syncmgr:ready', protocol: 999, port: 1, lock: null },
  { id: 'x', type: 'APPLY', path: ['synchronize'], argumentList: [] },
  // In the lanes the manager reads: refused by the gate, or answers to no call of the manager's.
  { syncmgr: 'coordinator', message: 'junk' },
  { syncmgr: 'coordinator', message: { id: 'x', type: 'GET', path: [] } },
  { syncmgr: 'handler', message: { id: 'x', type: 'RAW', value: { ok: true, value: true } } },
  { syncmgr: 'handler', message: { id: 'x', type: 'APPLY', path: ['synchronize'], argumentList: [] } },
];

test.for(JUNK)('junk posted on the worker global scope (%j) is ignored: the handler succeeds', async (junk) => {
  const run = start(bed, { steps: [{ op: 'post-junk', junk }, { op: 'post-junk', junk }, { op: 'progress', item: 'a', update: { status: 'succeeded' } }] });
  const result = await ended(run.session);
  expect(result.handlers.map((h) => [h.outcome, h.items.map((i) => i.status)])).toEqual([['succeeded', ['succeeded']]]);
});
