/**
 * The sync manager: registers handlers and endpoints, runs sessions one at a
 * time, keeps the user's item choices, the items' last state, the log and the
 * session history (persisted: see state/), and reports everything as events.
 * It wires its parts once: its state and its sessions dispatch their events
 * on it, and every session gets the same {@link SessionServices}.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { webLocks } from '../protocol/locks.ts';
import { MAX_ITEM_ID_LENGTH, type Trigger } from '../protocol/types.ts';
import { typedEventTarget } from '../internal/typed-event-target.ts';
import { IndexedDbStateStore, stateDatabaseName } from '../storage/indexeddb-state-store.ts';
import type { StorageKind } from '../state/backing-store.ts';
import type { LogEntry } from '../state/log-book.ts';
import { ManagerState } from '../state/manager-state.ts';
import type { ItemRecord, SessionSummary } from '../state/records.ts';
import { resolveOptions, type ResolvedOptions, type SyncManagerOptions } from './options.ts';
import type { SyncManagerEventMap } from './events.ts';
import { SyncSession } from './session.ts';
import type { SessionResult } from './result.ts';
import { toRequest, validateSynchronizeOptions, type SynchronizeOptions } from './session-options.ts';
import { mergeable, covers, type SessionRequest } from './session-request.ts';
import { SessionQueue, type PendingSession } from './session-queue.ts';
import { askHandler } from './show-error.ts';
import { planRetry } from './auto-retry.ts';
import { RETRY_ERROR_ID, retryEntry } from '../state/failure-entries.ts';
import type { SessionServices } from './session-services.ts';
import { startTriggers } from '../triggers/trigger-hub.ts';
import { debouncedStart } from '../triggers/invoke.ts';

export type { ItemRecord } from '../state/records.ts';

/** A handler as the manager presents it. */
export interface HandlerInfo {
  id: string;
  name: string;
  /** Endpoints it may establish; `null`: all. */
  endpoints: string[] | null;
  /** The triggers it takes part in. */
  triggers: Trigger[];
}

/** Options of `manager.invoke()`: those of `synchronize()` that app code gives with a request. */
export type InvokeOptions = Pick<SynchronizeOptions, 'handlers' | 'items' | 'cookie' | 'mayBotherUser'>;

/** Options of `manager.retry()`. */
export type RetryOptions = Pick<SynchronizeOptions, 'cookie' | 'mayBotherUser' | 'signal'>;

export class SyncManager extends typedEventTarget<SyncManagerEventMap>() {
  readonly name: string;
  readonly #options: ResolvedOptions;
  /** Choices (kept for items a handler does not list now: SyncMgr's MISSINGITEMS rule), item states, log, history, handler stores. */
  readonly #state: ManagerState;
  readonly #services: SessionServices;
  readonly #sessions = new Set<SyncSession>();
  readonly #queue: SessionQueue;
  readonly #stopTriggers: () => void;
  /** Per automatic retry waiting or running: deletes its `retry` log entries. */
  readonly #retryEntries = new Map<SyncSession, () => void>();
  #closing: Promise<void> | null = null;

  /** Throws a `SyncError` (`E_INVALIDARG`) naming the option to fix. */
  constructor(options: SyncManagerOptions) {
    super();
    this.#options = resolveOptions(options);
    this.name = this.#options.name;
    // Nothing opens here: the state loads on first use.
    this.#state = new ManagerState({
      name: this.name,
      storage: this.#options.storage,
      timeout: this.#options.timeouts.storage,
      locks: webLocks(),
      openIndexedDb: (name) => new IndexedDbStateStore(stateDatabaseName(name)),
      handlerNames: new Map([...this.#options.handlers.values()].map((h) => [h.id, h.name])),
      events: this,
    });
    this.#services = { options: this.#options, state: this.#state, events: this };
    const { triggers } = this.#options;
    this.#queue = new SessionQueue((session) => this.#run(session), triggers.environment.network);
    this.#stopTriggers = startTriggers(triggers, this.#options.handlers.values(), (trigger, handlers) => {
      // A trigger that fires while its handlers already sync what they would sync again adds nothing.
      this.synchronize({ trigger, handlers, whenSyncing: 'join' });
    });
  }

  /**
   * Starts a session, or queues it behind the one running, and returns at
   * once; `session.done` resolves with the result. A request for the same
   * handlers and cookie as a session still waiting for its turn merges into
   * it (and answers that session): items united, the stronger trigger kept.
   */
  synchronize(options?: SynchronizeOptions): SyncSession {
    if (this.#closing) throw new SyncError('E_UNEXPECTED', `SyncManager '${this.name}' is closed; create a new one to synchronize.`);
    const valid = validateSynchronizeOptions(options, this.#options.handlers);
    const request = toRequest(valid, this.#options.handlers);
    const debounce = request.trigger === 'invoke' ? this.#options.triggers.invoke : null;
    if (request.trigger === 'invoke' && !debounce) throw new SyncError('E_INVALIDARG', `SyncManager '${this.name}': the invoke trigger is switched off (triggers.invoke is false).`);
    const active = this.#queue.active;
    if (valid.whenSyncing === 'join' && active && !valid.signal && covers(active.request, request, (h, i) => this.#isChecked(h, i))) return active;
    const now = Date.now();
    const waiting = valid.signal ? null : this.#queue.find((s) => mergeable(s.request, request));
    if (waiting?.session.absorb(request, false)) {
      const merged = waiting.session;
      // A debounce moves on with each request (bounded by maxWait); any other request may only bring the start forward.
      const notBefore = debounce && merged.trigger === 'invoke' ? debouncedStart(waiting.since, now, debounce.debounce, debounce.maxWait) : 0;
      this.#queue.reschedule(merged, notBefore);
      return merged;
    }
    const session = new SyncSession(this.#options.handlers, request, valid.signal);
    this.#sessions.add(session);
    void session.done.then(() => this.#sessions.delete(session));
    this.#queue.add(session, debounce ? now + debounce.debounce : 0, this.#waitsForNetwork(request));
    return session;
  }

  /**
   * SyncMgr's INVOKE: a request from app code (after a local change, say).
   * Requests within `triggers.invoke.debounce` ms of each other become one
   * session (see `synchronize()` for how they merge).
   */
  invoke(options?: InvokeOptions): SyncSession {
    if (options !== undefined && (typeof options !== 'object' || options === null || 'trigger' in options)) {
      throw new SyncError('E_INVALIDARG', 'invoke(options) takes an object like { handlers, items, cookie } (its trigger is always invoke).');
    }
    return this.synchronize({ ...options, trigger: 'invoke' });
  }

  /** Runs a session for exactly these items of one handler (trigger `manual`), e.g. those that failed. */
  retry(handlerId: string, itemIds: string[], options?: RetryOptions): SyncSession {
    this.#checkHandler(handlerId, 'retry');
    if (!Array.isArray(itemIds) || itemIds.length === 0 || !itemIds.every((id) => typeof id === 'string')) {
      throw new SyncError('E_INVALIDARG', 'retry(handlerId, itemIds): itemIds must be a non-empty array of item ids.');
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new SyncError('E_INVALIDARG', 'retry(handlerId, itemIds, options): options must be an object like { cookie, signal }.');
    return this.synchronize({ ...options, trigger: 'manual', handlers: [handlerId], items: { [handlerId]: itemIds } });
  }

  /**
   * SyncMgr's ShowError: the user opened an actionable log entry of a handler.
   * Starts the handler in a fresh worker and calls its `showError(errorId)`;
   * when it answers `{ retry: itemIds }` (ShowErrorCompleted with RETRYSYNC),
   * runs a session for exactly those items (trigger `manual`) and resolves
   * with it; `null` when it asks for nothing. Without that hook, the entry's
   * item is retried (the handler's chosen items, for an entry without one).
   * `handlerId` is needed only when two handlers use the same errorId.
   */
  async showError(errorId: string, handlerId?: string): Promise<SyncSession | null> {
    if (typeof errorId !== 'string') throw new SyncError('E_INVALIDARG', 'showError(errorId, handlerId?): errorId must be the string of a log entry.');
    if (handlerId !== undefined) this.#checkHandler(handlerId, 'showError');
    await this.#state.load();
    const found = this.#state.log().filter((e) => e.errorId === errorId && e.handlerId !== null && (handlerId === undefined || e.handlerId === handlerId));
    if (found.length === 0) throw new SyncError('E_INVALIDARG', `showError(): no log entry of a handler has the errorId ${JSON.stringify(errorId)}.`);
    if (found.length > 1) throw new SyncError('E_INVALIDARG', `showError(): the errorId ${JSON.stringify(errorId)} is used by handlers ${found.map((e) => e.handlerId).join(', ')}; pass the handlerId too.`);
    const entry = found[0]! as LogEntry & { handlerId: string };
    if (!entry.actionable) throw new SyncError('E_INVALIDARG', `showError(): the entry ${JSON.stringify(errorId)} of handler '${entry.handlerId}' is not actionable (only entries logged with actionable: true can be opened).`);
    if (this.#closing) throw new SyncError('E_UNEXPECTED', `SyncManager '${this.name}' is closed; create a new one to show errors.`);
    const answer = await askHandler(this.#options.handlers.get(entry.handlerId)!, entry);
    if (answer === null || this.#closing) return null;
    if (answer === 'choices') return this.synchronize({ trigger: 'manual', handlers: [entry.handlerId] });
    return answer.length === 0 ? null : this.retry(entry.handlerId, answer);
  }

  /** The sessions waiting to run, in order, and what each waits for. */
  pending(): PendingSession[] {
    return this.#queue.pending();
  }

  /** Runs one session; a failure here must not stall the queue behind it. */
  async #run(session: SyncSession): Promise<void> {
    const hidden = this.#options.triggers.hidden;
    // A session of a hiding page is best effort: it gets the budget, not the handlers' limits.
    const budget = session.trigger === 'hidden' && hidden ? setTimeout(() => session.cancel(), hidden.budget) : undefined;
    this.#retryEntries.get(session)?.();
    try {
      await session.run(this.#services);
      // Planned before the next session starts: the queue pumps once this run has settled.
      if (!this.#closing) this.#retryLater(session.request, await session.done);
    } catch (error) {
      reportError(error);
      session.fail();
    } finally {
      clearTimeout(budget);
    }
  }

  /** Queues the automatic retry of a session that failed (auto-retry.ts), with a `retry` entry per handler until it runs. */
  #retryLater(request: SessionRequest, result: SessionResult): void {
    const plan = planRetry(request, result, this.#options.retry);
    if (!plan) return;
    const session = new SyncSession(this.#options.handlers, plan.request);
    this.#sessions.add(session);
    for (const id of plan.request.handlers) {
      const at = { handlerId: id, handlerName: this.#options.handlers.get(id)!.name, sessionId: result.id };
      this.#state.addLog(retryEntry(at, plan.request.attempt, this.#options.retry!.retries, plan.delay, plan.retryAfter.get(id) != null));
    }
    // The entries go when the retry starts or ends without starting (cancelled); a later failure writes its own.
    const gone = () => {
      for (const id of plan.request.handlers) this.#state.deleteLogWhere(id, (e) => e.errorId === RETRY_ERROR_ID && e.sessionId === result.id);
    };
    this.#retryEntries.set(session, gone);
    void session.done.then(() => {
      gone();
      this.#retryEntries.delete(session);
      this.#sessions.delete(session);
    });
    this.#queue.add(session, Date.now() + plan.delay, this.#waitsForNetwork(plan.request), 'retry');
  }

  /** Waits for the network: started by a trigger other than `manual` while offline, with a handler that may connect. */
  #waitsForNetwork(request: SessionRequest): boolean {
    if (request.trigger === 'manual' || this.#options.endpoints.size === 0) return false;
    return request.handlers.some((id) => this.#options.handlers.get(id)!.endpoints?.size !== 0);
  }

  #isChecked(handlerId: string, itemId: string): boolean {
    return this.#state.items(handlerId).find((i) => i.id === itemId)?.checked ?? false;
  }

  /** The session running now, if any. */
  get activeSession(): SyncSession | null {
    return this.#queue.active;
  }

  /** The registered handlers, in registration order. */
  handlers(): HandlerInfo[] {
    return [...this.#options.handlers.values()].map((h) => ({ id: h.id, name: h.name, endpoints: h.endpoints ? [...h.endpoints] : null, triggers: [...h.triggers] }));
  }

  /**
   * Reads the stored state; resolves once it is in memory (`statechange`
   * with part `loaded` fires then). Starts by itself on first use of any
   * method below; until it ends, the getters answer what is known so far.
   * Never rejects: a failing store falls back to memory (`storagefallback`).
   */
  load(): Promise<void> {
    return this.#state.load();
  }

  /** `true` once the stored state has been read. */
  get loaded(): boolean {
    return this.#state.loaded;
  }

  /** What keeps the state now: `indexeddb`, `memory` (configured, or after a fallback) or `custom`. */
  get storage(): StorageKind {
    return this.#state.storage;
  }

  /** The items a handler listed in its last session, with the user's choice and their last state. */
  items(handlerId: string): ItemRecord[] {
    this.#checkHandler(handlerId, 'items');
    return this.#state.items(handlerId);
  }

  /** Stores the user's choice for an item; it decides whether later sessions include it. Written at once (batched with other changes). */
  setItemChecked(handlerId: string, itemId: string, checked: boolean): void {
    this.#checkHandler(handlerId, 'setItemChecked');
    if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > MAX_ITEM_ID_LENGTH) {
      throw new SyncError('E_INVALIDARG', `setItemChecked(handlerId, itemId, checked): itemId must be a string of 1 to ${MAX_ITEM_ID_LENGTH} characters.`);
    }
    if (typeof checked !== 'boolean') throw new SyncError('E_INVALIDARG', 'setItemChecked(handlerId, itemId, checked): checked must be a boolean.');
    this.#state.setItemChecked(handlerId, itemId, checked);
  }

  /** The log, oldest first (at most `MAX_LOG_ENTRIES`). */
  log(): LogEntry[] {
    return this.#state.log();
  }

  /** Deletes every log entry. */
  clearLog(): void {
    this.#state.clearLog();
  }

  /** Deletes one log entry (`handlerId` `null`: one of the manager's own); `false` when there is none. */
  deleteLogEntry(handlerId: string | null, errorId: string): boolean {
    if (handlerId !== null && typeof handlerId !== 'string') throw new SyncError('E_INVALIDARG', 'deleteLogEntry(handlerId, errorId): handlerId must be a string, or null for the manager\'s own entries.');
    if (typeof errorId !== 'string') throw new SyncError('E_INVALIDARG', 'deleteLogEntry(handlerId, errorId): errorId must be a string.');
    return this.#state.deleteLogEntry(handlerId, errorId);
  }

  /** Summaries of the last `MAX_SESSION_HISTORY` sessions, oldest first, including interrupted ones. */
  sessions(): SessionSummary[] {
    return this.#state.sessions();
  }

  /** Writes pending state changes now; resolves when they are stored. Never rejects. */
  flush(): Promise<void> {
    return this.#state.flush();
  }

  /**
   * Cancels running and queued sessions, waits for them to end (connections
   * closed, workers terminated); idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopTriggers();
      for (const session of this.#queue.close()) session.cancel();
      const sessions = [...this.#sessions];
      for (const session of sessions) session.cancel();
      await Promise.all(sessions.map((s) => s.done));
      await this.#queue.idle();
      await this.#state.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkHandler(handlerId: unknown, method: string): void {
    if (typeof handlerId !== 'string' || !this.#options.handlers.has(handlerId)) {
      throw new SyncError('E_INVALIDARG', `${method}(): handler ${JSON.stringify(handlerId)} is not registered; registered: ${[...this.#options.handlers.keys()].join(', ')}.`);
    }
  }
}
