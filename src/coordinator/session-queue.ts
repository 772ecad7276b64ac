/**
 * The manager's sessions, one at a time: those waiting for their turn, in
 * the order they were asked for, and the one running. A waiting session may
 * also wait for a time (an `invoke` request's debounce, an automatic retry's
 * delay) or for the network (a
 * session started by a trigger other than `manual` while the browser is
 * offline); the first one free to go runs, so a session held back never
 * blocks those behind it. Each session's run is given by the manager.
 */
import type { ConditionSource } from '../triggers/sources.ts';
import type { SyncSession } from './session.ts';
import type { ItemSelection } from './session-request.ts';

/** What a waiting session waits for. */
export const WAITS = ['turn', 'debounce', 'retry', 'network'] as const;
export type Wait = (typeof WAITS)[number];

/** A session waiting to run, as `manager.pending()` tells it. */
export interface PendingSession {
  session: SyncSession;
  sessionId: string;
  trigger: SyncSession['trigger'];
  /** 1, or n + 1 for the automatic retry of attempt n. */
  attempt: number;
  handlers: string[];
  /** Per handler that does not sync just the user's choices: whether it syncs them too, and which ids besides. */
  items: Record<string, { choices: boolean; ids: string[] }>;
  waitingFor: Wait;
  /** Epoch ms before which it does not start (a debounce or a retry's delay); `null`: none. */
  notBefore: number | null;
}

interface Entry {
  readonly session: SyncSession;
  /** Epoch ms; 0: at once. */
  notBefore: number;
  /** What `notBefore` is. */
  delay: 'debounce' | 'retry';
  /** When the request was first made (bounds a debounce). */
  readonly since: number;
  readonly needsNetwork: boolean;
}

export class SessionQueue {
  readonly #run: (session: SyncSession) => Promise<void>;
  readonly #network: ConditionSource;
  #waiting: Entry[] = [];
  #active: SyncSession | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopNetwork: (() => void) | null = null;
  #idle: (() => void)[] = [];
  #closed = false;
  #scheduled = false;

  constructor(run: (session: SyncSession) => Promise<void>, network: ConditionSource) {
    this.#run = run;
    this.#network = network;
  }

  /** The session running now; `null` also while one that has ended (its `done` resolved) is being cleared away. */
  get active(): SyncSession | null {
    return this.#active?.state === 'running' ? this.#active : null;
  }

  /** Queues `session`; it starts when it is first free to: not before `notBefore` (a `delay` of that kind), and online when `needsNetwork`. */
  add(session: SyncSession, notBefore = 0, needsNetwork = false, delay: 'debounce' | 'retry' = 'debounce'): void {
    this.#waiting.push({ session, notBefore, delay, since: Date.now(), needsNetwork });
    this.#soon();
  }

  /** The waiting session `test` picks (the first), with when it was first asked for; `null` when none. */
  find(test: (session: SyncSession) => boolean): { session: SyncSession; since: number } | null {
    const entry = this.#waiting.find((e) => e.session.state === 'queued' && test(e.session));
    return entry ? { session: entry.session, since: entry.since } : null;
  }

  /** Moves the earliest start of a waiting session (a merged request may bring it forward or, for a debounce, back). */
  reschedule(session: SyncSession, notBefore: number): void {
    const entry = this.#waiting.find((e) => e.session === session);
    if (!entry) return;
    entry.notBefore = notBefore;
    entry.delay = 'debounce';
    this.#soon();
  }

  pending(): PendingSession[] {
    const online = this.#network.current();
    const now = Date.now();
    return this.#waiting.filter((e) => e.session.state === 'queued').map((e) => {
      const { trigger, handlers, items, attempt } = e.session.request;
      const waitingFor: Wait = e.notBefore > now ? e.delay : e.needsNetwork && !online ? 'network' : 'turn';
      return {
        session: e.session, sessionId: e.session.id, trigger, attempt, handlers: [...handlers], items: describe(items),
        waitingFor, notBefore: e.notBefore > now ? e.notBefore : null,
      };
    });
  }

  /** The waiting sessions, taken out of the queue (the manager cancels them when it closes); nothing starts afterwards. */
  close(): SyncSession[] {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stopNetwork?.();
    this.#stopNetwork = null;
    return this.#waiting.splice(0).map((e) => e.session);
  }

  /** Resolves when no session runs (after `close()`: once the running one has ended). */
  idle(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Pumps in a microtask: a session never starts inside the `synchronize()`
   * call that asked for it, so the caller holds the session before its
   * `sessionstart` fires; and many requests in one task pump once.
   */
  #soon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting = this.#waiting.filter((e) => e.session.state === 'queued');
    if (this.#closed || this.#active) return this.#watchNetwork(false);
    const now = Date.now();
    const online = this.#network.current();
    let wake = Infinity;
    let offline = false;
    const next = this.#waiting.find((e) => {
      if (e.notBefore > now) {
        wake = Math.min(wake, e.notBefore);
        return false;
      }
      if (e.needsNetwork && !online) {
        offline = true;
        return false;
      }
      return true;
    });
    if (!next) {
      if (wake < Infinity) this.#timer = setTimeout(() => this.#pump(), wake - now);
      return this.#watchNetwork(offline);
    }
    this.#watchNetwork(false);
    this.#waiting.splice(this.#waiting.indexOf(next), 1);
    const session = next.session;
    this.#active = session;
    void this.#run(session).finally(() => {
      this.#active = null;
      for (const resolve of this.#idle.splice(0)) resolve();
      this.#pump();
    });
  }

  /** Listens to the network only while a session waits for it. */
  #watchNetwork(on: boolean): void {
    if (on && !this.#stopNetwork) {
      this.#stopNetwork = this.#network.subscribe((online) => {
        if (online) this.#pump();
      });
    } else if (!on && this.#stopNetwork) {
      this.#stopNetwork();
      this.#stopNetwork = null;
    }
  }
}

function describe(items: ReadonlyMap<string, ItemSelection>): PendingSession['items'] {
  // fromEntries defines own properties: a handler id such as `__proto__` stays a key.
  return Object.fromEntries([...items].map(([id, s]) => [id, { choices: s.choices, ids: [...s.ids] }]));
}
