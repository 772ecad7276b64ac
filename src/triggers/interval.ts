/**
 * The `interval` trigger (SyncMgr's SCHEDULED): fires every `every` ms while
 * the page is visible and online. While hidden or offline it is paused; when
 * both hold again, a firing that fell due meanwhile happens once, at once, and
 * the schedule goes on from then: a pause never turns into a burst, and the
 * schedule does not drift with the time the sessions take.
 */
import type { ConditionSource } from './sources.ts';

/** Default `triggers.interval.every` (and a registration's `interval`), in ms. */
export const DEFAULT_INTERVAL = 15 * 60_000;

export function intervalTrigger(visibility: ConditionSource, network: ConditionSource, every: number): (fire: () => void) => () => void {
  return (fire) => {
    let due = Date.now() + every;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const running = () => visibility.current() && network.current();
    const arm = () => {
      clearTimeout(timer);
      timer = running() ? setTimeout(tick, Math.max(0, due - Date.now())) : undefined;
    };
    const tick = () => {
      const now = Date.now();
      // Late (a throttled or suspended timer): one firing, and the next one a whole period on.
      due = due + every > now ? due + every : now + every;
      fire();
      arm();
    };
    const resume = () => {
      if (!running()) return arm();
      if (Date.now() >= due) tick();
      else arm();
    };
    const stopVisibility = visibility.subscribe(resume);
    const stopNetwork = network.subscribe(resume);
    arm();
    return () => {
      clearTimeout(timer);
      stopVisibility();
      stopNetwork();
    };
  };
}
