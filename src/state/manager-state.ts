/**
 * The manager's state and its persistence: the user's item choices, the
 * items' last state, the log, the session history, the journal of the running
 * session and the handlers' `ctx.store` keys, kept in memory and written to a
 * {@link StateStore} by this single writer. This class is the façade the
 * manager and its sessions use; the rest of this folder are its parts.
 *
 * Its contract:
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
import { SyncError } from '../protocol/sync-error.ts';
import { isHeld, type Locks } from '../protocol/locks.ts';
import type { ItemInfo, ItemStatus, Trigger } from '../protocol/types.ts';
import type { StateStore } from '../storage/state-store.ts';
import type { WriteBatcher } from '../storage/write-batcher.ts';
import { BackingStore, type BackingStoreOptions, type StorageKind } from './backing-store.ts';
import { LogEvent, StateChangeEvent, StorageFallbackEvent, type LogAction } from './events.ts';
import { HandlerStores } from './handler-stores.ts';
import { RunningJournal, type LiveJournal } from './journal.ts';
import { interrupt, readStoredRows, restoreState, type NumberedSession } from './loader.ts';
import { LogBook, MAX_LOG_ENTRIES, type LogEntry } from './log-book.ts';
import { RETRY_ERROR_ID, resolvedFailures } from './failure-entries.ts';
import { fallbackEntry, unreadableRecordsEntry, unstorableEntry } from './own-entries.ts';
import { KEYS, MAX_SESSION_HISTORY, STATE_SCHEMA_VERSION, type ItemRecord, type SessionSummary, type StoredError } from './records.ts';

/** What the state is given by its manager, once. */
export interface StateOptions extends BackingStoreOptions {
  /** Web Locks for the session journal; `null` where there are none. */
  readonly locks: Locks | null;
  /** Display names of the registered handlers (the history of an interrupted session names them). */
  readonly handlerNames: ReadonlyMap<string, string>;
  /** Where the state dispatches its events ({@link StateChangeEvent}, {@link LogEvent}, {@link StorageFallbackEvent}): the manager. */
  readonly events: EventTarget;
}

/** Which items of one handler a session syncs: its checked items (`choices`), these `ids`, or both. */
export interface ItemSelection {
  readonly choices: boolean;
  readonly ids: ReadonlySet<string>;
}

export class ManagerState {
  readonly #options: StateOptions;
  readonly #storage: BackingStore;
  readonly #journal: RunningJournal;
  /** The handlers' `ctx.store`: each call names the handler. */
  readonly handlerStores: HandlerStores;
  #loading: Promise<void> | null = null;
  #loaded = false;
  #closed = false;
  #closing: Promise<void> | null = null;
  /** Changes made before the load finished: applied again on top of the loaded state. */
  #beforeLoad: (() => void)[] = [];
  #choices = new Map<string, Map<string, boolean>>();
  #items = new Map<string, Map<string, ItemRecord>>();
  readonly #log = new LogBook((seq, entry) => this.#storage.put(KEYS.log(seq), entry));
  #sessions: NumberedSession[] = [];

  constructor(options: StateOptions) {
    this.#options = options;
    this.#storage = new BackingStore(options, {
      loaded: () => this.#loaded,
      snapshot: () => this.#snapshot(),
      fellBack: (report) => this.#fellBack(report),
      unstorable: (keys) => this.addLog(unstorableEntry(keys)),
    });
    this.#journal = new RunningJournal(options.name, options.locks, this.#storage);
    this.handlerStores = new HandlerStores(this.#storage, () => this.load());
  }

  /** What backs the state now (`memory` after a fallback). */
  get storage(): StorageKind {
    return this.#storage.kind;
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
    await this.#storage.flush();
  }

  /** Flushes and closes the store; later changes throw `E_UNEXPECTED`. Idempotent (every call resolves when it is closed), never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      if (!this.#loading) return;
      await this.#loading;
      await this.#storage.close();
    })();
    return this.#closing;
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
      this.#storage.put(KEYS.choices(handlerId), [...choices]);
      const record = this.#items.get(handlerId)?.get(itemId);
      if (record && record.checked !== checked) {
        record.checked = checked;
        this.#putItems(handlerId);
      }
      this.#itemsChanged(handlerId);
    });
  }

  clearLog(): void {
    this.#mutate(() => {
      const removed = this.#log.clear();
      if (removed.length) this.#logChanged('delete', removed);
    });
  }

  /** Deletes a log entry of a handler (`null`: the manager's own); `false` when there is none. Applied at once, even before loading ends. */
  deleteLogEntry(handlerId: string | null, errorId: string): boolean {
    let found = false;
    this.#mutate(() => {
      const removed = this.#log.delete(handlerId, errorId);
      found ||= removed.length > 0;
      if (removed.length) this.#logChanged('delete', removed);
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
    const release = await this.#journal.begin(sessionId, trigger);
    await this.#storage.flush();
    return release;
  }

  /**
   * Merges a handler's listed items with the user's choices into its item
   * records and answers the selection: the listed items the selection names,
   * plus the checked ones where it takes the user's choices (no selection: the checked items). The records and the journal are written with the next batch.
   */
  select(handlerId: string, listed: readonly ItemInfo[], selection: ItemSelection | undefined): string[] {
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
    const chosen = (id: string) => (selection ? selection.ids.has(id) || (selection.choices && records.get(id)!.checked) : records.get(id)!.checked);
    const selected = listed.filter((item) => chosen(item.id)).map((item) => item.id);
    this.#journal.select(handlerId, selected);
    // Written with the next batch (within STATE_FLUSH_INTERVAL), like every other change of the session:
    // a flush per handler would put one IndexedDB write per handler on the session's path.
    this.#itemsChanged(handlerId);
    return selected;
  }

  /** An item's status changed during the session: recorded in the journal (batched). */
  itemStatus(handlerId: string, itemId: string, status: ItemStatus): void {
    this.#journal.itemStatus(handlerId, itemId, status);
  }

  /**
   * Records a session that ended, as its history tells it (item states, the
   * history entry), deletes its journal and writes it all before resolving.
   */
  async endSession(summary: SessionSummary): Promise<void> {
    for (const handler of summary.handlers) {
      const resolved = this.#log.deleteWhere(handler.id, resolvedFailures(handler, summary.id));
      if (resolved.length) this.#logChanged('delete', resolved);
      const records = this.#items.get(handler.id);
      if (!records || handler.items.length === 0) continue;
      for (const item of handler.items) {
        const record = records.get(item.id);
        if (!record) continue;
        record.status = item.status;
        record.lastSync = summary.endedAt;
        if (item.status === 'succeeded') {
          record.lastSuccess = summary.endedAt;
          record.lastError = null;
        } else if (item.status === 'failed') {
          record.lastError = handler.error ?? this.#loggedError(handler.id, item.id, summary.id) ?? record.lastError;
        }
      }
      this.#putItems(handler.id);
      this.#itemsChanged(handler.id);
    }
    this.#addSession(summary);
    this.#journal.end(summary.id);
    await this.#storage.flush();
  }

  addLog(entry: LogEntry): void {
    const replaced = this.#log.add(entry);
    if (replaced) this.#logChanged('delete', [replaced]);
    this.#logChanged('add', [entry]);
    const evicted = this.#log.trim(MAX_LOG_ENTRIES);
    if (evicted.length) this.#logChanged('delete', evicted);
  }

  /** Deletes the handler's entries `match` picks; how many went. */
  deleteLogWhere(handlerId: string, match: (entry: LogEntry) => boolean): number {
    const removed = this.#log.deleteWhere(handlerId, match);
    if (removed.length) this.#logChanged('delete', removed);
    return removed.length;
  }

  deleteLog(handlerId: string, errorId?: string): number {
    const removed = this.#log.delete(handlerId, errorId);
    if (removed.length) this.#logChanged('delete', removed);
    return removed.length;
  }

  // ---- loading ----

  async #load(): Promise<void> {
    const stored = restoreState(await this.#storage.open(readStoredRows));
    this.#choices = stored.choices;
    this.#items = stored.items;
    this.#log.restore(stored.log);
    this.#sessions = stored.sessions;
    this.#loaded = true;
    // An automatic retry waits in the memory of the manager that planned it: none outlives a reload.
    const stale: LogEntry[] = [];
    for (const handlerId of this.#options.handlerNames.keys()) stale.push(...this.#log.deleteWhere(handlerId, (e) => e.errorId === RETRY_ERROR_ID));
    if (stale.length) this.#logChanged('delete', stale);
    for (const change of this.#beforeLoad.splice(0)) change();
    if (stored.dropped > 0) this.addLog(unreadableRecordsEntry(stored.dropped));
    if (stored.journal) await this.#recover(stored.journal);
    this.#options.events.dispatchEvent(new StateChangeEvent('loaded'));
  }

  /** A journal found at load is a session that never ended, unless its lock is held (it runs in another tab). */
  async #recover(journal: LiveJournal): Promise<void> {
    // Held: the session runs in another tab. When that cannot be told, it counts as interrupted.
    if (journal.lock && this.#options.locks && (await isHeld(this.#options.locks, journal.lock))) return;
    const { summary, entry, changed } = interrupt(journal, this.#items, this.#options.handlerNames);
    for (const handlerId of changed) this.#putItems(handlerId);
    this.#addSession(summary);
    this.addLog(entry);
    this.#journal.write(); // no session runs yet: deletes the stored journal
    for (const handlerId of journal.handlers.keys()) this.#itemsChanged(handlerId);
    await this.#storage.flush();
  }

  // ---- writing ----

  #mutate(change: () => void): void {
    if (this.#closed) throw new SyncError('E_UNEXPECTED', `SyncManager '${this.#options.name}' is closed; its state can no longer change.`);
    if (!this.#loaded) {
      this.#beforeLoad.push(change);
      void this.load();
    }
    change();
  }

  #putItems(handlerId: string): void {
    this.#storage.put(KEYS.items(handlerId), [...(this.#items.get(handlerId)?.values() ?? [])]);
  }

  #addSession(summary: SessionSummary): void {
    const seq = (this.#sessions.at(-1)?.seq ?? 0) + 1;
    this.#sessions.push({ seq, summary });
    this.#storage.put(KEYS.session(seq), summary);
    while (this.#sessions.length > MAX_SESSION_HISTORY) this.#storage.put(KEYS.session(this.#sessions.shift()!.seq), undefined);
    this.#options.events.dispatchEvent(new StateChangeEvent('sessions'));
  }

  #itemsChanged(handlerId: string): void {
    this.#options.events.dispatchEvent(new StateChangeEvent('items', handlerId));
  }

  #logChanged(action: LogAction, entries: readonly LogEntry[]): void {
    this.#options.events.dispatchEvent(new LogEvent(action, entries));
  }

  #loggedError(handlerId: string, itemId: string, sessionId: string): StoredError | null {
    const entry = this.#log.list().reverse().find((e) => e.level === 'error' && e.handlerId === handlerId && e.itemId === itemId && e.sessionId === sessionId);
    return entry ? { name: 'LogEntry', code: null, message: entry.text } : null;
  }

  /** The store failed and the state now lives in memory: forget what was read from it, log it (after the load) and report it. */
  #fellBack(report: SyncError): void {
    this.handlerStores.forget();
    const log = () => this.addLog(fallbackEntry(report.message));
    if (this.#loaded) log();
    else this.#beforeLoad.push(log);
    this.#options.events.dispatchEvent(new StorageFallbackEvent(report));
  }

  /** Every manager key as it should be stored now. */
  #snapshot(): Map<string, unknown> {
    const out = new Map<string, unknown>([[KEYS.meta, { schema: STATE_SCHEMA_VERSION }]]);
    for (const [handlerId, choices] of this.#choices) out.set(KEYS.choices(handlerId), [...choices]);
    for (const [handlerId, records] of this.#items) out.set(KEYS.items(handlerId), [...records.values()]);
    for (const [seq, entry] of this.#log.records()) out.set(KEYS.log(seq), entry);
    for (const { seq, summary } of this.#sessions) out.set(KEYS.session(seq), summary);
    const journal = this.#journal.record();
    if (journal) out.set(KEYS.journal, journal);
    return out;
  }
}

function copyRecord(r: ItemRecord): ItemRecord {
  return { ...r, lastError: r.lastError && { ...r.lastError } };
}
