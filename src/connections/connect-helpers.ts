/** Small helpers shared by the connection kinds. */
import { SyncError } from '../protocol/sync-error.ts';

/** Rejects at once with `E_OFFLINE` when the browser knows it is offline. */
export function checkOnline(name: string): void {
  if (globalThis.navigator?.onLine === false) {
    throw new SyncError('E_OFFLINE', `Endpoint '${name}': the browser is offline; try again when the network is back.`);
  }
}

/** A URL for messages: origin and path, without query or credentials (tokens live there). */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * A signal that aborts when `parent` aborts or after `timeout` ms (then with
 * an `E_TIMEOUT` reason). `dispose()` clears the timer and the listener.
 */
export function linkSignals(parent: AbortSignal, timeout: number, what = 'connecting'): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(new SyncError('E_TIMEOUT', `${what} took longer than ${timeout} ms.`)), timeout);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
