/**
 * The `idle` trigger (SyncMgr's IDLE): fires once the user has not touched
 * the page for `after` ms while it is visible, then not again until the user
 * has been active and idle again. Hiding the page stops the count; showing it
 * starts it afresh. Without a user to hear (no `document`) it never fires.
 */
import type { ConditionSource, PulseSource } from './sources.ts';

/** Default `triggers.idle.after`, in ms. */
export const DEFAULT_IDLE_AFTER = 60_000;

export function idleTrigger(visibility: ConditionSource, activity: PulseSource, after: number): (fire: () => void) => () => void {
  return (fire) => {
    if (activity.available === false) return () => {};
    let lastActivity = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** Fired in this idle period already: waits for the user to come back. */
    let fired = false;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(check, ms);
    };
    const check = () => {
      timer = undefined;
      const quiet = Date.now() - lastActivity;
      // Input only records the time (pointermove is frequent): the timer looks again when it is due.
      if (quiet < after) return arm(after - quiet);
      fired = true;
      fire();
    };
    const stopActivity = activity.subscribe(() => {
      lastActivity = Date.now();
      if (fired || timer === undefined) {
        fired = false;
        if (visibility.current()) arm(after);
      }
    });
    const stopVisibility = visibility.subscribe((visible) => {
      clearTimeout(timer);
      timer = undefined;
      if (!visible) return;
      lastActivity = Date.now();
      fired = false;
      arm(after);
    });
    if (visibility.current()) arm(after);
    return () => {
      clearTimeout(timer);
      stopActivity();
      stopVisibility();
    };
  };
}
