/**
 * The `startup` trigger: fires once per manager, `delay` ms after it is
 * created, and never in the same task, so listeners added right after
 * `new SyncManager()` hear the session it starts.
 */

/** Default `triggers.startup.delay`, in ms. */
export const DEFAULT_STARTUP_DELAY = 0;

export function startupTrigger(delay: number): (fire: () => void) => () => void {
  return (fire) => {
    const timer = setTimeout(fire, delay);
    return () => clearTimeout(timer);
  };
}
