/**
 * The shapes of the environment the triggers listen to, after TanStack
 * Query's `onlineManager` and `focusManager`: a condition that holds or not
 * (network, visibility) and a pulse that happens now and then (user input,
 * page hide), each a subscribe function that answers its unsubscribe. Each
 * browser source lives in its own file; a test or an app replaces any of them
 * through the manager's `triggers.sources` option. A source the engine lacks
 * (no `document` in Deno, say) is `available: false` and never reports.
 */

/** A condition that holds or not, with its changes reported. */
export interface ConditionSource {
  /** `false`: the engine has no such condition; `current()` then answers its neutral value and nothing is reported. Default `true`. */
  readonly available?: boolean;
  current(): boolean;
  /** Calls `listener` with the new value on each change; answers the function that stops it. */
  subscribe(listener: (value: boolean) => void): () => void;
}

/** Something that happens now and then. */
export interface PulseSource {
  /** `false`: it never happens in this engine. Default `true`. */
  readonly available?: boolean;
  subscribe(listener: () => void): () => void;
}

/** Everything the triggers listen to. */
export interface TriggerEnvironment {
  /** `true` while the browser says it is online (`navigator.onLine`, `online`/`offline` events). */
  readonly network: ConditionSource;
  /** `true` while the page is visible (`document.visibilityState`). */
  readonly visibility: ConditionSource;
  /** The user's input (pointer, keys, wheel, touch). */
  readonly activity: PulseSource;
  /** The page is being left (`pagehide`). */
  readonly pagehide: PulseSource;
}

/** A condition that always holds and never changes (what an engine without it gets). */
export function constantCondition(value: boolean): ConditionSource {
  return { available: false, current: () => value, subscribe: () => () => {} };
}

/** A pulse that never happens. */
export const NEVER: PulseSource = Object.freeze({ available: false, subscribe: () => () => {} });

/** The event target of the page (or worker) with `addEventListener`, if the engine has one. */
export function globalEvents(): EventTarget | null {
  const g = globalThis as { addEventListener?: unknown };
  return typeof g.addEventListener === 'function' ? (globalThis as unknown as EventTarget) : null;
}

/** Listens to `types` on `target`; answers the function that removes every listener. */
export function listen(target: EventTarget, types: readonly string[], listener: () => void, options?: { capture?: boolean; passive?: boolean }): () => void {
  for (const type of types) target.addEventListener(type, listener, options);
  return () => {
    for (const type of types) target.removeEventListener(type, listener, options);
  };
}
