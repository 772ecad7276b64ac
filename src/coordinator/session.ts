/**
 * A sync session: runs the participating handlers side by side, and when the
 * last one has finished (whatever way), closes every connection the session
 * opened, records the result, ends the workers and reports the result
 * (DESIGN.md §3 step 7). A session cancelled while it waits for its turn
 * never starts.
 */
import { SyncError } from '../protocol/sync-error.ts';
import type { Trigger } from '../protocol/types.ts';
import { ConnectionPool } from '../connections/pool.ts';
import type { ResolvedHandler } from './options.ts';
import { sessionOutcome, summarize, type HandlerResult, type SessionResult } from './result.ts';
import { SessionEvent } from './events.ts';
import { HandlerSlot, cancelledError } from './handler-slot.ts';
import type { RunningSession, SessionServices } from './session-services.ts';
import { merge, type SessionRequest } from './session-request.ts';
import { isLastChance } from './auto-retry.ts';
import { deferred } from '../internal/deferred.ts';

export type { SynchronizeOptions } from './session-options.ts';

export type SessionState = 'queued' | 'running' | 'ended';

export class SyncSession {
  readonly id: string = crypto.randomUUID();
  /** Resolves with the result when the session has ended; never rejects. */
  readonly done: Promise<SessionResult>;
  readonly #all: ReadonlyMap<string, ResolvedHandler>;
  /** What it is asked to do; while queued, requests for the same handlers merge into it. */
  #request: SessionRequest;
  /** Cancelled by a signal: such a session never merges with another request. */
  readonly #signalled: boolean;
  readonly #done = deferred<SessionResult>();
  #state: SessionState = 'queued';
  #cancelled = false;
  #slots: HandlerSlot[] = [];
  /** Skips asked for before the handlers' slots exist (a queued or starting session). */
  readonly #pendingSkips: [string, string][] = [];
  #pool: ConnectionPool | null = null;
  #stopListening = () => {};

  /** @internal Built by `SyncManager.synchronize()`, which validates `options` first. */
  constructor(all: ReadonlyMap<string, ResolvedHandler>, request: SessionRequest, signal?: AbortSignal) {
    this.#all = all;
    this.#request = request;
    this.#signalled = signal !== undefined;
    this.done = this.#done.promise;
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

  /** What started it; after a merge, the stronger of the merged requests' triggers. */
  get trigger(): Trigger {
    return this.#request.trigger;
  }

  /** 1, or n + 1 for the manager's automatic retry of a session that failed at attempt n. */
  get attempt(): number {
    return this.#request.attempt;
  }

  /** @internal What it is asked to do. */
  get request(): SessionRequest {
    return this.#request;
  }

  /**
   * @internal Takes `request` in while the session waits for its turn (the
   * manager checked that both ask for the same handlers and cookie); `false`
   * when it can no longer change, or either side carries a signal.
   */
  absorb(request: SessionRequest, signalled: boolean): boolean {
    if (this.#state !== 'queued' || this.#cancelled || signalled || this.#signalled) return false;
    this.#request = merge(this.#request, request);
    return true;
  }

  /** Cancels the session: handlers are told to stop (see `timeouts.cancel`); a queued session ends at once and never starts. */
  cancel(): void {
    if (this.#cancelled || this.#state === 'ended') return;
    this.#cancelled = true;
    if (this.#state === 'queued') return this.#endUnstarted();
    for (const slot of this.#slots) slot.cancel();
  }

  /** Skips an item of a handler (SyncMgr's SetItemStatus(SKIPPED)); `false` if it is unknown or finished. */
  skip(handlerId: string, itemId: string): boolean {
    if (typeof handlerId !== 'string' || typeof itemId !== 'string') {
      throw new SyncError('E_INVALIDARG', 'session.skip(handlerId, itemId) takes two strings.');
    }
    if (this.#state === 'ended') return false;
    if (this.#slots.length === 0) {
      if (!this.#request.handlers.includes(handlerId)) return false;
      this.#pendingSkips.push([handlerId, itemId]);
      return true;
    }
    return this.#slots.find((s) => s.handler.id === handlerId)?.skip(itemId) ?? false;
  }

  /** Names of the connections open at this moment. */
  openConnections(): string[] {
    return this.#pool?.openNames() ?? [];
  }

  /** @internal Runs the session; called by the manager when it is this session's turn. Rejects only on a bug (the manager then fails the session). */
  async run(services: SessionServices): Promise<void> {
    if (this.#cancelled) return this.#endUnstarted();
    const startedAt = Date.now();
    this.#state = 'running';
    // The workers start while the state loads and the journal is written (a worker takes far longer
    // to start); the stored choices are needed only for the selection, which waits for both.
    const begun = services.state.beginSession(this.id, this.trigger);
    // Its failure also fails each handler when it reaches the selection; reported here once.
    begun.catch(reportError);
    try {
      await this.#runHandlers(services, begun, startedAt);
    } finally {
      // The session's Web Lock goes last, whatever happened before.
      await begun.then((release) => release(), () => {});
    }
  }

  async #runHandlers(services: SessionServices, begun: Promise<() => void>, startedAt: number): Promise<void> {
    const { options, state, events } = services;
    events.dispatchEvent(new SessionEvent('sessionstart', this));
    const pool = new ConnectionPool({
      sessionId: this.id,
      endpoints: options.endpoints,
      defaultEndpoint: options.defaultEndpoint,
      closeTimeout: options.timeouts.close,
      events,
    });
    this.#pool = pool;
    const { trigger, cookie, mayBotherUser, items, attempt } = this.#request;
    const lastChance = isLastChance(this.#request, options.retry);
    const running: RunningSession = { id: this.id, trigger, cookie, mayBotherUser, attempt, lastChance, items, pool, begun, services };
    this.#slots = this.#request.handlers.map((id) => new HandlerSlot(this.#all.get(id)!, running));
    for (const [handlerId, itemId] of this.#pendingSkips) this.#slots.find((s) => s.handler.id === handlerId)?.skip(itemId);
    if (this.#cancelled) for (const slot of this.#slots) slot.cancel();
    let handlers: HandlerResult[] = [];
    try {
      handlers = await Promise.all(this.#slots.map((slot) => slot.run()));
    } finally {
      // Rule 6: only now, with every handler finished, do the connections close.
      const connections = await pool.closeAll();
      const result: SessionResult = {
        id: this.id,
        trigger: this.trigger,
        outcome: sessionOutcome(this.#cancelled, handlers),
        startedAt,
        endedAt: Date.now(),
        handlers,
        connections,
      };
      // Written before the workers end: terminating them keeps the browser busy, and a write
      // issued behind that takes far longer. The workers are idle by now. Recorded after the
      // journal's start, even when every handler failed before it was written.
      const record = () => state.endSession(summarize(result));
      await begun.then(record, record).catch(reportError);
      for (const slot of this.#slots) slot.release();
      this.#end(result, services);
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

  /**
   * A session cancelled before its turn: no handler starts, nothing is
   * locked, journaled, dispatched or recorded in the history; `done`
   * resolves with every handler `cancelled` in its first phase.
   */
  #endUnstarted(): void {
    if (this.#state === 'ended') return;
    const now = Date.now();
    const handlers = this.#request.handlers.map((id) => this.#all.get(id)!).map((h): HandlerResult => ({
      id: h.id, name: h.name, outcome: 'cancelled', endedIn: 'starting', error: cancelledError(h.id), items: [], startedAt: now, endedAt: now,
    }));
    this.#state = 'ended';
    this.#stopListening();
    this.#done.resolve({ id: this.id, trigger: this.trigger, outcome: 'cancelled', startedAt: now, endedAt: now, handlers, connections: [] });
  }

  #end(result: SessionResult, services: SessionServices): void {
    this.#state = 'ended';
    this.#stopListening();
    services.events.dispatchEvent(new SessionEvent('sessionend', this, result));
    this.#done.resolve(result);
  }
}
