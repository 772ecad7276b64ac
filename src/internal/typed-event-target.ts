/**
 * `EventTarget` with typed `addEventListener`/`removeEventListener` for a map
 * of event names to event classes. Native everywhere (browsers, workers,
 * Deno); no emitter dependency.
 */
type Listener<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface TypedEventTarget<M> extends EventTarget {
  addEventListener<K extends keyof M & string>(type: K, listener: Listener<M[K]> | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof M & string>(type: K, listener: Listener<M[K]> | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** `class X extends typedEventTarget<XEventMap>()`. */
export function typedEventTarget<M>(): { new (): TypedEventTarget<M> } {
  return EventTarget as unknown as { new (): TypedEventTarget<M> };
}
