/**
 * The `online` trigger (SyncMgr's CONNECT): fires each time the network comes
 * back, i.e. on a change from offline to online; never at subscription.
 */
import type { ConditionSource } from './sources.ts';

export function onlineTrigger(network: ConditionSource): (fire: () => void) => () => void {
  return (fire) => {
    let online = network.current();
    return network.subscribe((now) => {
      if (now && !online) fire();
      online = now;
    });
  };
}
