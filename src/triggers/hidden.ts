/**
 * The `hidden` trigger (SyncMgr's PENDINGDISCONNECT): fires when the page
 * becomes hidden or is left (`pagehide`), once per hiding: a page hidden and
 * then left fires once, and fires again only after it was visible again.
 * What runs then is best effort: the manager cancels such a session after
 * the trigger's budget (the browser may freeze or close the page sooner).
 */
import type { ConditionSource, PulseSource } from './sources.ts';

/** Default `triggers.hidden.budget`: how long a session started by `hidden` may run, in ms. */
export const DEFAULT_HIDDEN_BUDGET = 3_000;

export function hiddenTrigger(visibility: ConditionSource, pagehide: PulseSource): (fire: () => void) => () => void {
  return (fire) => {
    let fired = false;
    const once = () => {
      if (fired) return;
      fired = true;
      fire();
    };
    const stopVisibility = visibility.subscribe((visible) => {
      if (visible) fired = false;
      else once();
    });
    const stopPagehide = pagehide.subscribe(once);
    return () => {
      stopVisibility();
      stopPagehide();
    };
  };
}
