/**
 * A sync session: runs the participating handlers side by side, and when the
 * last one has finished (whatever way), closes every connection the session
 * opened, records the result, ends the workers and reports the result
 * (DESIGN.md §3 step 7).
 */
import { SyncError } from '../protocol/errors.ts';
import { TRIGGERS, type ItemInfo, type Trigger } from '../protocol/types.ts';
import { ConnectionPool } from '../connections/pool.ts';
import type { LogEntry } from './log-book.ts';
import type { ResolvedHandler, ResolvedOptions } from './options.ts';
import type { HandlerResult, SessionResult } from './result.ts';
import { sessionOutcome } from './result.ts';
import { ConnectionEvent, SessionEvent } from './events.ts';
import { HandlerSlot, type HandlerStoreHost } from './handler-slot.ts';
import { deferred } from '../internal/deferred.ts';

/** Options of `manager.synchronize()`. */
export interface SynchronizeOptions {
  /** What started it. Default `'manual'`. */
  trigger?: Trigger;
  /** Ids of the handlers that take part. Default: every registered handler. */
  handlers?: string[];
  /** Per handler, exactly these items (ignoring the user's choices), e.g. to retry them. Default: the user's choices. */
  items?: Record<string, string[]>;
  /** Opaque, structured-cloneable data handed to every handler's `initialize()`. Default `null`. */
  cookie?: unknown;
  /** The user is watching and UI is welcome. Default: `true` for `'manual'`, else `false`. */
  mayBotherUser?: boolean;
  /** Aborting it cancels the session. */
  signal?: AbortSignal;
}

export type SessionState = 'queued' | 'running' | 'ended';

/** What a session needs from its manager. */
export interface SessionContext {
  readonly options: ResolvedOptions;
  /** Settles when the manager's state is loaded and the session's journal begun (see SlotHost.begun). */
  readonly begun: Promise<unknown>;
  emit(event: Event): void;
  select(handlerId: string, items: ItemInfo[], only: readonly string[] | undefined): string[];
  addLog(entry: LogEntry): void;
  deleteLog(handlerId: string, errorId?: string): number;
  /** The handlers' `ctx.store`. */
  readonly store: HandlerStoreHost;
  /** Persists the result (item states, history) before `sessionend` and `done`; must not reject. */
  record(result: SessionResult): Promise<void>;
}

const OPTION_KEYS = ['trigger', 'handlers', 'items', 'cookie', 'mayBotherUser', 'signal'];

export class SyncSession {
  readonly id: string = crypto.randomUUID();
  readonly trigger: Trigger;
  /** Resolves with the result when the session has ended; never rejects. */
  readonly done: Promise<SessionResult>;
  readonly #handlers: readonly ResolvedHandler[];
  readonly #items: Record<string, string[]> | undefined;
  readonly #cookie: unknown;
  readonly #mayBotherUser: boolean;
  readonly #done = deferred<SessionResult>();
  #state: SessionState = 'queued';
  #cancelled = false;
  #slots: HandlerSlot[] = [];
  /** Skips asked for before the handlers' slots exist (a queued or starting session). */
  readonly #pendingSkips: [string, string][] = [];
  #pool: ConnectionPool | null = null;
  #stopListening = () => {};

  /** @internal Built by `SyncManager.synchronize()`, which validates `options` first. */
  constructor(all: ReadonlyMap<string, ResolvedHandler>, options: SynchronizeOptions) {
    this.trigger = options.trigger ?? 'manual';
    this.#handlers = options.handlers ? options.handlers.map((id) => all.get(id)!) : [...all.values()];
    this.#items = options.items;
    this.#cookie = options.cookie ?? null;
    this.#mayBotherUser = options.mayBotherUser ?? this.trigger === 'manual';
    this.done = this.#done.promise;
    const signal = options.signal;
    if (signal?.aborted) this.cancel();
    else if (signal) {
      // Removed when the session ends: an app-lifetime signal must not keep ended sessions alive.
      const onAbort = () => this.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#stopListening = () => signal.removeEventListener('abort', onAbort);
    }
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Cancels the session: handlers are told to stop (see `timeouts.cancel`); a queued session never starts. */
  cancel(): void {
    if (this.#cancelled || this.#state === 'ended') return;
    this.#cancelled = true;
    for (const slot of this.#slots) slot.cancel();
  }

  /** Skips an item of a handler (SyncMgr's SetItemStatus(SKIPPED)); `false` if it is unknown or finished. */
  skip(handlerId: string, itemId: string): boolean {
    if (typeof handlerId !== 'string' || typeof itemId !== 'string') {
      throw new SyncError('E_INVALIDARG', 'session.skip(handlerId, itemId) takes two strings.');
    }
    if (this.#state === 'ended') return false;
    if (this.#slots.length === 0) {
      if (!this.#handlers.some((h) => h.id === handlerId)) return false;
      this.#pendingSkips.push([handlerId, itemId]);
      return true;
    }
    return this.#slots.find((s) => s.handler.id === handlerId)?.skip(itemId) ?? false;
  }

  /** Names of the connections open at this moment. */
  openConnections(): string[] {
    return this.#pool?.openNames() ?? [];
  }

  /** @internal Runs the session; called by the manager when it is this session's turn. */
  async run(context: SessionContext): Promise<void> {
    const startedAt = Date.now();
    this.#state = 'running';
    const emit = (event: Event) => context.emit(event);
    emit(new SessionEvent('sessionstart', this));
    const { options } = context;
    const sessionId = this.id;
    const pool = new ConnectionPool({
      endpoints: options.endpoints,
      defaultEndpoint: options.defaultEndpoint,
      closeTimeout: options.timeouts.close,
      events: {
        open: (name, kind, handlerId) => emit(new ConnectionEvent('connectionopen', { sessionId, name, kind, handlerId })),
        error: (name, kind, handlerId, error) => emit(new ConnectionEvent('connectionerror', { sessionId, name, kind, handlerId, error })),
        state: (name, kind, state) => emit(new ConnectionEvent('connectionstate', { sessionId, name, kind, state })),
        close: (name, kind, code) => emit(new ConnectionEvent('connectionclose', { sessionId, name, kind, code })),
      },
    });
    this.#pool = pool;
    const only = this.#items;
    this.#slots = this.#handlers.map((handler) => new HandlerSlot(handler, {
      sessionId,
      trigger: this.trigger,
      cookie: this.#cookie,
      mayBotherUser: this.#mayBotherUser,
      pool,
      begun: context.begun,
      select: (handlerId, items) => context.select(handlerId, items, only?.[handlerId]),
      addLog: (entry) => context.addLog(entry),
      deleteLog: (handlerId, errorId) => context.deleteLog(handlerId, errorId),
      store: context.store,
      emit,
    }));
    for (const [handlerId, itemId] of this.#pendingSkips) this.#slots.find((s) => s.handler.id === handlerId)?.skip(itemId);
    if (this.#cancelled) for (const slot of this.#slots) slot.cancel();
    let handlers: HandlerResult[] = [];
    try {
      handlers = await Promise.all(this.#slots.map((slot) => slot.run()));
    } finally {
      // Rule 6: only now, with every handler finished, do the connections close.
      const connections = await pool.closeAll();
      const result: SessionResult = {
        id: sessionId,
        trigger: this.trigger,
        outcome: sessionOutcome(this.#cancelled, handlers),
        startedAt,
        endedAt: Date.now(),
        handlers,
        connections,
      };
      // Written before the workers end: terminating them keeps the browser busy, and a write
      // issued behind that takes 3–4 times as long. The workers are idle by now.
      await context.record(result);
      for (const slot of this.#slots) slot.release();
      this.#state = 'ended';
      this.#stopListening();
      emit(new SessionEvent('sessionend', this, result));
      this.#done.resolve(result);
    }
  }

  /**
   * @internal Ends a session that could not run (its manager failed to start
   * it): `done` resolves with a failed result, so nothing waits forever.
   */
  fail(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#stopListening();
    const now = Date.now();
    this.#done.resolve({ id: this.id, trigger: this.trigger, outcome: 'failed', startedAt: now, endedAt: now, handlers: [], connections: [] });
  }

  /** @internal Checks `synchronize()` options against the registered handlers. */
  static validate(options: unknown, handlers: ReadonlyMap<string, ResolvedHandler>): SynchronizeOptions {
    if (options === undefined) return {};
    if (typeof options !== 'object' || options === null) throw new SyncError('E_INVALIDARG', 'synchronize(options) takes an object like { trigger, handlers }.');
    const o = options as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!OPTION_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `synchronize(): unknown option '${key}'; known: ${OPTION_KEYS.join(', ')}.`);
    }
    if (o.trigger !== undefined && !TRIGGERS.includes(o.trigger as Trigger)) {
      throw new SyncError('E_INVALIDARG', `synchronize(): trigger must be one of ${TRIGGERS.join(', ')}, not ${JSON.stringify(o.trigger)}.`);
    }
    const known = (id: unknown, where: string) => {
      if (typeof id !== 'string' || !handlers.has(id)) {
        throw new SyncError('E_INVALIDARG', `synchronize(): ${where} names handler ${JSON.stringify(id)}, which is not registered; registered: ${[...handlers.keys()].join(', ')}.`);
      }
    };
    if (o.handlers !== undefined) {
      if (!Array.isArray(o.handlers)) throw new SyncError('E_INVALIDARG', 'synchronize(): handlers must be an array of handler ids.');
      for (const id of o.handlers) known(id, 'handlers');
      if (new Set(o.handlers).size !== o.handlers.length) throw new SyncError('E_INVALIDARG', 'synchronize(): handlers lists a handler twice.');
    }
    if (o.items !== undefined) {
      if (typeof o.items !== 'object' || o.items === null || Array.isArray(o.items)) throw new SyncError('E_INVALIDARG', 'synchronize(): items must map handler ids to arrays of item ids.');
      for (const [id, list] of Object.entries(o.items)) {
        known(id, 'items');
        if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new SyncError('E_INVALIDARG', `synchronize(): items['${id}'] must be an array of item ids.`);
      }
    }
    if (o.cookie !== undefined) {
      try {
        structuredClone(o.cookie);
      } catch (cause) {
        throw new SyncError('E_INVALIDARG', 'synchronize(): cookie must be structured-cloneable (plain data, no functions or DOM nodes).', { cause });
      }
    }
    if (o.mayBotherUser !== undefined && typeof o.mayBotherUser !== 'boolean') throw new SyncError('E_INVALIDARG', 'synchronize(): mayBotherUser must be a boolean.');
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new SyncError('E_INVALIDARG', 'synchronize(): signal must be an AbortSignal.');
    return o as SynchronizeOptions;
  }
}
