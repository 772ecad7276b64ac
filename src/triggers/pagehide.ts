/**
 * The page being left: its `pagehide` event (it fires where `unload` no
 * longer does, and before a page enters the back/forward cache). Without a
 * `document` it never fires.
 */
import { NEVER, globalEvents, listen, type PulseSource } from './sources.ts';

export function pagehideSource(): PulseSource {
  const events = globalEvents();
  if (!events || typeof (globalThis as { document?: unknown }).document !== 'object') return NEVER;
  return { available: true, subscribe: (listener) => listen(events, ['pagehide'], listener) };
}
