/**
 * The browser's network condition: `navigator.onLine` and the `online` and
 * `offline` events of the page. Where either is missing (Deno), the network
 * counts as up and never changes.
 */
import { constantCondition, globalEvents, listen, type ConditionSource } from './sources.ts';

export function networkSource(): ConditionSource {
  const navigator = (globalThis as { navigator?: { onLine?: unknown } }).navigator;
  const events = globalEvents();
  if (!events || typeof navigator?.onLine !== 'boolean' || !('ononline' in globalThis)) return constantCondition(true);
  const current = () => navigator.onLine !== false;
  return {
    available: true,
    current,
    subscribe: (listener) => listen(events, ['online', 'offline'], () => listener(current())),
  };
}
