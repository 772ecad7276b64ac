/** Small helpers shared by the connection kinds. */
import { SyncError } from '../protocol/sync-error.ts';
import { redactUrls } from '../protocol/redact.ts';
import { untilAborted } from '../internal/abortable.ts';
import { evaluate, type Dynamic } from './endpoint-common.ts';

/** Rejects at once with `E_OFFLINE` when the browser knows it is offline. */
export function checkOnline(name: string): void {
  if (globalThis.navigator?.onLine === false) {
    throw new SyncError('E_OFFLINE', `Endpoint '${name}': the browser is offline; try again when the network is back.`);
  }
}

/**
 * An endpoint's URL for messages, which reach handlers: its origin alone.
 * Credentials, a query and a path may hold tokens, and a handler never
 * needs them (it names paths below the endpoint, which messages quote).
 */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * The message of a caught error (the engine's, or an app function's), for a
 * message of our own: every URL it quotes loses its credentials and query,
 * and its closing full stops go (every caller ends the sentence itself, and
 * engines differ: Firefox ends its messages with one, Chromium does not).
 * (The error itself, kept as the `cause`, is redacted where it crosses to a
 * worker: protocol/wire.ts.)
 */
export function causeMessage(cause: unknown): string {
  const text = redactUrls(String((cause as Error)?.message ?? cause));
  let end = text.length;
  while (end > 0 && (text[end - 1] === '.' || /\s/.test(text[end - 1]!))) end -= 1;
  return text.slice(0, end);
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

/**
 * Evaluates an endpoint's {@link Dynamic} option (a `url`, `protocols` or
 * `headers` function may hang: its promise need never settle) within
 * `timeout` ms (the endpoint's `connectTimeout`) and until `signal` aborts.
 * Rejects with `E_TIMEOUT` naming `what` (e.g. "Endpoint 'api': its headers
 * function"), with the signal's reason when it aborts, and with an `E_FAIL`
 * naming `what` when the function throws.
 */
export async function evaluateWithin<T>(value: Dynamic<T>, signal: AbortSignal, timeout: number, what: string): Promise<T> {
  if (typeof value !== 'function') return value;
  signal.throwIfAborted();
  const { signal: limit, dispose } = linkSignals(signal, timeout, what);
  try {
    return await untilAborted(evaluate(value), limit);
  } catch (cause) {
    if (limit.aborted && cause === limit.reason) {
      if (signal.aborted) throw signal.reason;
      throw new SyncError('E_TIMEOUT', `${what} did not answer within ${timeout} ms (connectTimeout); it must resolve, or the endpoint cannot be reached.`);
    }
    throw new SyncError('E_FAIL', `${what} failed: ${causeMessage(cause)}.`, { cause });
  } finally {
    dispose();
  }
}
