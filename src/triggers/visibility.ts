/**
 * Whether the page is visible: `document.visibilityState` and its
 * `visibilitychange` event. Without a `document` (a worker, Deno) the page
 * counts as visible and never changes.
 */
import { constantCondition, listen, type ConditionSource } from './sources.ts';

interface DocumentLike extends EventTarget {
  visibilityState?: string;
}

export function visibilitySource(): ConditionSource {
  const document = (globalThis as { document?: DocumentLike }).document;
  if (!document || typeof document.visibilityState !== 'string') return constantCondition(true);
  const current = () => document.visibilityState !== 'hidden';
  return {
    available: true,
    current,
    subscribe: (listener) => listen(document, ['visibilitychange'], () => listener(current())),
  };
}
