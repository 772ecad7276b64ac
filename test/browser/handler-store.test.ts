/**
 * `ctx.store` with real workers and real IndexedDB: each handler sees only
 * its own keys, no key of a handler reaches the manager's, values are kept
 * across sessions and managers, and bad calls get clear SyncErrors.
 */
import { expect, test } from 'vitest';
import { cookie, scripted, testBed } from '../fixtures/harness.ts';
import {
  IndexedDbStateStore, MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES, SyncManager, stateDatabaseName,
} from '../../src/index.ts';

const bed = testBed();

/** Step `index` of a handler in a session: its value if it succeeded, else its error's code and message. */
async function outcome(sessionId: string, handlerId: string, index: number, phase = 'step'): Promise<unknown> {
  const r = await bed.reports.wait((x) => x.sessionId === sessionId && x.handlerId === handlerId && x.phase === phase && x.index === index);
  return r.ok ? { value: r.value } : { code: r.error?.code, message: r.error?.message };
}

test("two handlers' ctx.store never see each other's keys, and a handler's keys cannot reach the manager's", async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1'), scripted('h2')] });
  const session = m.synchronize({
    cookie: cookie({
      h1: {
        steps: [
          { op: 'store-set', key: 'cursor', value: 1 },
          { op: 'store-set', key: 'shared-name', value: 'of h1' },
          { op: 'store-set', key: '../../manager/meta', value: { schema: 999 } },
          { op: 'store-set', key: 'manager/journal', value: 'not a journal' },
          { op: 'store-set', key: '/../h2/cursor', value: 'not h2' },
          { op: 'store-keys' },
          { op: 'store-entries', prefix: 'cursor' },
        ],
      },
      h2: {
        steps: [
          { op: 'store-set', key: 'cursor', value: 2 },
          { op: 'store-get', key: 'shared-name' },
          { op: 'store-get', key: '../h1/cursor' },
          { op: 'store-keys', prefix: '' },
          { op: 'store-get', key: 'cursor' },
        ],
      },
    }),
  });
  const result = await session.done;
  expect(result.outcome).toBe('succeeded');
  expect(await outcome(session.id, 'h1', 5)).toEqual({ value: ['../../manager/meta', '/../h2/cursor', 'cursor', 'manager/journal', 'shared-name'] });
  expect(await outcome(session.id, 'h1', 6)).toEqual({ value: [['cursor', 1]] });
  expect(await outcome(session.id, 'h2', 1)).toEqual({ value: undefined });
  expect(await outcome(session.id, 'h2', 2)).toEqual({ value: undefined });
  expect(await outcome(session.id, 'h2', 3)).toEqual({ value: ['cursor'] });
  expect(await outcome(session.id, 'h2', 4)).toEqual({ value: 2 });

  // In the database itself: handler keys sit under handler/<id>/, the manager's keys are untouched.
  await m.flush();
  const raw = new IndexedDbStateStore(stateDatabaseName(m.name));
  const keys = await raw.keys('');
  expect(keys.filter((k) => k.startsWith('handler/'))).toEqual([
    'handler/h1/../../manager/meta', 'handler/h1//../h2/cursor', 'handler/h1/cursor', 'handler/h1/manager/journal', 'handler/h1/shared-name', 'handler/h2/cursor',
  ]);
  expect(keys.every((k) => k.startsWith('handler/h1/') || k.startsWith('handler/h2/') || k.startsWith('manager/'))).toBe(true);
  expect(await raw.get('manager/meta')).toEqual({ schema: 1 });
  expect(await raw.get('manager/journal')).toBeUndefined();
  expect(await raw.get('handler/h2/cursor')).toBe(2);
  await raw.close();
  expect(m.sessions().map((s) => s.outcome)).toEqual(['succeeded']);
});

test('ctx.store values are kept across sessions (new workers) and across managers over the same database', async () => {
  const reports = bed.reports;
  const m1 = bed.manager({ handlers: [scripted('h1')] });
  const name = m1.name;
  const s1 = m1.synchronize({ cookie: cookie({ h1: { prepare: [{ op: 'store-set', key: 'checkpoint', value: { page: 3, etag: 'W/"x"' } }], steps: [{ op: 'store-set', key: 'cursor', value: 41 }, { op: 'store-delete', key: 'checkpoint' }, { op: 'store-set', key: 'checkpoint', value: { page: 4 } }] } }) });
  expect((await s1.done).outcome).toBe('succeeded');
  const s2 = m1.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'store-get', key: 'cursor' }, { op: 'store-set', key: 'cursor', value: 42 }] } }) });
  await s2.done;
  expect(await outcome(s2.id, 'h1', 0)).toEqual({ value: 41 });
  await m1.close();

  const m2 = bed.track(new SyncManager({ name, handlers: [scripted('h1')] }));
  const s3 = m2.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'store-entries' }, { op: 'store-delete', key: 'cursor' }, { op: 'store-delete', key: 'cursor' }, { op: 'store-keys' }] } }) });
  await s3.done;
  const after = reports.all.filter((r) => r.sessionId === s3.id && r.phase === 'step').sort((a, b) => a.index! - b.index!).map((r) => r.value);
  expect(after).toEqual([[['checkpoint', { page: 4 }], ['cursor', 42]], true, false, ['checkpoint']]);
});

test('bad ctx.store calls get clear SyncErrors and leave the store and the session intact', async () => {
  const reports = bed.reports;
  const m = bed.manager({ handlers: [scripted('h1'), scripted('keeper')] });
  const session = m.synchronize({
    cookie: cookie({
      keeper: { steps: [{ op: 'wait' }] },
      h1: {
        steps: [
          { op: 'store-set', key: '', value: 1 },
          { op: 'store-set', key: 'k'.repeat(MAX_STORE_KEY_LENGTH + 1), value: 1 },
          { op: 'store-set', key: 5, value: 1 },
          { op: 'store-set', key: 'nothing' },
          { op: 'store-set', key: 'fn', make: 'function' },
          { op: 'store-set', key: 'big', make: { bytes: MAX_STORE_VALUE_BYTES + 1 } },
          { op: 'store-keys', prefix: 7 },
          { op: 'store-set', key: 'ok', make: { bytes: 1000 } },
          { op: 'store-keys' },
          { op: 'after-return', then: [{ op: 'store-get', key: 'ok' }] },
        ],
      },
    }),
  });
  // The keeper holds the session open while h1, done, calls again.
  expect(await outcome(session.id, 'h1', 0, 'after')).toMatchObject({ code: 'E_UNEXPECTED', message: expect.stringMatching(/store\.get\(\) after its work ended/) });
  // Release the keeper only once it waits (its listener is set when it reports synchronize).
  await reports.wait((x) => x.sessionId === session.id && x.handlerId === 'keeper' && x.phase === 'synchronize');
  reports.release(session.id, 'keeper');
  const result = await session.done;
  expect(result.outcome).toBe('succeeded');
  const errors = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => outcome(session.id, 'h1', i)));
  expect(errors.map((e) => (e as { code: string }).code)).toEqual(Array(7).fill('E_INVALIDARG'));
  const messages = errors.map((e) => (e as { message: string }).message);
  expect(messages[0]).toMatch(/Handler 'h1': ctx\.store\.set\(key\) needs a key string of 1 to 1024 characters, not a string of 0 characters/);
  expect(messages[1]).toMatch(/not a string of 1025 characters/);
  expect(messages[2]).toMatch(/not number/);
  expect(messages[3]).toMatch(/ctx\.store\.set\('nothing', undefined\): to remove a key, call ctx\.store\.delete\('nothing'\)/);
  expect(messages[4]).toMatch(/ctx\.store\.set\('fn'\): value\.f is a function, which cannot be stored/);
  expect(messages[5]).toMatch(/more than 1048576 bytes/);
  expect(messages[6]).toMatch(/ctx\.store\.keys\(prefix\) takes a string/);
  expect(await outcome(session.id, 'h1', 8)).toEqual({ value: ['ok'] });
});
