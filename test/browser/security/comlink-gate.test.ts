// Issue 10, finding 1: the manager is exposed to each handler's worker with
// Comlink, whose protocol lets the remote side GET, SET, APPLY and CONSTRUCT
// along any property path. The gate (src/coordinator/comlink-gate.ts) lets a
// worker call exactly the coordinator's methods with plain arguments; nothing
// else reaches Comlink. hostile-handler.ts speaks the protocol by hand.
import { expect, test } from 'vitest';
import { testBed, noLiveWorkers, type Report } from '../../fixtures/harness.ts';

const bed = testBed();
const hostileWorker = () => new Worker(new URL('../../../workers/fixtures/hostile-handler.ts', import.meta.url), { type: 'module' });

type Answer = { id?: string; type?: string; name?: string; value?: { ok?: boolean; error?: { code?: string; message?: string } } } | 'no answer';

const globals = globalThis as { __syncmgrPwned?: unknown; __syncmgrHooked?: unknown };

test('a hostile worker can neither construct, read, write nor reach past the API; every attempt is answered E_ACCESSDENIED and the page is untouched', async () => {
  const reports = bed.reports;
  const fetchBefore = globalThis.fetch;
  const m = bed.manager({ handlers: [{ id: 'hostile', worker: hostileWorker }] });
  const session = m.synchronize();
  const result = await session.done;
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'returned');
  const answers = new Map(reports.all.filter((r: Report) => r.sessionId === session.id && r.phase === 'step').map((r) => [r.op!, r.value as Answer]));

  // Nothing ran on the main thread, nothing was written onto its prototypes or globals.
  expect(globals.__syncmgrPwned).toBeUndefined();
  expect(globals.__syncmgrHooked).toBeUndefined();
  expect(globalThis.fetch).toBe(fetchBefore);
  expect(({} as { syncmgrPolluted?: unknown }).syncmgrPolluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'syncmgrPolluted')).toBe(false);

  const refused = ['construct-function', 'hook-fetch', 'set-prototype', 'get-property', 'get-api', 'apply-deep-path', 'apply-unknown', 'apply-constructor', 'endpoint', 'proxy-argument', 'extra-field'];
  for (const attack of refused) {
    const answer = answers.get(attack);
    expect(answer, attack).toMatchObject({ type: 'RAW', value: { ok: false, error: { code: 'E_ACCESSDENIED' } } });
  }
  // An argument of the right method that IndexedDB cannot store is refused on arrival too.
  expect(answers.get('store-unstorable')).toMatchObject({ type: 'RAW', value: { ok: false, error: { code: 'E_INVALIDARG', message: expect.stringMatching(/value\.mod is a WebAssembly\.Module/) } } });
  // Junk without an id is dropped; the legitimate call made after all of it passes the gate.
  expect(answers.get('valid-call')).toMatchObject({ type: 'RAW', value: { ok: true, value: 'hostile-done' } });
  expect(m.log().map((e) => e.errorId)).toContain('hostile-done');
  // The first refusal is in the log, once, as a warning naming the handler.
  const warnings = m.log().filter((e) => e.handlerId === 'hostile' && e.level === 'warning');
  expect(warnings).toHaveLength(1);
  expect(warnings[0].text).toMatch(/Handler 'hostile' sent the manager .*refused/);
  expect(result.handlers[0].outcome).toBe('succeeded');
  await noLiveWorkers();
}, 300_000); // each attack waits up to 10 s for an answer when none comes (a gate that lets it through)

test.for(['proxy', 'thrown-object', 'not-an-outcome'])('a worker answering the manager with %s fails with E_FAIL instead of handing the main thread an object it controls', async (answer) => {
  const m = bed.manager({ handlers: [{ id: 'odd-answer', worker: hostileWorker }] });
  const result = await m.synchronize({ cookie: { items: answer } }).done;
  expect(result.handlers.map((h) => h.id)).toEqual(['odd-answer']);
  const handler = result.handlers[0]!;
  expect(handler.outcome).toBe('failed');
  expect(handler.endedIn).toBe('enumerating');
  expect(handler.error).toMatchObject({ code: 'E_FAIL' });
  expect(handler.error?.message).toMatch(/other than an outcome of plain data/);
  await noLiveWorkers();
});
