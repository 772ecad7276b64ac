/**
 * One handler's part of one session, as a lifecycle: spawns its worker,
 * drives it through initialize → items → prepare → synchronize (DESIGN.md
 * §3), and finishes exactly once with an outcome, whatever the handler does:
 * resolve, reject, crash, hang, or be cancelled. Its items are
 * handler-items.ts; the calls its worker makes, handler-calls.ts.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { fromWire, toWire, unwrap, type Outcome } from '../protocol/wire.ts';
import { MAX_LOG_TEXT_LENGTH, type InitializeInfo, type ItemInfo, type ItemStatus } from '../protocol/types.ts';
import type { HandlerOutcome } from '../state/records.ts';
import type { LogEntry } from '../state/log-book.ts';
import { connectFailureEntry, failureEntry, isFailure } from '../state/failure-entries.ts';
import { HandlerStateEvent } from './events.ts';
import { coordinatorApi } from './handler-calls.ts';
import { exposeGated, type RefusedMessage } from './comlink-gate.ts';
import { parseItems, parseLogEntry } from './handler-input.ts';
import { HandlerItems } from './handler-items.ts';
import { advance, type HandlerPhase } from './handler-phase.ts';
import { startHandlerWorker, type HandlerWorker } from './handler-worker.ts';
import type { ResolvedHandler } from './options.ts';
import type { HandlerResult } from './result.ts';
import type { RunningSession } from './session-services.ts';

/** How a failure entry says where the handler was. */
const PHASE_WORDS: Record<HandlerPhase, string> = {
  starting: 'starting', initializing: 'initializing', enumerating: 'listing its items', preparing: 'preparing',
  synchronizing: 'synchronizing', finished: 'finishing',
};

/** Thrown into the slot's awaits when it must stop at once (crash, time-out, cancel). */
const STOP = Symbol('stop');

/** The status a handler's unfinished items take when it ends this way (`null`: they keep theirs). */
const SETTLE: Record<HandlerOutcome, ItemStatus | null> = {
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
  readonly session: RunningSession;
  readonly items: HandlerItems;
  #phase: HandlerPhase = 'starting';
  #endedIn: HandlerPhase = 'starting';
  #outcome: HandlerOutcome | null = null;
  #error: Error | null = null;
  #stopping: { outcome: HandlerOutcome; error: Error } | null = null;
  /** The worker answered synchronize() (so its channels have posted their last messages). */
  #answered = false;
  #stop!: (reason: typeof STOP) => void;
  readonly #stopped = new Promise<never>((_, reject) => (this.#stop = reject));
  #cancelTimer: ReturnType<typeof setTimeout> | undefined;
  #worker: HandlerWorker | null = null;
  #released = false;
  #refusals = 0;
  #startedAt = 0;
  #endedAt = 0;
  /** Texts of the error entries the handler logged this session. */
  readonly #loggedErrors: string[] = [];
  /** The connections it failed to establish this session, by endpoint (the last error of each). */
  readonly #connectFailures = new Map<string, Error>();

  constructor(handler: ResolvedHandler, session: RunningSession) {
    this.handler = handler;
    this.session = session;
    this.items = new HandlerItems(session.id, handler.id, session.services);
    this.#stopped.catch(() => {});
  }

  get phase(): HandlerPhase {
    return this.#phase;
  }

  /** Runs the handler's part of the session; never rejects. */
  async run(): Promise<HandlerResult> {
    const { id, timeouts } = this.handler;
    const session = this.session;
    this.#startedAt = Date.now();
    this.#emitState();
    const limit = setTimeout(() => this.#halt('timed-out', new SyncError('E_TIMEOUT', `Handler '${id}' did not finish within ${timeouts.handler} ms; its worker was terminated.`)), timeouts.handler);
    const startAbort = new AbortController();
    try {
      if (this.#stopping) throw STOP;
      const starting = startHandlerWorker(this.handler, startAbort.signal);
      // If the slot stops while the worker starts, the worker that arrives later is ended at once.
      starting.then((w) => {
        this.#worker = w;
        if (this.#released) w.terminate();
      }, () => {});
      const worker = await this.#race(starting);
      void worker.died.then((error) => this.#halt('crashed', error));

      this.#enter('initializing');
      // Served before initialize() is sent: the worker may call the manager as soon as it has initialize's info.
      exposeGated(coordinatorApi(this), worker.coordinator, (refused) => this.#refused(refused));
      const { trigger, cookie, mayBotherUser, attempt, lastChance } = session;
      const info: InitializeInfo = { sessionId: session.id, handlerId: id, trigger, cookie, mayBotherUser, attempt, lastChance };
      // items() follows initialize() at once (see HandlerApi.items): one round trip for both.
      const initializing = worker.api.initialize(info);
      const listing = worker.api.items();
      listing.catch(() => {});
      const participates = await this.#call<boolean>(initializing);
      if (!participates) return this.#finish('declined', null);

      this.#enter('enumerating');
      const listed = parseItems(await this.#call<ItemInfo[] | null>(listing), id);
      // The stored choices (and the session's journal) must be ready before the selection.
      await this.#race(session.begun);
      const ids = this.items.select(listed, session.services.state.select(id, listed, session.items.get(id)));
      if (ids.length === 0) return this.#finish('nothing-selected', null);

      this.#enter('preparing');
      // A handler without prepare() would answer true: no round trip for that.
      const prepared = worker.prepares ? await this.#call<boolean>(worker.api.prepare(ids)) : true;
      if (!prepared) return this.#finish('declined', null);

      this.#enter('synchronizing');
      const answer: Outcome<void> = await this.#race<Outcome<void>>(worker.api.synchronize(ids, session.pool.access(this.handler.endpoints)));
      // The worker answered: its channels' last messages are on their way (the pool waits for them).
      this.#answered = true;
      unwrap(answer);
      const cancelled = this.items.cancelled;
      return this.#finish(cancelled ? 'cancelled' : 'succeeded', cancelled ? cancelledError(id) : null);
    } catch (error) {
      if (this.#stopping) return this.#finish(this.#stopping.outcome, this.#stopping.error);
      if (this.items.cancelled) return this.#finish('cancelled', cancelledError(id, error));
      const reason = error instanceof Error ? error : new SyncError('E_FAIL', fromWire(toWire(error)).message);
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
    if (this.#phase === 'finished' || this.items.cancelled) return;
    this.items.cancelAll();
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
    const skipped = this.items.skip(itemId);
    if (skipped && (this.#phase === 'preparing' || this.#phase === 'synchronizing')) this.#worker?.api.skip(itemId).catch(() => {});
    return skipped;
  }

  /** Ends the worker and both lanes of its port (the manager serves no more of its calls); idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#worker?.terminate();
  }

  /** @internal The handler logged `entry` (see CallTarget). */
  logged(entry: LogEntry): void {
    if (entry.level === 'error') this.#loggedErrors.push(entry.text);
  }

  /** @internal Its `establishConnection(name)` failed with `error` (see CallTarget). */
  connectFailed(name: unknown, error: unknown): void {
    const endpoint = typeof name === 'string' ? name : name == null ? this.session.services.options.defaultEndpoint : null;
    // Refusals before any endpoint is involved (no default, an unknown name) are the handler's bug, reported by its failure.
    if (endpoint === null || !this.session.services.options.endpoints.has(endpoint)) return;
    this.#connectFailures.set(endpoint, error instanceof Error ? error : new SyncError('E_FAIL', String(error)));
  }

  result(): HandlerResult {
    return {
      id: this.handler.id,
      name: this.handler.name,
      outcome: this.#outcome ?? 'failed',
      endedIn: this.#endedIn,
      error: this.#error,
      items: this.items.snapshots(),
      startedAt: this.#startedAt,
      endedAt: this.#endedAt,
    };
  }

  #race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#stopped]);
  }

  /** Awaits a call into the worker, unless the slot stops first; rebuilds the handler's error. */
  async #call<T>(promise: Promise<Outcome<T>>): Promise<T> {
    return unwrap(await this.#race(promise));
  }

  /** Stops the slot at once: the worker is terminated and the pending await is abandoned. */
  #halt(outcome: HandlerOutcome, error: Error): void {
    if (this.#phase === 'finished' || this.#stopping) return;
    this.#stopping = { outcome, error };
    this.release();
    this.#stop(STOP);
  }

  /** The gate stopped a message of the worker: the first of a session is logged, as a warning, so a developer learns of it. */
  #refused(refused: RefusedMessage): void {
    if (this.#refusals++ > 0) return;
    const text = `Handler '${this.handler.id}' sent the manager ${refused.reason}; it was refused (later refusals of this session are not logged).`;
    this.session.services.state.addLog(parseLogEntry('warning', text.slice(0, MAX_LOG_TEXT_LENGTH), {}, this.handler.id, this.session.id));
  }

  #enter(phase: HandlerPhase): void {
    this.#phase = advance(this.#phase, phase);
    this.#emitState();
  }

  #finish(outcome: HandlerOutcome, error: Error | null): HandlerResult {
    this.#endedIn = this.#phase;
    this.#phase = advance(this.#phase, 'finished');
    this.session.pool.handlerFinished(this.handler.id, this.#answered);
    this.#outcome = outcome;
    this.#error = error;
    this.#endedAt = Date.now();
    this.#logFailures(outcome, error);
    this.items.settle(SETTLE[outcome]);
    this.#emitState();
    return this.result();
  }

  /**
   * Writes the manager's entries about this handler's failures (failure-entries.ts),
   * except those the handler logged itself: an error entry of its own whose text
   * contains the error's message. A failure that is a failed connection is told once.
   */
  #logFailures(outcome: HandlerOutcome, error: Error | null): void {
    const state = this.session.services.state;
    const at = { handlerId: this.handler.id, handlerName: this.handler.name, sessionId: this.session.id };
    const told = (e: Error) => e.message !== '' && this.#loggedErrors.some((text) => text.includes(e.message));
    for (const [endpoint, e] of this.#connectFailures) if (!told(e)) state.addLog(connectFailureEntry(at, endpoint, e));
    if (!error || !isFailure(outcome) || told(error)) return;
    const code = (error as { code?: unknown }).code;
    if ([...this.#connectFailures.values()].some((e) => e.message === error.message && (e as { code?: unknown }).code === code)) return;
    state.addLog(failureEntry(at, outcome, PHASE_WORDS[this.#endedIn], error, this.items.current()));
  }

  #emitState(): void {
    this.session.services.events.dispatchEvent(new HandlerStateEvent(this.session.id, this.handler.id, this.#phase, this.#outcome, this.#error));
  }
}

export function cancelledError(handlerId: string, cause?: unknown): SyncError {
  return new SyncError('E_ABORT', `Handler '${handlerId}': the sync session was cancelled.`, cause === undefined ? undefined : { cause });
}
