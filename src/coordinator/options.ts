/**
 * The options of `new SyncManager(…)`, their defaults and their validation.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { checkDuration } from '../connections/endpoint-common.ts';
import { checkEndpointName, validateEndpoints, type EndpointConfig, type ResolvedEndpoint } from '../connections/endpoint-config.ts';
import { missingStoreMethods, type StateStore } from '../storage/state-store.ts';
import type { StorageOption } from '../state/backing-store.ts';
import { TRIGGERS, isOneOf, type Trigger } from '../protocol/types.ts';
import { checkDelay, resolveTriggers, type ResolvedTriggers, type TriggerOptions } from '../triggers/trigger-options.ts';
import { resolveAutoRetry, type AutoRetryOptions } from './auto-retry.ts';

export type { TriggerOptions };

/** The triggers a registration without `triggers` takes part in: the requests of app code. */
export const DEFAULT_HANDLER_TRIGGERS: readonly Trigger[] = Object.freeze(['manual', 'invoke']);

/** The part of `Worker` the manager uses; a real `Worker` (browser or Deno) fits. */
export interface WorkerLike {
  postMessage(message: unknown, transfer: unknown[]): void;
  // `any`: the listener receives the platform's MessageEvent or ErrorEvent, which this file must not name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: any) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: any) => void): void;
  terminate(): void;
}

/** Time limits, in milliseconds. */
export interface Timeouts {
  /** From creating a handler's worker to its ready handshake. */
  ready: number;
  /** A handler's whole part of a session, from spawn to the end of synchronize. */
  handler: number;
  /** After a cancel, how long a handler may take to stop before its worker is terminated. */
  cancel: number;
  /** At the end of a session, how long to wait for each WebSocket's closing handshake. */
  close: number;
  /** How long a call of the state store may take before the store counts as failed (state then stays in memory). */
  storage: number;
}

/** Defaults of {@link Timeouts}. */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  ready: 10_000,
  handler: 300_000,
  cancel: 5_000,
  close: 2_000,
  storage: 5_000,
});

export type { StorageOption };

/** The limits a handler's registration may override. */
const HANDLER_TIMEOUTS = ['ready', 'handler', 'cancel'] as const;

/** A handler as the app registers it. */
export interface HandlerRegistration {
  /** Stable id: stored choices and log entries are kept against it. */
  id: string;
  /** Display name, at most 32 characters. Default: the id. */
  name?: string;
  /** Creates the handler's module worker; called once per session. */
  worker: () => WorkerLike;
  /** Endpoints the handler may establish. Default: all of them. */
  endpoints?: string[];
  /** Per-handler overrides of `ready`, `handler` and `cancel`. */
  timeouts?: Partial<Pick<Timeouts, (typeof HANDLER_TIMEOUTS)[number]>>;
  /** The triggers it takes part in. Default {@link DEFAULT_HANDLER_TRIGGERS}. */
  triggers?: Trigger[];
  /** Its period for the `interval` trigger, in ms. Default: the manager's `triggers.interval.every`. */
  interval?: number;
}

/** Options of `new SyncManager()`. */
export interface SyncManagerOptions {
  /** Names the app: namespaces stored state. */
  name: string;
  /** Named endpoints handlers may establish. Default: none. */
  endpoints?: Record<string, EndpointConfig>;
  /** The endpoint `establishConnection()` and `establishConnection(null)` use. Default: none (then those calls fail with `E_INVALIDARG`). */
  defaultEndpoint?: string;
  /** The handlers, in the order the UI lists them. */
  handlers: HandlerRegistration[];
  /** Time limits; see {@link DEFAULT_TIMEOUTS}. */
  timeouts?: Partial<Timeouts>;
  /** Where state is kept. Default: `'indexeddb'` where `indexedDB` exists, else `'memory'` (e.g. Deno). */
  storage?: StorageOption;
  /** The automatic triggers: which run, their delays, what they listen to. Default: all on, with their defaults. */
  triggers?: TriggerOptions;
  /** Automatic retry of failed trigger-started sessions: `true` for {@link DEFAULT_AUTO_RETRY}, or some of its options. Default `false` (off). */
  retry?: boolean | Partial<AutoRetryOptions>;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  name: string;
  endpoints: Map<string, ResolvedEndpoint>;
  defaultEndpoint: string | null;
  handlers: Map<string, ResolvedHandler>;
  timeouts: Timeouts;
  storage: StorageOption;
  triggers: ResolvedTriggers;
  /** `null`: off. */
  retry: AutoRetryOptions | null;
}

export interface ResolvedHandler {
  id: string;
  name: string;
  worker: () => WorkerLike;
  /** `null`: every endpoint. */
  endpoints: Set<string> | null;
  timeouts: Timeouts;
  triggers: ReadonlySet<Trigger>;
  /** Its own `interval` period; `null`: the manager's. */
  interval: number | null;
}

export const MAX_HANDLER_NAME_LENGTH = 32;
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const OPTION_KEYS = ['name', 'endpoints', 'defaultEndpoint', 'handlers', 'timeouts', 'storage', 'triggers', 'retry'];
const HANDLER_KEYS = ['id', 'name', 'worker', 'endpoints', 'timeouts', 'triggers', 'interval'];

/** Validates `new SyncManager(options)`; every message names the option to fix. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new SyncError('E_INVALIDARG', 'new SyncManager(options) needs an options object with name and handlers.');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `SyncManager: unknown option '${key}'; known: ${OPTION_KEYS.join(', ')}.`);
  }
  if (typeof o.name !== 'string' || !ID.test(o.name)) {
    throw new SyncError('E_INVALIDARG', `SyncManager option \`name\` must be 1 to 64 letters, digits, '_', '.', ':' or '-', not ${JSON.stringify(o.name)}.`);
  }
  const endpoints = validateEndpoints(o.endpoints);
  let defaultEndpoint: string | null = null;
  if (o.defaultEndpoint !== undefined) {
    if (typeof o.defaultEndpoint !== 'string' || !endpoints.has(o.defaultEndpoint)) {
      throw new SyncError('E_INVALIDARG', `SyncManager option \`defaultEndpoint\` is ${JSON.stringify(o.defaultEndpoint)}, which is not one of the endpoints (${[...endpoints.keys()].join(', ') || 'none configured'}).`);
    }
    defaultEndpoint = o.defaultEndpoint;
  }
  const timeouts = resolveTimeouts(o.timeouts, DEFAULT_TIMEOUTS, 'SyncManager option `timeouts`', Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]);
  const storage = resolveStorage(o.storage);
  const triggers = resolveTriggers(o.triggers);
  const retry = resolveAutoRetry(o.retry);
  if (!Array.isArray(o.handlers) || o.handlers.length === 0) {
    throw new SyncError('E_INVALIDARG', 'SyncManager option `handlers` must be a non-empty array of { id, worker }.');
  }
  const handlers = new Map<string, ResolvedHandler>();
  for (const [index, h] of o.handlers.entries()) {
    const handler = resolveHandler(h, index, endpoints, timeouts);
    if (handlers.has(handler.id)) throw new SyncError('E_INVALIDARG', `SyncManager option \`handlers\`: the id '${handler.id}' is used twice.`);
    handlers.set(handler.id, handler);
  }
  return { name: o.name, endpoints, defaultEndpoint, handlers, timeouts, storage, triggers, retry };
}

/** `storage`: a known kind or an object with every method of a StateStore. */
function resolveStorage(value: unknown): StorageOption {
  if (value === undefined) return (globalThis as { indexedDB?: unknown }).indexedDB ? 'indexeddb' : 'memory';
  if (value === 'indexeddb' || value === 'memory') return value;
  if (typeof value === 'object' && value !== null) {
    const missing = missingStoreMethods(value);
    if (missing.length === 0) return value as StateStore;
    throw new SyncError('E_INVALIDARG', `SyncManager option \`storage\`: a custom store needs the methods of StateStore; missing: ${missing.join(', ')}.`);
  }
  throw new SyncError('E_INVALIDARG', `SyncManager option \`storage\` must be 'indexeddb', 'memory' or a StateStore object, not ${JSON.stringify(value)}.`);
}

function resolveHandler(h: unknown, index: number, endpoints: ReadonlyMap<string, ResolvedEndpoint>, timeouts: Timeouts): ResolvedHandler {
  const where = `handlers[${index}]`;
  if (typeof h !== 'object' || h === null) throw new SyncError('E_INVALIDARG', `${where} must be an object like { id, worker }.`);
  const r = h as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!HANDLER_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}'; known: ${HANDLER_KEYS.join(', ')}.`);
  }
  if (typeof r.id !== 'string' || !ID.test(r.id)) {
    throw new SyncError('E_INVALIDARG', `${where}: id must be 1 to 64 letters, digits, '_', '.', ':' or '-', not ${JSON.stringify(r.id)}.`);
  }
  const at = `handler '${r.id}'`;
  const name = r.name ?? r.id;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_HANDLER_NAME_LENGTH) {
    throw new SyncError('E_INVALIDARG', `${at}: name must be a string of 1 to ${MAX_HANDLER_NAME_LENGTH} characters.`);
  }
  if (typeof r.worker !== 'function') {
    throw new SyncError('E_INVALIDARG', `${at}: worker must be a function that creates the handler's worker, e.g. () => new Worker(new URL('./handler.ts', import.meta.url), { type: 'module' }).`);
  }
  let allowed: Set<string> | null = null;
  if (r.endpoints !== undefined) {
    if (!Array.isArray(r.endpoints)) throw new SyncError('E_INVALIDARG', `${at}: endpoints must be an array of endpoint names.`);
    allowed = new Set();
    for (const e of r.endpoints) {
      if (typeof e !== 'string') throw new SyncError('E_INVALIDARG', `${at}: endpoints must hold names (strings), found ${typeof e}.`);
      checkEndpointName(e, at);
      if (!endpoints.has(e)) throw new SyncError('E_INVALIDARG', `${at}: endpoint '${e}' is not configured (configured: ${[...endpoints.keys()].join(', ') || 'none'}).`);
      allowed.add(e);
    }
  }
  let triggers: ReadonlySet<Trigger> = new Set(DEFAULT_HANDLER_TRIGGERS);
  if (r.triggers !== undefined) {
    if (!Array.isArray(r.triggers)) throw new SyncError('E_INVALIDARG', `${at}: triggers must be an array like ['manual', 'online'].`);
    for (const t of r.triggers) {
      if (!isOneOf(TRIGGERS, t)) throw new SyncError('E_INVALIDARG', `${at}: trigger ${JSON.stringify(t)} is not one of ${TRIGGERS.join(', ')}.`);
    }
    triggers = new Set(r.triggers as Trigger[]);
  }
  if (r.interval !== undefined) {
    checkDelay(`${at}: interval`, r.interval);
    if (!triggers.has('interval')) throw new SyncError('E_INVALIDARG', `${at}: interval is set but triggers does not list 'interval'; add it, or drop interval.`);
  }
  return {
    id: r.id, name, worker: r.worker as () => WorkerLike, endpoints: allowed,
    timeouts: resolveTimeouts(r.timeouts, timeouts, `${at}: timeouts`, HANDLER_TIMEOUTS),
    triggers, interval: (r.interval as number | undefined) ?? null,
  };
}

function resolveTimeouts(value: unknown, defaults: Timeouts, where: string, keys: readonly (keyof Timeouts)[]): Timeouts {
  if (value === undefined) return { ...defaults };
  if (typeof value !== 'object' || value === null) throw new SyncError('E_INVALIDARG', `${where} must be an object like { ${keys.join(', ')} }.`);
  const out = { ...defaults };
  for (const [key, ms] of Object.entries(value)) {
    if (!(keys as readonly string[]).includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown limit '${key}'; known: ${keys.join(', ')}.`);
    checkDuration(`${where}.${key}`, ms);
    out[key as keyof Timeouts] = ms;
  }
  return out;
}
