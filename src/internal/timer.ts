/**
 * A promise that rejects after `ms` unless cancelled; `cancel()` clears the
 * timer so nothing is left pending after a session.
 */
export interface Timer {
  promise: Promise<never>;
  cancel(): void;
}

export function timeoutAfter(ms: number, error: () => Error): Timer {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(error()), ms);
  });
  // A timer that nobody awaits any more must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(id) };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const id = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
