/**
 * The session journal's liveness check over Web Locks: a running session
 * holds a lock of its own, so a tab that finds its journal can tell a session
 * alive elsewhere from one whose page died (its locks were released with it).
 */
import type { SessionLocks } from './manager-state.ts';

/** Web Locks as {@link SessionLocks}; `null` where `navigator.locks` is missing. */
export function webSessionLocks(): SessionLocks | null {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return null;
  return {
    hold: (name) => new Promise((granted, refused) => {
      // The lock is held until the callback's promise settles, i.e. until `release()`.
      locks.request(name, () => new Promise<void>((release) => granted(() => release()))).catch(refused);
    }),
    held: async () => ((await locks.query()).held ?? []).flatMap((lock) => (lock.name ? [lock.name] : [])),
  };
}
