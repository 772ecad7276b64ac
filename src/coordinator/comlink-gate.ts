/**
 * The gate between a handler's worker and the main thread. Comlink's
 * protocol lets the remote side GET, SET, APPLY and CONSTRUCT along any
 * property path of an exposed object, and hand over proxies of its own; a
 * worker is untrusted, so nothing of that reaches Comlink unchecked:
 *
 * - calls into the manager ({@link exposeGated}) pass only as `APPLY` of one
 *   of the API's own functions, by a path of one name, with plain (`RAW`)
 *   arguments; any other message with an id is answered with an
 *   `E_ACCESSDENIED` outcome (so a worker's call never hangs), and one
 *   without an id is dropped;
 * - answers from the worker ({@link wrapGated}) pass only as Outcomes of
 *   plain data or as thrown errors of strings, never as proxies; anything
 *   else fails the call with `E_FAIL`.
 *
 * Comlink stays the RPC: the gate is an Endpoint in front of a lane of the
 * worker's port (internal/lane.ts).
 */
import * as Comlink from 'comlink';
import type { LaneEndpoint } from '../internal/lane.ts';
import { SyncError, isSyncErrorCode } from '../protocol/sync-error.ts';
import { fail } from '../protocol/wire.ts';

type Listener = (event: MessageEvent) => void;

/** What the gate refused, for the manager's log. */
export interface RefusedMessage {
  /** Why, in words a developer can act on. */
  reason: string;
}

/** What a gate does with a message: lets it through, drops it, or hands Comlink another one instead. */
type Verdict = { pass: true } | { pass: false; instead?: unknown };

/** A Comlink endpoint over `inner` whose listeners see only what `judge` lets through. */
function gatedEndpoint(inner: LaneEndpoint, judge: (data: unknown) => Verdict): Comlink.Endpoint {
  const wrapped = new Map<EventListenerOrEventListenerObject, Listener>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => inner.postMessage(message, transfer ?? []),
    addEventListener(type: string, listener: EventListenerOrEventListenerObject) {
      const call = typeof listener === 'function' ? listener : (event: Event) => listener.handleEvent(event);
      const gated: Listener = (event) => {
        const verdict = judge(event.data);
        if (verdict.pass) call(event);
        else if (verdict.instead !== undefined) call(new MessageEvent('message', { data: verdict.instead }));
      };
      wrapped.set(listener, gated);
      inner.addEventListener(type, gated as EventListener);
    },
    removeEventListener(type: string, listener: EventListenerOrEventListenerObject) {
      const gated = wrapped.get(listener);
      if (!gated) return;
      wrapped.delete(listener);
      inner.removeEventListener(type, gated as EventListener);
    },
  };
}

const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
  && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

const hasOnlyKeys = (value: Record<string, unknown>, allowed: readonly string[]) => Object.keys(value).every((key) => allowed.includes(key));

/** A Comlink argument or answer that is a plain value, not a proxy or any other transfer handler's form. */
const isRawWireValue = (value: unknown): boolean => isPlainRecord(value) && value.type === 'RAW' && hasOnlyKeys(value, ['type', 'value']);

/**
 * Exposes `api` (an object whose own properties are its functions) on
 * `endpoint` (a lane) behind the gate. `refused` hears of every message the gate stopped.
 */
export function exposeGated<T extends { [K in keyof T]: (...args: never[]) => unknown }>(api: T, endpoint: LaneEndpoint, refused: (message: RefusedMessage) => void): void {
  // Null prototype and frozen: no name on the object but the API's own functions.
  const target: Record<string, unknown> = Object.freeze(Object.assign(Object.create(null) as Record<string, unknown>, api));
  const names = new Set(Object.keys(target).filter((name) => typeof target[name] === 'function'));
  const why = (data: unknown): string | null => {
    if (!isPlainRecord(data)) return 'a message that is not a call';
    if (!hasOnlyKeys(data, ['id', 'type', 'path', 'argumentList'])) return 'a message with unknown fields';
    if (data.type !== 'APPLY') return `a ${typeof data.type === 'string' ? data.type.slice(0, 20) : 'malformed'} message (only method calls are allowed)`;
    const path = data.path;
    if (!Array.isArray(path) || path.length !== 1 || typeof path[0] !== 'string' || !names.has(path[0])) {
      return `a call of ${Array.isArray(path) ? JSON.stringify(path.slice(0, 4)).slice(0, 80) : 'no method'}, which is not one of the manager's methods (${[...names].join(', ')})`;
    }
    const args = data.argumentList;
    if (!Array.isArray(args) || args.length > 4 || !args.every(isRawWireValue)) return `a call of ${path[0]} whose arguments are not plain values`;
    return null;
  };
  const judge = (data: unknown): Verdict => {
    const reason = why(data);
    if (reason === null) return { pass: true };
    refused({ reason });
    // Answered, so that the worker's call does not wait for ever; Comlink never sees it.
    const id = isPlainRecord(data) ? data.id : undefined;
    if (typeof id === 'string' && id.length <= 100) {
      endpoint.postMessage({ id, type: 'RAW', value: fail(new SyncError('E_ACCESSDENIED', `The manager refused ${reason}.`)) });
    }
    return { pass: false };
  };
  Comlink.expose(target, gatedEndpoint(endpoint, judge));
}

/**
 * Wraps the worker's API on `endpoint` (a lane) behind the gate: an answer that is not a
 * plain value or a thrown error (a proxy, say) never reaches Comlink; the
 * call it answers fails with `E_FAIL` instead, so the main thread is never
 * handed an object the worker controls.
 */
export function wrapGated<T>(endpoint: LaneEndpoint): Comlink.Remote<T> {
  const judge = (data: unknown): Verdict => {
    if (!isPlainRecord(data) || typeof data.id !== 'string') return { pass: false };
    if (data.type === 'RAW' && hasOnlyKeys(data, ['id', 'type', 'value']) && isOutcome(data.value)) return { pass: true };
    if (data.type === 'HANDLER' && data.name === 'throw' && hasOnlyKeys(data, ['id', 'type', 'name', 'value']) && isThrownError(data.value)) return { pass: true };
    const error = new SyncError('E_FAIL', 'The handler\'s worker answered the manager with something other than an outcome of plain data (a proxy, say); the manager refused it.');
    return { pass: false, instead: { id: data.id, type: 'RAW', value: fail(error) } };
  };
  return Comlink.wrap<T>(gatedEndpoint(endpoint, judge));
}

const MAX_CAUSES = 8;

/** An error as the runtime sends it (protocol/wire.ts): strings where strings belong, a bounded chain of causes. */
function isWireError(value: unknown, depth = 0): boolean {
  if (!isPlainRecord(value) || !hasOnlyKeys(value, ['name', 'message', 'code', 'stack', 'cause', 'retryAfter'])) return false;
  if (typeof value.name !== 'string' || typeof value.message !== 'string') return false;
  if (value.code !== undefined && !isSyncErrorCode(value.code)) return false;
  if (value.stack !== undefined && typeof value.stack !== 'string') return false;
  if (value.retryAfter !== undefined && !(typeof value.retryAfter === 'number' && Number.isFinite(value.retryAfter) && value.retryAfter >= 0)) return false;
  return value.cause === undefined || (depth < MAX_CAUSES && isWireError(value.cause, depth + 1));
}

/** Every answer of the runtime is an Outcome (protocol/wire.ts); its value is checked by the call that asked. */
function isOutcome(value: unknown): boolean {
  if (!isPlainRecord(value)) return false;
  if (value.ok === true) return hasOnlyKeys(value, ['ok', 'value']);
  return value.ok === false && hasOnlyKeys(value, ['ok', 'error']) && isWireError(value.error);
}

/** What Comlink sends for a thrown Error: `{ isError: true, value: { message, name, stack } }`, strings only. */
function isThrownError(value: unknown): boolean {
  if (!isPlainRecord(value) || value.isError !== true || !hasOnlyKeys(value, ['isError', 'value'])) return false;
  const error = value.value;
  return isPlainRecord(error) && hasOnlyKeys(error, ['message', 'name', 'stack']) && Object.values(error).every((v) => typeof v === 'string');
}
