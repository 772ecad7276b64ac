// Chaos, hostile messages on the callback port: every message a worker can
// post to the manager's Comlink port that is not a call of one of the
// coordinator's methods with plain arguments. hostile-handler.ts posts each
// by hand in one session; each case checks the answer it got. The gate
// (src/coordinator/comlink-gate.ts) answers them E_ACCESSDENIED; a valid call
// after all of them still passes, and nothing leaks.
import { beforeAll, describe, expect, test } from 'vitest';
import { SyncManager, type SessionResult } from '../../../src/index.ts';
import { Reports, noLiveWorkers } from '../../fixtures/harness.ts';

const hostileWorker = () => new Worker(new URL('../../../workers/fixtures/hostile-handler.ts', import.meta.url), { type: 'module' });

/** The messages, by the fixture's name for them, that the gate must refuse. */
const REFUSED = [
  'construct-function', 'hook-fetch', 'set-prototype', 'get-property', 'get-api', 'apply-deep-path', 'apply-unknown',
  'apply-constructor', 'endpoint', 'proxy-argument', 'too-many-arguments', 'path-not-a-list', 'path-of-a-number', 'no-path',
  'get-then', 'set-method', 'apply-toString', 'apply-__proto__', 'release', 'thrown-argument', 'arguments-not-a-list',
  'unknown-type', 'extra-field',
];

describe('hostile messages on the callback port', () => {
  const answers = new Map<string, unknown>();
  let result: SessionResult;
  let manager: SyncManager;

  beforeAll(async () => {
    const reports = new Reports();
    manager = new SyncManager({ name: `chaos-callback-${Date.now()}`, storage: 'memory', handlers: [{ id: 'hostile', worker: hostileWorker }] });
    const session = manager.synchronize();
    result = await session.done;
    await reports.wait((r) => r.sessionId === session.id && r.phase === 'returned');
    for (const r of reports.all) if (r.sessionId === session.id && r.phase === 'step') answers.set(r.op!, r.value);
    reports.close();
    return async () => {
      await manager.close();
    };
  }, 300_000);

  test.each(REFUSED)('%s is answered E_ACCESSDENIED, never reaching Comlink', (name) => {
    expect(answers.get(name)).toMatchObject({ type: 'RAW', value: { ok: false, error: { code: 'E_ACCESSDENIED', message: expect.stringMatching(/^The manager refused /) } } });
  });

  test('junk without an id (null, 0, a string, an array, calls without an id) is dropped and breaks nothing: the valid call after it passes', () => {
    expect(answers.get('junk')).toBe('sent');
    expect(answers.get('valid-call')).toMatchObject({ type: 'RAW', value: { ok: true, value: 'hostile-done' } });
  });

  test('the page is untouched: no global written, no prototype polluted, fetch not hooked', () => {
    expect((globalThis as { __syncmgrPwned?: unknown }).__syncmgrPwned).toBeUndefined();
    expect((globalThis as { __syncmgrHooked?: unknown }).__syncmgrHooked).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('syncmgrPolluted');
    expect(String(globalThis.fetch)).toContain('[native code]');
  });

  test('the session succeeds, the first refusal is logged once, and no worker is left', async () => {
    expect(result.handlers.map((h) => h.outcome)).toEqual(['succeeded']);
    expect(manager.log().filter((e) => e.level === 'warning').length).toBe(1);
    await noLiveWorkers();
  });
});
