/**
 * One handler's part of one session: spawns its worker, drives it through
 * initialize → items → prepare → synchronize (DESIGN.md §3), answers its
 * context calls (SyncMgr's callback), and finishes exactly once with an
 * outcome, whatever the handler does: resolve, reject, crash, hang, or be cancelled.
 */
import * as Comlink from 'comlink';
import { SyncError, fail, ok, toWire, unwrap, type Outcome } from '../protocol/errors.ts';
import type { ChannelGrant, CoordinatorApi } from '../protocol/api.ts';
import {
  LOG_LEVELS, MAX_ITEM_ID_LENGTH, MAX_LOG_TEXT_LENGTH,
  type ItemInfo, type ItemStatus, type LogLevel, type ProgressAnswer, type Trigger,
} from '../protocol/types.ts';
import type { ConnectionPool } from '../connections/pool.ts';
import type { ResolvedHandler } from './options.ts';
import type { LogEntry } from './log-book.ts';
import type { ManagerState } from './manager-state.ts';
import type { HandlerResult, ItemSnapshot } from './result.ts';
import { HandlerStateEvent, ItemEvent } from './events.ts';
import { advance, checkCall, type HandlerCall, type SlotOutcome, type SlotPhase } from './slot-phase.ts';
import { applyProgress, isTerminal, newItemState, parseItems, parseProgressUpdate, type ItemState } from './item-state.ts';
import { startWorker, type HostedWorker } from './worker-host.ts';

/** What a slot needs from its session. */
export interface SlotHost {
  readonly sessionId: string;
  readonly trigger: Trigger;
  readonly cookie: unknown;
  readonly mayBotherUser: boolean;
  readonly pool: ConnectionPool;
  /**
   * Settles when the manager has loaded its state and begun the session's
   * journal; a handler's items are selected only after that. A rejection fails the handler.
   */
  readonly begun: Promise<unknown>;
  /** The ids of `items` selected for this session, in the handler's order. */
  select(handlerId: string, items: ItemInfo[]): string[];
  addLog(entry: LogEntry): void;
  deleteLog(handlerId: string, errorId?: string): number;
  /** The handlers' `ctx.store`, kept by the manager (the only writer). */
  readonly store: HandlerStoreHost;
  emit(event: Event): void;
}

/** The manager's side of `ctx.store`: every call names the handler, whose namespace the manager adds. */
export type HandlerStoreHost = Pick<ManagerState, 'storeGet' | 'storeSet' | 'storeDelete' | 'storeKeys' | 'storeEntries'>;

/** Thrown into the slot's awaits when it must stop at once (crash, time-out, cancel). */
const STOP = Symbol('stop');

const SETTLE: Record<SlotOutcome, ItemStatus | null> = {
  succeeded: 'succeeded',
  failed: 'failed',
  crashed: 'failed',
  'timed-out': 'failed',
  cancelled: 'cancelled',
  declined: 'stopped',
  'nothing-selected': null,
};

export class HandlerSlot {
  readonly handler: ResolvedHandler;
  readonly #host: SlotHost;
  #phase: SlotPhase = 'starting';
  #outcome: SlotOutcome | null = null;
  #error: Error | null = null;
  #stopping: { outcome: SlotOutcome; error: Error } | null = null;
  #stop!: (reason: typeof STOP) => void;
  readonly #stopped = new Promise<never>((_, reject) => (this.#stop = reject));
  readonly #items = new Map<string, ItemState>();
  readonly #pendingSkips = new Set<string>();
  #cancelAll = false;
  #cancelTimer: ReturnType<typeof setTimeout> | undefined;
  #worker: HostedWorker | null = null;
  #released = false;
  #coordinatorPort: MessagePort | null = null;
  #startedAt = 0;
  #endedAt = 0;

  constructor(handler: ResolvedHandler, host: SlotHost) {
    this.handler = handler;
    this.#host = host;
    this.#stopped.catch(() => {});
  }

  get phase(): SlotPhase {
    return this.#phase;
  }

  /** Runs the handler's part of the session; never rejects. */
  async run(): Promise<HandlerResult> {
    const { id, timeouts } = this.handler;
    this.#startedAt = Date.now();
    this.#emitState();
    const limit = setTimeout(() => this.#halt('timed-out', new SyncError('E_TIMEOUT', `Handler '${id}' did not finish within ${timeouts.handler} ms; its worker was terminated.`)), timeouts.handler);
    const startAbort = new AbortController();
    try {
      if (this.#stopping) throw STOP;
      const starting = startWorker(this.handler, startAbort.signal);
      // If the slot stops while the worker starts, the worker that arrives later is ended at once.
      starting.then((w) => {
        this.#worker = w;
        if (this.#released) w.terminate();
      }, () => {});
      const worker = await this.#race(starting);
      void worker.died.then((error) => this.#halt('crashed', error));

      this.#enter('initializing');
      const { port1, port2 } = new MessageChannel();
      Comlink.expose(this.#coordinatorApi(), port1);
      this.#coordinatorPort = port1;
      const info = { sessionId: this.#host.sessionId, handlerId: id, trigger: this.#host.trigger, cookie: this.#host.cookie, mayBotherUser: this.#host.mayBotherUser };
      // items() follows initialize() at once (see HandlerApi.items): one round trip for both.
      const initializing = worker.api.initialize(Comlink.transfer(port2, [port2]), info);
      const listing = worker.api.items();
      listing.catch(() => {});
      const participates = await this.#call<boolean>(initializing);
      if (!participates) return this.#finish('declined', null);

      this.#enter('enumerating');
      const listed = parseItems(await this.#call<ItemInfo[] | null>(listing), id);
      // The stored choices (and the session's journal) must be ready before the selection.
      await this.#race(this.#host.begun);
      const names = new Map(listed.map((item) => [item.id, item.name]));
      for (const itemId of this.#host.select(id, listed)) this.#items.set(itemId, newItemState(itemId, names.get(itemId)!));
      for (const itemId of this.#pendingSkips) this.skip(itemId);
      const ids = [...this.#items.values()].filter((item) => !isTerminal(item.status)).map((item) => item.id);
      if (ids.length === 0) return this.#finish('nothing-selected', null);

      this.#enter('preparing');
      // A handler without prepare() would answer true: no round trip for that.
      const prepared = worker.prepares ? await this.#call<boolean>(worker.api.prepare(ids)) : true;
      if (!prepared) return this.#finish('declined', null);

      this.#enter('synchronizing');
      await this.#call<void>(worker.api.synchronize(ids));
      return this.#finish(this.#cancelAll ? 'cancelled' : 'succeeded', this.#cancelAll ? cancelledError(id) : null);
    } catch (error) {
      if (this.#stopping) return this.#finish(this.#stopping.outcome, this.#stopping.error);
      if (this.#cancelAll) return this.#finish('cancelled', cancelledError(id, error));
      const reason = error instanceof Error ? error : new SyncError('E_FAIL', String(error));
      // A worker that never became ready (factory threw, script failed, no handshake) counts as crashed.
      return this.#finish(this.#phase === 'starting' ? 'crashed' : 'failed', reason);
    } finally {
      clearTimeout(limit);
      clearTimeout(this.#cancelTimer);
      if (!this.#worker) startAbort.abort(new SyncError('E_ABORT', `Handler '${id}' stopped while its worker was starting.`));
    }
  }

  /**
   * Cancels the handler: its progress answers become `cancel-all` and its
   * signal aborts; if it has not finished after `timeouts.cancel`, its worker is terminated.
   */
  cancel(): void {
    if (this.#phase === 'finished' || this.#cancelAll) return;
    this.#cancelAll = true;
    for (const item of this.#items.values()) item.cancelRequested = true;
    const reason = cancelledError(this.handler.id);
    if (this.#phase === 'preparing' || this.#phase === 'synchronizing') {
      this.#worker?.api.abort(toWire(reason)).catch(() => {});
      this.#cancelTimer = setTimeout(() => this.#halt('cancelled', reason), this.handler.timeouts.cancel);
    } else {
      this.#halt('cancelled', reason);
    }
  }

  /** SyncMgr's SetItemStatus(SKIPPED). `false` when the item is unknown or already finished. */
  skip(itemId: string): boolean {
    if (this.#phase === 'finished') return false;
    if (this.#phase === 'starting' || this.#phase === 'initializing' || this.#phase === 'enumerating') {
      if (this.#items.size === 0) {
        this.#pendingSkips.add(itemId);
        return true;
      }
    }
    const item = this.#items.get(itemId);
    if (!item || isTerminal(item.status)) return false;
    item.cancelRequested = true;
    this.#setItem(item, { ...item, status: 'skipped' });
    if (this.#phase === 'preparing' || this.#phase === 'synchronizing') this.#worker?.api.skip(itemId).catch(() => {});
    return true;
  }

  /** Ends the worker and the handler's side of the callback channel; idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#coordinatorPort?.close();
    this.#coordinatorPort = null;
    this.#worker?.terminate();
  }

  result(): HandlerResult {
    return {
      id: this.handler.id,
      name: this.handler.name,
      outcome: this.#outcome ?? 'failed',
      endedIn: this.#endedIn,
      error: this.#error,
      items: [...this.#items.values()].map(snapshot),
      startedAt: this.#startedAt,
      endedAt: this.#endedAt,
    };
  }

  #endedIn: SlotPhase = 'starting';

  #race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#stopped]);
  }

  /** Awaits a call into the worker, unless the slot stops first; rebuilds the handler's error. */
  async #call<T>(promise: Promise<Outcome<T>>): Promise<T> {
    return unwrap(await this.#race(promise));
  }

  /** Stops the slot at once: the worker is terminated and the pending await is abandoned. */
  #halt(outcome: SlotOutcome, error: Error): void {
    if (this.#phase === 'finished' || this.#stopping) return;
    this.#stopping = { outcome, error };
    this.release();
    this.#stop(STOP);
  }

  #enter(phase: SlotPhase): void {
    this.#phase = advance(this.#phase, phase);
    this.#emitState();
  }

  #finish(outcome: SlotOutcome, error: Error | null): HandlerResult {
    this.#endedIn = this.#phase;
    this.#phase = advance(this.#phase, 'finished');
    this.#host.pool.handlerFinished(this.handler.id);
    this.#outcome = outcome;
    this.#error = error;
    this.#endedAt = Date.now();
    const settled = SETTLE[outcome];
    if (settled) {
      for (const item of this.#items.values()) {
        if (!isTerminal(item.status)) this.#setItem(item, { ...item, status: settled });
      }
    }
    this.#emitState();
    return this.result();
  }

  #emitState(): void {
    this.#host.emit(new HandlerStateEvent(this.#host.sessionId, this.handler.id, this.#phase, this.#outcome, this.#error));
  }

  #setItem(item: ItemState, next: ItemState): void {
    const previous = item.status;
    Object.assign(item, next);
    const snap = snapshot(item);
    this.#host.emit(new ItemEvent('progress', this.#host.sessionId, this.handler.id, snap, previous));
    if (previous !== item.status) this.#host.emit(new ItemEvent('itemstatus', this.#host.sessionId, this.handler.id, snap, previous));
  }

  #coordinatorApi(): CoordinatorApi<MessagePort> {
    const id = this.handler.id;
    return {
      establishConnection: async (name, kind) => {
        try {
          checkCall('establishConnection', this.#phase, id, this.#host.pool.describe(name));
          const grant = await this.#host.pool.establish(id, this.handler.endpoints, name, kind);
          if (this.#phase === 'finished') {
            // It finished while the connection came up: nothing is handed to a finished handler.
            grant.port.close();
            this.#host.pool.handlerFinished(id);
            checkCall('establishConnection', this.#phase, id, this.#host.pool.describe(name));
          }
          return Comlink.transfer(ok(grant) as Outcome<ChannelGrant<MessagePort>>, [grant.port]);
        } catch (error) {
          return fail(error);
        }
      },
      progress: async (itemId, update) => {
        try {
          checkCall('progress', this.#phase, id);
          const item = typeof itemId === 'string' ? this.#items.get(itemId) : undefined;
          if (!item) {
            throw new SyncError('E_INVALIDARG', `Handler '${id}' reported progress for item ${JSON.stringify(itemId)}, which is not selected in this session; selected: ${[...this.#items.keys()].join(', ') || 'none'}.`);
          }
          const parsed = parseProgressUpdate(update, `Handler '${id}': progress('${item.id}')`);
          const { next, statusRefused } = applyProgress(item, parsed);
          if (!statusRefused) this.#setItem(item, next);
          const answer: ProgressAnswer = this.#cancelAll ? 'cancel-all' : item.cancelRequested || statusRefused ? 'cancel-item' : 'continue';
          return ok(answer);
        } catch (error) {
          return fail(error);
        }
      },
      logError: async (level, text, options) => {
        try {
          checkCall('logError', this.#phase, id);
          const entry = this.#parseLog(level, text, options);
          this.#host.addLog(entry);
          return ok(entry.errorId);
        } catch (error) {
          return fail(error);
        }
      },
      deleteLogError: async (errorId) => {
        try {
          checkCall('deleteLogError', this.#phase, id);
          if (errorId !== undefined && errorId !== null && typeof errorId !== 'string') {
            throw new SyncError('E_INVALIDARG', `Handler '${id}': deleteLogError(errorId) takes the id logError() returned, or nothing to delete all of the handler's entries.`);
          }
          return ok(this.#host.deleteLog(id, errorId ?? undefined));
        } catch (error) {
          return fail(error);
        }
      },
      // ctx.store: the handler names a key; the manager puts it under the handler's own prefix.
      storeGet: (key) => this.#storeCall('store.get', () => this.#host.store.storeGet(id, key)),
      storeSet: (key, value) => this.#storeCall('store.set', () => this.#host.store.storeSet(id, key, value)),
      storeDelete: (key) => this.#storeCall('store.delete', () => this.#host.store.storeDelete(id, key)),
      storeKeys: (prefix) => this.#storeCall('store.keys', () => this.#host.store.storeKeys(id, prefix)),
      storeEntries: (prefix) => this.#storeCall('store.entries', () => this.#host.store.storeEntries(id, prefix)),
    };
  }

  async #storeCall<T>(call: HandlerCall, run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      checkCall(call, this.#phase, this.handler.id);
      return ok(await run());
    } catch (error) {
      return fail(error);
    }
  }

  #parseLog(level: unknown, text: unknown, options: unknown): LogEntry {
    const id = this.handler.id;
    const where = `Handler '${id}': logError()`;
    if (!LOG_LEVELS.includes(level as LogLevel)) throw new SyncError('E_INVALIDARG', `${where}: level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}.`);
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_LOG_TEXT_LENGTH) {
      throw new SyncError('E_INVALIDARG', `${where}: text must be a string of 1 to ${MAX_LOG_TEXT_LENGTH} characters.`);
    }
    const o = (options ?? {}) as Record<string, unknown>;
    if (typeof o !== 'object' || Array.isArray(o)) throw new SyncError('E_INVALIDARG', `${where}: options must be an object like { itemId, errorId, actionable }.`);
    for (const key of Object.keys(o)) {
      if (!['itemId', 'errorId', 'actionable'].includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}'; known: itemId, errorId, actionable.`);
    }
    for (const key of ['itemId', 'errorId'] as const) {
      const v = o[key];
      if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > MAX_ITEM_ID_LENGTH)) {
        throw new SyncError('E_INVALIDARG', `${where}: ${key} must be a string of 1 to ${MAX_ITEM_ID_LENGTH} characters.`);
      }
    }
    if (o.actionable !== undefined && typeof o.actionable !== 'boolean') throw new SyncError('E_INVALIDARG', `${where}: actionable must be a boolean.`);
    return {
      errorId: (o.errorId as string | undefined) ?? crypto.randomUUID(),
      level: level as LogLevel,
      text,
      handlerId: id,
      itemId: (o.itemId as string | undefined) ?? null,
      actionable: o.actionable === true,
      time: Date.now(),
      sessionId: this.#host.sessionId,
    };
  }
}

function snapshot(item: ItemState): ItemSnapshot {
  return { id: item.id, name: item.name, status: item.status, text: item.text, value: item.value, max: item.max };
}

function cancelledError(handlerId: string, cause?: unknown): SyncError {
  return new SyncError('E_ABORT', `Handler '${handlerId}': the sync session was cancelled.`, cause === undefined ? undefined : { cause });
}
