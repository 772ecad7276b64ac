/**
 * The user's input on the page: pointer, keys, wheel and touch, heard in the
 * capture phase and passively, so no handler of the app can hide it and none
 * is slowed. Without a `document` there is no user to hear: it never fires.
 */
import { NEVER, globalEvents, listen, type PulseSource } from './sources.ts';

/** The events that count as the user being active. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

export function activitySource(): PulseSource {
  const events = globalEvents();
  if (!events || typeof (globalThis as { document?: unknown }).document !== 'object') return NEVER;
  return { available: true, subscribe: (listener) => listen(events, ACTIVITY_EVENTS, listener, { capture: true, passive: true }) };
}
