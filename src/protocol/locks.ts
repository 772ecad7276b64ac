/**
 * Every Web Lock syncmgr takes, by name, and the helpers that take them. Both
 * sides use it: a handler worker holds a life lock so the manager learns when
 * it dies; a running session holds a lock so another tab can tell a live
 * session from one whose page died. Web Locks are typed structurally here, so
 * this module needs neither DOM nor worker globals; where `navigator.locks`
 * is missing, nothing is locked and the callers fall back as documented.
 */

const WORKER_LOCK_PREFIX = 'syncmgr:worker:';

/** The life lock of a handler worker: unique per worker. */
export function workerLockName(): string {
  return WORKER_LOCK_PREFIX + crypto.randomUUID();
}

/** `true` for a handler worker's life lock (tests count live workers by them). */
export function isWorkerLock(name: string | undefined): boolean {
  return name?.startsWith(WORKER_LOCK_PREFIX) ?? false;
}

/** The lock a running session of manager `manager` holds while it runs. */
export function sessionLockName(manager: string, sessionId: string): string {
  return `syncmgr:session:${manager}:${sessionId}`;
}

/** Web Locks as the session journal needs them (absent: no lock, every journal found is from a dead session). */
export interface Locks {
  /** Takes lock `name`; resolves once held, with the function that releases it. */
  hold(name: string): Promise<() => void>;
  /** Names of the locks held now, by any tab or worker of the origin. */
  held(): Promise<string[]>;
}

interface LockManagerLike {
  request(name: string, callback: () => unknown): Promise<unknown>;
  request(name: string, options: { signal?: AbortSignal }, callback: () => unknown): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

function lockManager(): LockManagerLike | null {
  return (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks ?? null;
}

/** `true` where this engine has Web Locks. */
export function hasWebLocks(): boolean {
  return lockManager() !== null;
}

/** The platform's Web Locks as {@link Locks}; `null` where `navigator.locks` is missing. */
export function webLocks(): Locks | null {
  const locks = lockManager();
  if (!locks) return null;
  return {
    hold: (name) => new Promise((granted, refused) => {
      // The lock is held until the callback's promise settles, i.e. until `release()`.
      locks.request(name, () => new Promise<void>((release) => granted(() => release()))).catch(refused);
    }),
    held: async () => ((await locks.query()).held ?? []).flatMap((lock) => (lock.name ? [lock.name] : [])),
  };
}

/** Whether lock `name` is held now; when that cannot be told, it is not. */
export async function isHeld(locks: Locks, name: string): Promise<boolean> {
  try {
    return (await locks.held()).includes(name);
  } catch {
    return false;
  }
}

/**
 * A handler worker asks for its life lock this many ms after `defineHandler()`,
 * or sooner, when the manager calls its `initialize()`: a worker that ends
 * sooner without being asked never pays for a Web Lock.
 */
export const LIFE_LOCK_DELAY = 100;

/** A handler worker's life lock, as the worker holds it. */
export interface LifeLock {
  readonly name: string;
  /** Asks for the lock now, if not asked yet; resolves once it is held or refused. */
  take(): Promise<void>;
}

/**
 * Worker side: names this worker's life lock and asks for it
 * {@link LIFE_LOCK_DELAY} from now (or at `take()`), holding it until the
 * worker ends; `held(true)` once it is held, `held(false)` if Web Locks refuse
 * it (an opaque origin, say). `null` without Web Locks. Neither the timer nor
 * the grant can be heard while the worker's thread is busy: a worker busy with
 * synchronous work holds no lock until it is done.
 */
export function lifeLock(held: (ok: boolean) => void): LifeLock | null {
  const locks = lockManager();
  if (!locks) return null;
  const name = workerLockName();
  let taking: Promise<void> | null = null;
  const take = () => (taking ??= new Promise<void>((settled) => {
    const done = (ok: boolean) => {
      held(ok);
      settled();
    };
    try {
      locks.request(name, () => {
        done(true);
        return new Promise<never>(() => {});
      }).catch(() => done(false));
    } catch {
      done(false);
    }
  }));
  setTimeout(() => void take(), LIFE_LOCK_DELAY);
  return { name, take };
}

/**
 * Manager side: asks for a worker's life lock `name`, which is granted only
 * once the worker is gone; then `gone()`. Aborting `signal` stops watching.
 */
export function watchLifeLock(name: string, signal: AbortSignal, gone: () => void): void {
  const locks = lockManager();
  if (!locks) return;
  locks.request(name, { signal }, () => {
    if (!signal.aborted) gone();
  }).catch(() => { /* aborted: the manager ended the worker itself */ });
}
