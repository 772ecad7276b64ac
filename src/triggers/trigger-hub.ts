/**
 * Runs a manager's automatic triggers: for each trigger switched on that at
 * least one registration takes part in, one subscription, which asks the
 * manager for a session of exactly the handlers registered for it. `interval`
 * runs one schedule per distinct period. `manual` and `invoke` are requests
 * of app code and have no source here.
 */
import type { Trigger } from '../protocol/types.ts';
import { hiddenTrigger } from './hidden.ts';
import { idleTrigger } from './idle.ts';
import { intervalTrigger } from './interval.ts';
import { onlineTrigger } from './online.ts';
import { startupTrigger } from './startup.ts';
import type { ResolvedTriggers } from './trigger-options.ts';

/** What the hub needs of a registration. */
export interface TriggerRegistration {
  readonly id: string;
  readonly triggers: ReadonlySet<Trigger>;
  /** Its own `interval` period, if it has one. */
  readonly interval: number | null;
}

/** Subscribes every trigger in use; answers the function that stops them all (idempotent). */
export function startTriggers(
  triggers: ResolvedTriggers,
  handlers: Iterable<TriggerRegistration>,
  request: (trigger: Trigger, handlerIds: string[]) => void,
): () => void {
  const list = [...handlers];
  const takers = (trigger: Trigger) => list.filter((h) => h.triggers.has(trigger)).map((h) => h.id);
  const { network, visibility, activity, pagehide } = triggers.environment;
  const stops: (() => void)[] = [];
  const run = (trigger: Trigger, subscribe: (fire: () => void) => () => void, ids = takers(trigger)) => {
    if (ids.length > 0) stops.push(subscribe(() => request(trigger, ids)));
  };
  if (triggers.online) run('online', onlineTrigger(network));
  if (triggers.hidden) run('hidden', hiddenTrigger(visibility, pagehide));
  if (triggers.idle) run('idle', idleTrigger(visibility, activity, triggers.idle.after));
  if (triggers.startup) run('startup', startupTrigger(triggers.startup.delay));
  if (triggers.interval) {
    const byPeriod = new Map<number, string[]>();
    for (const h of list) {
      if (!h.triggers.has('interval')) continue;
      const every = h.interval ?? triggers.interval.every;
      byPeriod.set(every, [...(byPeriod.get(every) ?? []), h.id]);
    }
    for (const [every, ids] of byPeriod) run('interval', intervalTrigger(visibility, network, every), ids);
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
