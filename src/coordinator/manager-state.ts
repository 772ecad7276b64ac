/**
 * The manager's state and its persistence: the user's item choices, the
 * items' last state, the log, the session history, the journal of the running
 * session and the handlers' `ctx.store` keys, kept in memory and written to a
 * {@link StateStore} by this single writer.
 *
 * - Loading starts on first use, never at construction; until it is done the
 *   getters answer what is known (nothing), and changes made meanwhile are
 *   applied again on top of what was loaded.
 * - Writes are batched by a {@link WriteBatcher}: at most one write per
 *   `STATE_FLUSH_INTERVAL` while changes keep coming, plus a write when a
 *   session starts, when a handler's selection is made and when a session ends.
 * - When the store fails (throws, or does not answer within the storage time
 *   limit), everything moves to a memory store: one fallback report, one log
 *   entry, no crash, no unhandled rejection.
 */
import { SyncError } from '../protocol/errors.ts';
import { isTerminal } from './item-state.ts';
import { MAX_STORE_KEYS, type ItemInfo, type ItemStatus, type Trigger } from '../protocol/types.ts';
import type { StateStore } from '../storage/state-store.ts';
import { MemoryStateStore, byCodeUnit } from '../storage/memory-state-store.ts';
import { WriteBatcher } from '../storage/write-batcher.ts';
import { LogBook, MAX_LOG_ENTRIES, type LogEntry } from './log-book.ts';
import type { SessionResult } from './result.ts';
import { checkStoreKey, checkStorePrefix, checkStoreValue } from './handler-store.ts';
import {
  KEYS, MAX_SESSION_HISTORY, STATE_SCHEMA_VERSION, isChoices, isItemRecord, isLogEntry, isSessionJournal, isSessionSummary,
  migrate, seqOf, toStoredError, type ItemRecord, type SessionJournal, type SessionSummary, type StoredError,
} from './state-records.ts';

/** What backs the state now: `custom` is an app's own store. */
export type StorageKind = 'indexeddb' | 'memory' | 'custom';

/** Web Locks, as far as the journal needs them (absent: no lock, every journal found is from a dead session). */
export interface SessionLocks {
  /** Takes lock `name`; resolves once held, with the function that releases it. */
  hold(name: string): Promise<() => void>;
  /** Names of the locks held now, by any tab or worker of the origin. */
  held(): Promise<string[]>;
}

/** What the state needs from its manager. */
export interface StateHost {
  readonly name: string;
  readonly storage: 'indexeddb' | 'memory' | StateStore;
  /** Milliseconds a store call may take before the store counts as failed. */
  readonly timeout: number;
  /** Batching interval (ms); default `STATE_FLUSH_INTERVAL`. */
  readonly flushInterval?: number;
  readonly locks: SessionLocks | null;
  /** Builds the IndexedDB store (kept out of this module, which runs without DOM types). */
  createIndexedDb(name: string): StateStore;
  handlerName(handlerId: string): string;
  loaded(): void;
  itemsChanged(handlerId: string): void;
  sessionsChanged(): void;
  logChanged(action: 'add' | 'delete', entries: readonly LogEntry[]): void;
  fellBack(error: SyncError): void;
}

/** The errorIds of the manager's own log entries (handlerId `null`). */
export const FALLBACK_ERROR_ID = 'syncmgr:storage-fallback';
export const INTERRUPTED_ERROR_ID_PREFIX = 'syncmgr:interrupted:';

export class ManagerState {
  readonly #host: StateHost;
  #store: StateStore | null = null;
  #kind: StorageKind;
  #batcher: WriteBatcher | null = null;
  #loading: Promise<void> | null = null;
  #loaded = false;
  #closed = false;
  #fallback: Promise<void> | null = null;
  /** Changes made before the load finished: applied again on top of the loaded state. */
  #beforeLoad: (() => void)[] = [];
  readonly #choices = new Map<string, Map<string, boolean>>();
  readonly #items = new Map<string, Map<string, ItemRecord>>();
  readonly #log = new LogBook((seq, entry) => this.#put(KEYS.log(seq), entry));
  #sessions: { seq: number; summary: SessionSummary }[] = [];
  #journal: LiveJournal | null = null;
  readonly #handlerKeys = new Map<string, Promise<Set<string>>>();

  constructor(host: StateHost) {
    this.#host = host;
    this.#kind = typeof host.storage === 'string' ? host.storage : 'custom';
  }

  /** What backs the state now (`memory` after a fallback). */
  get storage(): StorageKind {
    return this.#kind;
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  /** Reads the stored state (once); resolves when it is in memory. Never rejects: a failing store falls back to memory. */
  load(): Promise<void> {
    if (this.#closed && !this.#loading) return Promise.resolve(); // closed before first use: open nothing
    return (this.#loading ??= this.#load().catch((error: unknown) => {
      // A bug, not a storage failure (those fall back inside): report it, never leave an unhandled rejection.
      this.#loaded = true;
      (globalThis as { reportError?: (error: unknown) => void }).reportError?.(error);
    }));
  }

  /** Writes every pending change now; resolves when written (or kept in memory after a fallback). */
  async flush(): Promise<void> {
    if (!this.#loading) return;
    await this.#loading;
    await this.#batcher?.flush();
  }

  /** Flushes and closes the store; later changes throw `E_UNEXPECTED`. Idempotent, never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#loading) return;
    await this.#loading;
    await this.#batcher?.close();
    try {
      await this.#guard(Promise.resolve(this.#store?.close?.()), 'closing the store');
    } catch {
      // Best effort: the state is written; a store that cannot close is left to the GC.
    }
  }

  // ---- what the UI reads ----

  items(handlerId: string): ItemRecord[] {
    void this.load();
    return [...(this.#items.get(handlerId)?.values() ?? [])].map(copyRecord);
  }

  log(): LogEntry[] {
    void this.load();
    return this.#log.list();
  }

  sessions(): SessionSummary[] {
    void this.load();
    return this.#sessions.map((s) => structuredClone(s.summary));
  }

  // ---- what the user changes ----

  setItemChecked(handlerId: string, itemId: string, checked: boolean): void {
    this.#mutate(() => {
      let choices = this.#choices.get(handlerId);
      if (!choices) this.#choices.set(handlerId, (choices = new Map()));
      choices.set(itemId, checked);
      this.#put(KEYS.choices(handlerId), [...choices]);
      const record = this.#items.get(handlerId)?.get(itemId);
      if (record && record.checked !== checked) {
        record.checked = checked;
        this.#putItems(handlerId);
      }
      this.#host.itemsChanged(handlerId);
    });
  }

  clearLog(): void {
    this.#mutate(() => {
      const removed = this.#log.clear();
      if (removed.length) this.#host.logChanged('delete', removed);
    });
  }

  /** Deletes a log entry of a handler (`null`: the manager's own); `false` when there is none. Applied at once, even before loading ends. */
  deleteLogEntry(handlerId: string | null, errorId: string): boolean {
    let found = false;
    this.#mutate(() => {
      const removed = this.#log.delete(handlerId, errorId);
      found ||= removed.length > 0;
      if (removed.length) this.#host.logChanged('delete', removed);
    });
    return found;
  }

  // ---- what sessions do ----

  /**
   * Starts the journal of a session (and holds its Web Lock) and writes it.
   * Resolves, once written, with the function that releases the lock. The
   * manager starts the handlers' workers meanwhile; their selection waits for it.
   */
  async beginSession(sessionId: string, trigger: Trigger): Promise<() => void> {
    await this.load();
    let lock: string | null = null;
    let release = () => {};
    if (this.#host.locks) {
      try {
        const name = `syncmgr:session:${this.#host.name}:${sessionId}`;
        release = await this.#host.locks.hold(name);
        lock = name;
      } catch {
        // No lock: a tab that loads meanwhile may take this session for an interrupted one; nothing worse.
      }
    }
    const now = Date.now();
    this.#journal = { sessionId, trigger, startedAt: now, updatedAt: now, lock, handlers: new Map() };
    this.#putJournal();
    await this.#batcher?.flush();
    return release;
  }

  /**
   * Merges a handler's listed items with the user's choices into its item
   * records and answers the selection (all of `only` that it listed, else the
   * checked items). The records and the journal are written with the next batch.
   */
  select(handlerId: string, listed: readonly ItemInfo[], only: readonly string[] | undefined): string[] {
    const choices = this.#choices.get(handlerId);
    const previous = this.#items.get(handlerId);
    const records = new Map<string, ItemRecord>();
    for (const item of listed) {
      const old = previous?.get(item.id);
      records.set(item.id, {
        handlerId, id: item.id, name: item.name, checked: choices?.get(item.id) ?? item.checked ?? true,
        status: old?.status ?? null, lastSync: old?.lastSync ?? null, lastSuccess: old?.lastSuccess ?? item.lastUpdate ?? null, lastError: old?.lastError ?? null,
      });
    }
    this.#items.set(handlerId, records);
    this.#putItems(handlerId);
    const selected = listed.filter((item) => (only ? only.includes(item.id) : records.get(item.id)!.checked)).map((item) => item.id);
    if (this.#journal) {
      this.#journal.handlers.set(handlerId, new Map(selected.map((id) => [id, 'pending'])));
      this.#putJournal();
    }
    // Written with the next batch (within STATE_FLUSH_INTERVAL), like every other change of the session:
    // a flush per handler would put one IndexedDB write per handler on the session's path.
    this.#host.itemsChanged(handlerId);
    return selected;
  }

  /** An item's status changed during the session: recorded in the journal (batched). */
  itemStatus(handlerId: string, itemId: string, status: ItemStatus): void {
    const items = this.#journal?.handlers.get(handlerId);
    if (!items?.has(itemId)) return;
    items.set(itemId, status);
    this.#putJournal();
  }

  /** Records a session's result (item states, history), deletes the journal and writes it all before resolving. */
  async endSession(result: SessionResult): Promise<void> {
    for (const handler of result.handlers) {
      const records = this.#items.get(handler.id);
      if (!records || handler.items.length === 0) continue;
      for (const item of handler.items) {
        const record = records.get(item.id);
        if (!record) continue;
        record.status = item.status;
        record.lastSync = result.endedAt;
        if (item.status === 'succeeded') {
          record.lastSuccess = result.endedAt;
          record.lastError = null;
        } else if (item.status === 'failed') {
          record.lastError = (handler.error && toStoredError(handler.error)) ?? this.#loggedError(handler.id, item.id, result.id) ?? record.lastError;
        }
      }
      this.#putItems(handler.id);
      this.#host.itemsChanged(handler.id);
    }
    this.#addSession({
      id: result.id,
      trigger: result.trigger,
      outcome: result.outcome,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      handlers: result.handlers.map((h) => ({
        id: h.id, name: h.name, outcome: h.outcome, error: h.error ? toStoredError(h.error) : null,
        items: h.items.map((i) => ({ id: i.id, name: i.name, status: i.status })),
      })),
      connections: result.connections.map((c) => ({ name: c.name, kind: c.kind, closeCode: c.closeCode })),
    });
    if (this.#journal?.sessionId === result.id) {
      this.#journal = null;
      this.#putJournal();
    }
    await this.#batcher?.flush();
  }

  addLog(entry: LogEntry): void {
    const replaced = this.#log.add(entry);
    if (replaced) this.#host.logChanged('delete', [replaced]);
    this.#host.logChanged('add', [entry]);
    const evicted = this.#log.trim(MAX_LOG_ENTRIES);
    if (evicted.length) this.#host.logChanged('delete', evicted);
  }

  deleteLog(handlerId: string, errorId?: string): number {
    const removed = this.#log.delete(handlerId, errorId);
    if (removed.length) this.#host.logChanged('delete', removed);
    return removed.length;
  }

  // ---- ctx.store: each handler's own keys under handler/<id>/ ----

  async storeGet(handlerId: string, key: unknown): Promise<unknown> {
    const full = KEYS.handler(handlerId) + checkStoreKey(key, handlerId, 'get');
    await this.load();
    const pending = this.#batcher!.peek(full);
    if (pending.found) return pending.value;
    return this.#read((store) => store.get(full));
  }

  async storeSet(handlerId: string, key: unknown, value: unknown): Promise<void> {
    const k = checkStoreKey(key, handlerId, 'set');
    checkStoreValue(value, handlerId, k);
    const keys = await this.#keysOf(handlerId);
    if (!keys.has(k) && keys.size >= MAX_STORE_KEYS) {
      throw new SyncError('E_OUTOFMEMORY', `Handler '${handlerId}': ctx.store holds ${keys.size} keys, the most a handler may keep; delete some before adding '${k}'.`);
    }
    keys.add(k);
    this.#put(KEYS.handler(handlerId) + k, value);
  }

  async storeDelete(handlerId: string, key: unknown): Promise<boolean> {
    const k = checkStoreKey(key, handlerId, 'delete');
    const keys = await this.#keysOf(handlerId);
    const existed = keys.delete(k);
    if (existed) this.#put(KEYS.handler(handlerId) + k, undefined);
    return existed;
  }

  async storeKeys(handlerId: string, prefix: unknown): Promise<string[]> {
    const p = checkStorePrefix(prefix, handlerId, 'keys');
    return [...(await this.#keysOf(handlerId))].filter((k) => k.startsWith(p)).sort(byCodeUnit);
  }

  async storeEntries(handlerId: string, prefix: unknown): Promise<[string, unknown][]> {
    const full = KEYS.handler(handlerId) + checkStorePrefix(prefix, handlerId, 'entries');
    await this.load();
    const rows = new Map(await this.#read((store) => store.entries(full)));
    for (const [key, value] of this.#batcher!.peekPrefix(full)) {
      if (value === undefined) rows.delete(key);
      else rows.set(key, value);
    }
    const base = KEYS.handler(handlerId).length;
    return [...rows].sort((a, b) => byCodeUnit(a[0], b[0])).map(([key, value]) => [key.slice(base), value]);
  }

  // ---- loading ----

  async #load(): Promise<void> {
    let rows: [string, unknown][] = [];
    try {
      this.#store = this.#createStore();
      rows = await this.#guard(this.#readAll(this.#store), 'reading the stored state');
    } catch (error) {
      await this.#fallBack(error);
    }
    this.#batcher = new WriteBatcher(
      // Every write goes to the store of the moment, within the time limit.
      { write: (changes) => this.#guard(this.#store!.write(changes), 'writing state') } as StateStore,
      { interval: this.#host.flushInterval, onError: (error, batch) => this.#writeFailed(error, batch) },
    );
    const dropped = this.#rebuild(rows);
    this.#loaded = true;
    for (const change of this.#beforeLoad.splice(0)) change();
    if (dropped > 0) {
      this.addLog(managerEntry('syncmgr:unreadable-records', 'warning', `${dropped} stored record(s) could not be read and were ignored (damaged, or written by another program).`));
    }
    await this.#recover();
    this.#host.loaded();
  }

  #createStore(): StateStore {
    const storage = this.#host.storage;
    if (storage === 'memory') return new MemoryStateStore();
    if (storage === 'indexeddb') return this.#host.createIndexedDb(this.#host.name);
    return storage;
  }

  async #readAll(store: StateStore): Promise<[string, unknown][]> {
    await migrate(store, STATE_SCHEMA_VERSION);
    return store.entries(KEYS.managerPrefix);
  }

  /** Replaces the in-memory state with stored rows; answers how many were unreadable. */
  #rebuild(rows: readonly [string, unknown][]): number {
    this.#choices.clear();
    this.#items.clear();
    this.#sessions = [];
    this.#journal = null;
    const log: [number, LogEntry][] = [];
    let dropped = 0;
    for (const [key, value] of rows) {
      if (key === KEYS.meta) continue;
      if (key === KEYS.journal && isSessionJournal(value)) {
        this.#journal = { ...value, handlers: new Map(value.handlers.map(([h, items]) => [h, new Map(items)])) };
      } else if (key.startsWith(KEYS.choicesPrefix) && isChoices(value)) {
        this.#choices.set(key.slice(KEYS.choicesPrefix.length), new Map(value));
      } else if (key.startsWith(KEYS.itemsPrefix) && Array.isArray(value) && value.every(isItemRecord)) {
        this.#items.set(key.slice(KEYS.itemsPrefix.length), new Map(value.map((r) => [r.id, r])));
      } else if (key.startsWith(KEYS.logPrefix) && seqOf(key, KEYS.logPrefix) !== null && isLogEntry(value)) {
        log.push([seqOf(key, KEYS.logPrefix)!, value]);
      } else if (key.startsWith(KEYS.sessionPrefix) && seqOf(key, KEYS.sessionPrefix) !== null && isSessionSummary(value)) {
        this.#sessions.push({ seq: seqOf(key, KEYS.sessionPrefix)!, summary: value });
      } else {
        dropped++;
      }
    }
    this.#log.restore(log);
    this.#sessions.sort((a, b) => a.seq - b.seq);
    return dropped;
  }

  /** A journal found at load is a session that never ended, unless its lock is held (it runs in another tab). */
  async #recover(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    this.#journal = null;
    if (journal.lock && this.#host.locks) {
      try {
        if ((await this.#host.locks.held()).includes(journal.lock)) return;
      } catch {
        // Cannot tell: treat it as interrupted.
      }
    }
    const stopped: string[] = [];
    const handlers = [...journal.handlers].map(([handlerId, items]) => {
      const records = this.#items.get(handlerId);
      const summaryItems = [...items].map(([itemId, last]) => {
        const status: ItemStatus = isTerminal(last) ? last : 'stopped';
        if (status === 'stopped') stopped.push(`${handlerId}/${itemId}`);
        const record = records?.get(itemId);
        if (record) {
          record.status = status;
          record.lastSync = journal.updatedAt;
          if (status === 'succeeded') {
            record.lastSuccess = journal.updatedAt;
            record.lastError = null;
          }
        }
        return { id: itemId, name: record?.name ?? itemId, status };
      });
      if (records) this.#putItems(handlerId);
      return { id: handlerId, name: this.#host.handlerName(handlerId), outcome: 'interrupted' as const, error: INTERRUPTED_ERROR, items: summaryItems };
    });
    this.#addSession({ id: journal.sessionId, trigger: journal.trigger, outcome: 'interrupted', startedAt: journal.startedAt, endedAt: journal.updatedAt, handlers, connections: [] });
    const which = stopped.length ? `${stopped.length} item(s) were stopped: ${stopped.join(', ')}.` : 'No item had started.';
    this.addLog({
      ...managerEntry(INTERRUPTED_ERROR_ID_PREFIX + journal.sessionId, 'warning', `The sync session started at ${new Date(journal.startedAt).toISOString()} (trigger '${journal.trigger}') was interrupted: the page was closed, reloaded or crashed before it ended. ${which}`),
      sessionId: journal.sessionId,
    });
    this.#putJournal();
    for (const handlerId of journal.handlers.keys()) this.#host.itemsChanged(handlerId);
    await this.#batcher!.flush();
  }

  // ---- writing ----

  #mutate(change: () => void): void {
    if (this.#closed) throw new SyncError('E_UNEXPECTED', `SyncManager '${this.#host.name}' is closed; its state can no longer change.`);
    if (!this.#loaded) {
      this.#beforeLoad.push(change);
      void this.load();
    }
    change();
  }

  /** Queues a change for the store; before the load ends nothing is queued (changes are applied again after it). */
  #put(key: string, value: unknown): void {
    if (this.#loaded) this.#batcher!.put(key, value);
  }

  #putItems(handlerId: string): void {
    this.#put(KEYS.items(handlerId), [...(this.#items.get(handlerId)?.values() ?? [])]);
  }

  /** Called on every status change of a session: the record is built once per write, not per call. */
  #putJournal(): void {
    const j = this.#journal;
    if (!this.#loaded) return;
    if (!j) return this.#batcher!.put(KEYS.journal, undefined);
    j.updatedAt = Date.now();
    this.#batcher!.putLazy(KEYS.journal, () => journalRecord(j));
  }

  #addSession(summary: SessionSummary): void {
    const seq = (this.#sessions.at(-1)?.seq ?? 0) + 1;
    this.#sessions.push({ seq, summary });
    this.#put(KEYS.session(seq), summary);
    while (this.#sessions.length > MAX_SESSION_HISTORY) this.#put(KEYS.session(this.#sessions.shift()!.seq), undefined);
    this.#host.sessionsChanged();
  }

  #loggedError(handlerId: string, itemId: string, sessionId: string): StoredError | null {
    const entry = this.#log.list().reverse().find((e) => e.level === 'error' && e.handlerId === handlerId && e.itemId === itemId && e.sessionId === sessionId);
    return entry ? { name: 'LogEntry', code: null, message: entry.text } : null;
  }

  /** Reads from the store; a failure moves to memory and reads there. */
  async #read<T>(read: (store: StateStore) => Promise<T>): Promise<T> {
    const store = this.#store!;
    try {
      return await this.#guard(read(store), 'reading state');
    } catch (error) {
      await this.#fallBack(error); // once: later failures wait for the same fallback
      if (this.#store === store) throw error; // the memory store itself refused: not a storage failure
      return read(this.#store!);
    }
  }

  async #keysOf(handlerId: string): Promise<Set<string>> {
    await this.load();
    let keys = this.#handlerKeys.get(handlerId);
    if (!keys) {
      const prefix = KEYS.handler(handlerId);
      keys = this.#read((store) => store.keys(prefix)).then((stored) => {
        const set = new Set(stored.map((k) => k.slice(prefix.length)));
        for (const [key, value] of this.#batcher!.peekPrefix(prefix)) {
          if (value === undefined) set.delete(key.slice(prefix.length));
          else set.add(key.slice(prefix.length));
        }
        return set;
      });
      this.#handlerKeys.set(handlerId, keys);
      keys.catch(() => this.#handlerKeys.delete(handlerId));
    }
    return keys;
  }

  async #writeFailed(error: unknown, batch: Map<string, unknown>): Promise<void> {
    await this.#fallBack(error);
    try {
      await this.#store!.write(batch);
    } catch {
      // The memory store refuses only what cannot be cloned, which never reaches it.
    }
  }

  /** Moves the state to memory, once: keeps what it can, reports it once (event and log entry). */
  #fallBack(error: unknown): Promise<void> {
    return (this.#fallback ??= (async () => {
      const failed = this.#store;
      const kind = this.#kind;
      const memory = new MemoryStateStore();
      if (failed) {
        try {
          // Keep the handlers' keys if the failed store can still read them.
          await memory.write(new Map(await this.#guard(failed.entries('handler/'), 'copying handler keys')));
        } catch {
          // Unreadable: the handlers start over.
        }
        // Not awaited: a store that hangs (a blocked upgrade) would hang its close too.
        void (async () => failed.close?.())().catch(() => {});
      }
      if (this.#loaded) await memory.write(this.#snapshot());
      this.#store = memory;
      this.#kind = 'memory';
      this.#handlerKeys.clear();
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const report = new SyncError('E_FAIL', `The ${kind} state store failed (${why}); choices, item states, the log, the history and handler stores are kept in memory from now on and will not survive a reload.`, { cause: error });
      const log = () => this.addLog(managerEntry(FALLBACK_ERROR_ID, 'warning', report.message));
      if (this.#loaded) log();
      else this.#beforeLoad.push(log);
      this.#host.fellBack(report);
    })());
  }

  /** Every manager key as it should be stored now. */
  #snapshot(): Map<string, unknown> {
    const out = new Map<string, unknown>([[KEYS.meta, { schema: STATE_SCHEMA_VERSION }]]);
    for (const [handlerId, choices] of this.#choices) out.set(KEYS.choices(handlerId), [...choices]);
    for (const [handlerId, records] of this.#items) out.set(KEYS.items(handlerId), [...records.values()]);
    for (const [seq, entry] of this.#log.records()) out.set(KEYS.log(seq), entry);
    for (const { seq, summary } of this.#sessions) out.set(KEYS.session(seq), summary);
    if (this.#journal) out.set(KEYS.journal, journalRecord(this.#journal));
    return out;
  }

  /** Rejects with `E_TIMEOUT` when `promise` does not settle within the storage time limit. */
  #guard<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SyncError('E_TIMEOUT', `The state store did not answer within ${this.#host.timeout} ms while ${what} (a blocked IndexedDB upgrade never answers).`)), this.#host.timeout);
    });
    promise.catch(() => {}); // if the limit wins, a late rejection is not unhandled
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }
}

const INTERRUPTED_ERROR: StoredError = { name: 'SyncError', code: 'E_ABORT', message: 'The session was interrupted: the page was closed, reloaded or crashed before it ended.' };

function managerEntry(errorId: string, level: LogEntry['level'], text: string): LogEntry {
  return { errorId, level, text, handlerId: null, itemId: null, actionable: false, time: Date.now(), sessionId: null };
}

/** The journal in memory: maps instead of the stored pairs. */
interface LiveJournal extends Omit<SessionJournal, 'handlers'> {
  handlers: Map<string, Map<string, ItemStatus>>;
}

function journalRecord(j: LiveJournal): SessionJournal {
  return { sessionId: j.sessionId, trigger: j.trigger, startedAt: j.startedAt, updatedAt: j.updatedAt, lock: j.lock, handlers: [...j.handlers].map(([h, items]) => [h, [...items]]) };
}

function copyRecord(r: ItemRecord): ItemRecord {
  return { ...r, lastError: r.lastError && { ...r.lastError } };
}
