/**
 * The manager's state over a memory store, in Node: schema and migrations,
 * the MISSINGITEMS rule, session records, recovery from the journal, bounds,
 * handler namespaces and the fallback to memory.
 */
import { describe, expect, test } from 'vitest';
import { ManagerState, type StateOptions } from '../../src/state/manager-state.ts';
import { KEYS, MAX_SESSION_HISTORY, STATE_SCHEMA_VERSION } from '../../src/state/records.ts';
import { migrate } from '../../src/state/migrations.ts';
import type { LogEvent, StateChangeEvent, StorageFallbackEvent } from '../../src/state/events.ts';
import type { Locks } from '../../src/protocol/locks.ts';
import { MemoryStateStore } from '../../src/storage/memory-state-store.ts';
import type { StateChanges, StateStore } from '../../src/storage/state-store.ts';
import { summarize, type SessionResult } from '../../src/coordinator/result.ts';
import { MAX_LOG_ENTRIES, type LogEntry } from '../../src/state/log-book.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { MAX_STORE_KEYS } from '../../src/protocol/types.ts';

/** Every handler's display name is its id in capitals. */
class CapitalNames extends Map<string, string> {
  override get(id: string): string {
    return id.toUpperCase();
  }
}

function setup(storage: StateOptions['storage'], extra: Partial<StateOptions> = {}) {
  const events: string[] = [];
  const fallbacks: SyncError[] = [];
  const target = new EventTarget();
  target.addEventListener('statechange', (e) => {
    const { part, handlerId } = e as StateChangeEvent;
    events.push(part === 'items' ? `items:${handlerId}` : part);
  });
  target.addEventListener('log', (e) => {
    const { action, entries } = e as LogEvent;
    events.push(`log:${action}:${entries.map((entry) => entry.errorId).join(',')}`);
  });
  target.addEventListener('storagefallback', (e) => {
    fallbacks.push((e as StorageFallbackEvent).error as SyncError);
    events.push('fallback');
  });
  const options: StateOptions = {
    name: 'app',
    storage,
    timeout: 300,
    flushInterval: 20,
    locks: null,
    openIndexedDb: () => {
      throw new Error('no IndexedDB in Node');
    },
    handlerNames: new CapitalNames(),
    events: target,
    ...extra,
  };
  return { state: new ManagerState(options), events, fallbacks };
}

const entry = (errorId: string, level: LogEntry['level'] = 'information'): LogEntry => ({
  errorId, level, text: errorId, handlerId: 'h', itemId: null, actionable: false, time: 1, sessionId: null,
});

function result(id: string, statuses: Record<string, string>, extra: Partial<SessionResult['handlers'][number]> = {}): SessionResult {
  return {
    id, trigger: 'manual', outcome: 'succeeded', startedAt: 100, endedAt: 200, connections: [],
    handlers: [{ id: 'h', name: 'H', outcome: 'succeeded', endedIn: 'synchronizing', error: null, startedAt: 100, endedAt: 200,
      items: Object.entries(statuses).map(([itemId, status]) => ({ id: itemId, name: itemId.toUpperCase(), status: status as 'succeeded', text: '', value: 0, max: 0 })), ...extra }],
  };
}

/** A store that delegates to `store` except for the methods given. */
function wrapStore(store: StateStore, overrides: Partial<StateStore>): StateStore {
  return {
    get: (k) => store.get(k), set: (k, v) => store.set(k, v), delete: (k) => store.delete(k), update: (k, u) => store.update(k, u),
    keys: (p) => store.keys(p), entries: (p) => store.entries(p), write: (c) => store.write(c), ...overrides,
  };
}

/** Every method rejects, like IndexedDB in a context that forbids it. */
class BrokenStore implements StateStore {
  calls = 0;
  readonly #error = () => Promise.reject(new DOMException('The user denied permission to access the database.', 'InvalidStateError'));
  get = () => (this.calls++, this.#error());
  set = () => (this.calls++, this.#error());
  delete = () => (this.calls++, this.#error());
  update = () => (this.calls++, this.#error());
  keys = () => (this.calls++, this.#error());
  entries = () => (this.calls++, this.#error());
  write = () => (this.calls++, this.#error());
}

describe('ManagerState', () => {
  test('nothing is read before first use; a new store gets the schema version', async () => {
    const store = new MemoryStateStore();
    let reads = 0;
    const counted = wrapStore(store, { get: (k: string) => (reads++, store.get(k)) });
    const { state, events } = setup(counted);
    expect(reads).toBe(0);
    expect(state.loaded).toBe(false);
    expect(state.items('h')).toEqual([]); // first use starts the load
    await state.load();
    expect(reads).toBeGreaterThan(0);
    expect(events).toEqual(['loaded']);
    expect(await store.get(KEYS.meta)).toEqual({ schema: STATE_SCHEMA_VERSION });
  });

  test("choices survive a reload, also for items the handler no longer lists (SyncMgr's MISSINGITEMS)", async () => {
    const store = new MemoryStateStore();
    const one = setup(store).state;
    await one.load(); // sessions select only after the load
    one.setItemChecked('h', 'gone', false);
    expect(one.select('h', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B', checked: false }], undefined)).toEqual(['a']);
    one.setItemChecked('h', 'a', false);
    await one.close();
    const two = setup(store).state;
    await two.load();
    expect(two.items('h').map((r) => [r.id, r.checked])).toEqual([['a', false], ['b', false]]);
    expect(two.select('h', [{ id: 'gone', name: 'Back again' }, { id: 'b', name: 'B' }], undefined)).toEqual(['b']);
  });

  test('changes made before the load ends are applied on top of the stored state', async () => {
    const store = new MemoryStateStore();
    const one = setup(store).state;
    one.setItemChecked('h', 'a', false);
    one.addLog(entry('old'));
    await one.close();
    const two = setup(store).state;
    two.setItemChecked('h', 'b', false); // load not finished yet
    two.clearLog();
    await two.load();
    expect(two.select('h', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }], undefined)).toEqual(['c']);
    expect(two.log()).toEqual([]);
    await two.flush();
    expect(await store.keys(KEYS.logPrefix)).toEqual([]);
  });

  test('a session records item states, errors and a summary, and removes its journal', async () => {
    const store = new MemoryStateStore();
    const { state } = setup(store);
    const release = await state.beginSession('s1', 'manual');
    expect(await store.get(KEYS.journal)).toMatchObject({ sessionId: 's1', handlers: [] });
    state.select('h', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }], undefined);
    state.addLog({ ...entry('why', 'error'), itemId: 'b', sessionId: 's1' });
    await state.endSession(summarize(result('s1', { a: 'succeeded', b: 'failed', c: 'skipped' })));
    release();
    expect(await store.get(KEYS.journal)).toBeUndefined();
    const items = state.items('h');
    expect(items.map((r) => [r.id, r.status, r.lastSync, r.lastSuccess, r.lastError?.message ?? null])).toEqual([
      ['a', 'succeeded', 200, 200, null], ['b', 'failed', 200, null, 'why'], ['c', 'skipped', 200, null, null],
    ]);
    const failed = result('s2', { a: 'failed' }, { outcome: 'failed', error: new SyncError('E_FAIL', 'server said no') });
    await state.beginSession('s2', 'manual');
    await state.endSession(summarize(failed));
    expect(state.items('h')[0]!.lastError).toEqual({ name: 'SyncError', code: 'E_FAIL', message: 'server said no' });
    expect(state.items('h')[0]!.lastSuccess).toBe(200);
    expect(state.sessions().map((s) => [s.id, s.outcome, s.handlers[0]!.items.map((i) => i.status)])).toEqual([
      ['s1', 'succeeded', ['succeeded', 'failed', 'skipped']], ['s2', 'succeeded', ['failed']],
    ]);
  });

  test('a journal left by a dead session is reported once as interrupted, its unfinished items stopped', async () => {
    const store = new MemoryStateStore();
    const one = setup(store).state;
    await one.beginSession('dead', 'online');
    one.select('h', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C', checked: false }], undefined);
    one.itemStatus('h', 'a', 'succeeded');
    one.itemStatus('h', 'b', 'updating');
    await one.flush();
    // The page dies here: no endSession, no close.
    const { state: two, events } = setup(store);
    await two.load();
    const [summary] = two.sessions();
    expect(summary).toMatchObject({ id: 'dead', trigger: 'online', outcome: 'interrupted' });
    expect(summary!.handlers).toEqual([{ id: 'h', name: 'H', outcome: 'interrupted', error: expect.objectContaining({ code: 'E_ABORT' }), items: [{ id: 'a', name: 'A', status: 'succeeded' }, { id: 'b', name: 'B', status: 'stopped' }] }]);
    expect(two.items('h').map((r) => [r.id, r.status])).toEqual([['a', 'succeeded'], ['b', 'stopped'], ['c', null]]);
    const log = two.log();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ level: 'warning', handlerId: null, sessionId: 'dead', errorId: 'syncmgr:interrupted:dead' });
    expect(log[0]!.text).toMatch(/interrupted.*1 item\(s\) were stopped: h\/b\./);
    expect(events).toContain('sessions');
    expect(await store.get(KEYS.journal)).toBeUndefined();
    await two.close();
    const three = setup(store).state;
    await three.load();
    expect(three.sessions()).toHaveLength(1);
    expect(three.log()).toHaveLength(1);
  });

  test("the journal of a session alive in another tab (its lock held) is left alone", async () => {
    const store = new MemoryStateStore();
    const held = new Set<string>();
    const locks: Locks = {
      hold: async (name) => (held.add(name), () => held.delete(name)),
      held: async () => [...held],
    };
    const one = setup(store, { locks }).state;
    await one.beginSession('alive', 'manual');
    const two = setup(store, { locks }).state;
    await two.load();
    expect(two.sessions()).toEqual([]);
    expect(await store.get(KEYS.journal)).toMatchObject({ sessionId: 'alive', lock: 'syncmgr:session:app:alive' });
  });

  test(`the log keeps at most MAX_LOG_ENTRIES (${MAX_LOG_ENTRIES}) entries, in storage too; history keeps MAX_SESSION_HISTORY (${MAX_SESSION_HISTORY})`, async () => {
    const store = new MemoryStateStore();
    const { state } = setup(store);
    await state.load();
    state.addLog(entry('first-error', 'error'));
    for (let i = 0; i < MAX_LOG_ENTRIES + 100; i++) state.addLog(entry(`i${i}`));
    for (let i = 0; i < MAX_SESSION_HISTORY + 5; i++) {
      await state.beginSession(`s${i}`, 'manual');
      await state.endSession(summarize(result(`s${i}`, {})));
    }
    await state.flush();
    expect(state.log()).toHaveLength(MAX_LOG_ENTRIES);
    expect(state.log()[0]!.errorId).toBe('first-error');
    expect(await store.keys(KEYS.logPrefix)).toHaveLength(MAX_LOG_ENTRIES);
    expect(state.sessions().map((s) => s.id)[0]).toBe('s5');
    expect(await store.keys(KEYS.sessionPrefix)).toHaveLength(MAX_SESSION_HISTORY);
  });

  test('handler keys live under handler/<id>/: no handler sees another, none reaches the manager keys', async () => {
    const store = new MemoryStateStore();
    const { state } = setup(store);
    await state.handlerStores.set('h1', 'cursor', 1);
    await state.handlerStores.set('h2', 'cursor', 2);
    await state.handlerStores.set('h1', '../../manager/meta', 'not the meta');
    await state.handlerStores.set('h1', '/h2/cursor', 'not h2');
    expect(await state.handlerStores.get('h2', 'cursor')).toBe(2);
    expect(await state.handlerStores.keys('h1', undefined)).toEqual(['../../manager/meta', '/h2/cursor', 'cursor']);
    expect(await state.handlerStores.entries('h2', null)).toEqual([['cursor', 2]]);
    await state.flush();
    expect(await store.get(KEYS.meta)).toEqual({ schema: STATE_SCHEMA_VERSION });
    expect(await store.keys('handler/')).toEqual(['handler/h1/../../manager/meta', 'handler/h1//h2/cursor', 'handler/h1/cursor', 'handler/h2/cursor']);
    expect(await state.handlerStores.delete('h1', 'cursor')).toBe(true);
    expect(await state.handlerStores.delete('h1', 'cursor')).toBe(false);
    expect(await state.handlerStores.get('h1', 'cursor')).toBeUndefined();
    expect(await state.handlerStores.entries('h1', '/')).toEqual([['/h2/cursor', 'not h2']]);
  });

  test(`a handler may keep MAX_STORE_KEYS (${MAX_STORE_KEYS}) keys; one more is E_OUTOFMEMORY`, async () => {
    const { state } = setup('memory');
    for (let i = 0; i < MAX_STORE_KEYS; i++) await state.handlerStores.set('h', `k${i}`, i);
    await expect(state.handlerStores.set('h', 'one-more', 1)).rejects.toMatchObject({ code: 'E_OUTOFMEMORY' });
    await state.handlerStores.set('h', 'k0', 'replacing is fine');
    await state.handlerStores.set('other', 'k', 'another handler has its own room');
  });
});

describe('writes of a session', () => {
  /**
   * A session of `handlers` handlers, each listing two items, with a batching
   * interval longer than the test: only the explicit writes (the journal at
   * the start, the result at the end) can reach the store, so a write per
   * handler's selection would show up as a write of its own.
   */
  async function sessionWrites(handlers: number): Promise<{ writes: number; keys: string[][] }> {
    const store = new MemoryStateStore();
    const keys: string[][] = [];
    const counted = wrapStore(store, { write: (changes: StateChanges) => (keys.push([...changes.keys()]), store.write(changes)) });
    const { state } = setup(counted, { flushInterval: 3_600_000 });
    await state.load();
    const before = keys.length;
    const release = await state.beginSession('s', 'manual');
    const ids = Array.from({ length: handlers }, (_, i) => `h${i}`);
    for (const id of ids) {
      // Each handler's answer arrives in a task of its own: anything a selection writes at once is written before the next.
      await new Promise((r) => setTimeout(r, 0));
      expect(state.select(id, [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], undefined)).toEqual(['a', 'b']);
      state.itemStatus(id, 'a', 'updating');
    }
    for (const id of ids) state.itemStatus(id, 'a', 'succeeded');
    await state.endSession(summarize(result('s', { a: 'succeeded', b: 'succeeded' })));
    release();
    const writes = keys.length - before;
    await state.close();
    return { writes, keys: keys.slice(before) };
  }

  test('a session of 8 handlers writes exactly as often as a session of one: the journal at the start and the result at the end', async () => {
    const one = await sessionWrites(1);
    const eight = await sessionWrites(8);
    expect(one.writes).toBe(2);
    expect(eight.writes).toBe(one.writes);
    // The end writes every handler's selection, its items and the journal's deletion at once.
    expect(eight.keys[1]).toEqual(expect.arrayContaining([KEYS.journal, ...Array.from({ length: 8 }, (_, i) => KEYS.items(`h${i}`))]));
  });

  test('close() is idempotent: a second call resolves only once the first has written and closed the store', async () => {
    const store = new MemoryStateStore();
    let closed = 0;
    let releaseWrite = () => {};
    const gate = new Promise<void>((resolve) => (releaseWrite = resolve));
    const slow = wrapStore(store, { write: async (changes: StateChanges) => (await gate, store.write(changes)) });
    (slow as StateStore).close = () => void closed++;
    const { state } = setup(slow);
    await state.load();
    state.setItemChecked('h', 'a', false);
    const first = state.close();
    const second = state.close();
    expect(second).toBe(first);
    let settled = false;
    void second.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 0)); // a close that did not wait would have resolved by now
    expect(settled).toBe(false);
    releaseWrite();
    await second;
    expect(closed).toBe(1);
    expect(await store.get(KEYS.choices('h'))).toEqual([['a', false]]);
  });
});

describe('schema', () => {
  test('migrations run one version at a time and record each step', async () => {
    const store = new MemoryStateStore();
    await store.set(KEYS.meta, { schema: 1 });
    const ran: string[] = [];
    const to = await migrate(store, 3, {
      1: async (s) => void ran.push(`1→2 saw ${JSON.stringify(await s.get(KEYS.meta))}`),
      2: async (s) => void ran.push(`2→3 saw ${JSON.stringify(await s.get(KEYS.meta))}`),
    });
    expect(to).toBe(1);
    expect(ran).toEqual(['1→2 saw {"schema":1}', '2→3 saw {"schema":2}']);
    expect(await store.get(KEYS.meta)).toEqual({ schema: 3 });
  });

  test('a store written by a newer version is refused and left untouched; the manager falls back to memory', async () => {
    const store = new MemoryStateStore();
    await store.set(KEYS.meta, { schema: STATE_SCHEMA_VERSION + 1 });
    await store.set(KEYS.choices('h'), [['a', false]]);
    await expect(migrate(store)).rejects.toMatchObject({ code: 'E_NOTIMPL' });
    const { state, fallbacks } = setup(store);
    await state.load();
    expect(state.storage).toBe('memory');
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]!.message).toMatch(/newer syncmgr/);
    state.setItemChecked('h', 'b', true);
    await state.flush();
    expect(await store.entries('')).toEqual([[KEYS.choices('h'), [['a', false]]], [KEYS.meta, { schema: STATE_SCHEMA_VERSION + 1 }]]);
  });
});

describe('fallback to memory', () => {
  test('a store that always fails: loading resolves, one fallback event, one log entry, and everything works in memory', async () => {
    const broken = new BrokenStore();
    const { state, events, fallbacks } = setup(broken);
    state.setItemChecked('h', 'a', false);
    await state.load();
    expect(state.storage).toBe('memory');
    expect(fallbacks.map((e) => e.code)).toEqual(['E_FAIL']);
    expect(fallbacks[0]!.message).toMatch(/custom state store failed \(InvalidStateError: The user denied/);
    expect(state.log().map((e) => [e.errorId, e.level, e.handlerId])).toEqual([['syncmgr:storage-fallback', 'warning', null]]);
    expect(events.filter((e) => e === 'fallback' || e.startsWith('log:add'))).toEqual(['fallback', 'log:add:syncmgr:storage-fallback']);
    expect(state.select('h', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], undefined)).toEqual(['b']);
    await state.handlerStores.set('h', 'cursor', 7);
    expect(await state.handlerStores.get('h', 'cursor')).toBe(7);
    await state.beginSession('s', 'manual');
    await state.endSession(summarize(result('s', { b: 'succeeded' })));
    const callsAfterFallback = broken.calls;
    await state.flush();
    expect(broken.calls).toBe(callsAfterFallback);
    expect(fallbacks).toHaveLength(1);
  });

  test('a store that fails on write (quota exceeded) falls back once and keeps state and handler keys', async () => {
    const store = new MemoryStateStore();
    let quota = false;
    const flaky = wrapStore(store, {
      write: (changes: StateChanges) => (quota ? Promise.reject(new DOMException('Quota exceeded', 'QuotaExceededError')) : store.write(changes)),
    });
    const { state, fallbacks } = setup(flaky);
    await state.handlerStores.set('h', 'cursor', 'kept');
    await state.flush();
    quota = true;
    state.setItemChecked('h', 'a', false);
    await state.handlerStores.set('h', 'next', 'also kept');
    await state.flush();
    await state.flush();
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]!.cause).toMatchObject({ name: 'QuotaExceededError' });
    expect(state.storage).toBe('memory');
    expect(await state.handlerStores.entries('h', '')).toEqual([['cursor', 'kept'], ['next', 'also kept']]);
    expect(state.select('h', [{ id: 'a', name: 'A' }], undefined)).toEqual([]);
  });

  test('a value the store cannot clone costs only itself: the rest of its batch is written, no fallback, one error entry', async () => {
    const store = new MemoryStateStore();
    const poisoned = { passes: 'the checks, yet this store cannot clone it' };
    // The way IndexedDB refuses a value it cannot store: the whole transaction fails with DataCloneError.
    const picky = wrapStore(store, {
      write: (changes: StateChanges) => ([...changes.values()].some((v) => v === poisoned) ? Promise.reject(new DOMException('could not be cloned', 'DataCloneError')) : store.write(changes)),
    });
    const { state, fallbacks } = setup(picky);
    await state.load();
    await state.handlerStores.set('h', 'before', 1);
    await state.handlerStores.set('h', 'bad', poisoned);
    await state.handlerStores.set('h', 'after', 2);
    state.setItemChecked('h', 'a', false);
    await state.flush();
    expect(fallbacks).toEqual([]);
    expect(state.storage).toBe('custom');
    const written = new Map(await store.entries(''));
    expect([...written.keys()].filter((k) => k.startsWith('handler/'))).toEqual(expect.arrayContaining([expect.stringContaining('before'), expect.stringContaining('after')]));
    expect([...written.keys()].some((k) => k.includes('bad'))).toBe(false);
    expect([...written.keys()]).toContain(KEYS.choices('h'));
    const errors = state.log().filter((e) => e.level === 'error' && e.handlerId === null);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toMatch(/could not store the value\(s\) of .*bad.*kept in memory only/);
  });

  test('a store that never answers (a blocked upgrade) falls back after the storage time limit', async () => {
    const never = new Promise<never>(() => {});
    const hanging = { get: () => never, set: () => never, delete: () => never, update: () => never, keys: () => never, entries: () => never, write: () => never };
    const { state, fallbacks } = setup(hanging, { timeout: 50 });
    const started = Date.now();
    await state.load();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fallbacks.map((e) => (e.cause as SyncError).code)).toEqual(['E_TIMEOUT']);
    expect(state.storage).toBe('memory');
  });
});
