/**
 * The manager's `triggers` option: which automatic triggers run, their
 * delays (each default a constant exported by the trigger's own file), and
 * the environment they listen to (replaceable, for tests or for an app with
 * its own notion of "online").
 */
import { SyncError } from '../protocol/sync-error.ts';
import { activitySource } from './activity.ts';
import { DEFAULT_HIDDEN_BUDGET } from './hidden.ts';
import { DEFAULT_IDLE_AFTER } from './idle.ts';
import { DEFAULT_INTERVAL } from './interval.ts';
import { DEFAULT_INVOKE_DEBOUNCE, DEFAULT_INVOKE_MAX_WAIT } from './invoke.ts';
import { networkSource } from './network.ts';
import { pagehideSource } from './pagehide.ts';
import type { ConditionSource, PulseSource, TriggerEnvironment } from './sources.ts';
import { DEFAULT_STARTUP_DELAY } from './startup.ts';
import { visibilitySource } from './visibility.ts';

/** `new SyncManager({ triggers })`. `false` switches a trigger off for every handler; `true` or `{}`: its defaults. */
export interface TriggerOptions {
  /** `manager.invoke()`: requests within `debounce` ms merge; a merged request waits at most `maxWait` ms. */
  invoke?: boolean | { debounce?: number; maxWait?: number };
  /** The network came back. */
  online?: boolean;
  /** The page was hidden or left; a session it starts is cancelled after `budget` ms. */
  hidden?: boolean | { budget?: number };
  /** No user input for `after` ms while the page is visible. */
  idle?: boolean | { after?: number };
  /** Every `every` ms while visible and online (a registration's `interval` overrides it for its handler). */
  interval?: boolean | { every?: number };
  /** Once, `delay` ms after the manager is created. */
  startup?: boolean | { delay?: number };
  /** Replaces any of the environment's sources (see `TriggerEnvironment`). */
  sources?: Partial<TriggerEnvironment>;
}

export interface ResolvedTriggers {
  invoke: { debounce: number; maxWait: number } | null;
  online: boolean;
  hidden: { budget: number } | null;
  idle: { after: number } | null;
  interval: { every: number } | null;
  startup: { delay: number } | null;
  environment: TriggerEnvironment;
}

const KEYS = ['invoke', 'online', 'hidden', 'idle', 'interval', 'startup', 'sources'];
const SOURCE_KEYS = ['network', 'visibility', 'activity', 'pagehide'] as const;
const CONDITIONS: readonly string[] = ['network', 'visibility'];

/** Validates `triggers`; every message names the option to fix. */
export function resolveTriggers(value: unknown): ResolvedTriggers {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new SyncError('E_INVALIDARG', 'SyncManager option `triggers` must be an object like { interval: { every: 60_000 }, idle: false }.');
  }
  const o = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `SyncManager option \`triggers\`: unknown key '${key}'; known: ${KEYS.join(', ')}.`);
  }
  if (o.online !== undefined && typeof o.online !== 'boolean') throw new SyncError('E_INVALIDARG', 'SyncManager option `triggers.online` must be a boolean.');
  const invoke = delays(o.invoke, 'invoke', { debounce: DEFAULT_INVOKE_DEBOUNCE, maxWait: DEFAULT_INVOKE_MAX_WAIT });
  if (invoke && invoke.maxWait < invoke.debounce) throw new SyncError('E_INVALIDARG', 'SyncManager option `triggers.invoke`: maxWait must be at least debounce.');
  return {
    invoke,
    online: o.online !== false,
    hidden: delays(o.hidden, 'hidden', { budget: DEFAULT_HIDDEN_BUDGET }),
    idle: delays(o.idle, 'idle', { after: DEFAULT_IDLE_AFTER }),
    interval: delays(o.interval, 'interval', { every: DEFAULT_INTERVAL }),
    startup: delays(o.startup, 'startup', { delay: DEFAULT_STARTUP_DELAY }),
    environment: environment(o.sources),
  };
}

/** A trigger's `boolean | { delays }`: `false` is off (`null`), anything else its delays over the defaults. */
function delays<T extends Record<string, number>>(value: unknown, name: string, defaults: T): T | null {
  if (value === false) return null;
  if (value === undefined || value === true) return { ...defaults };
  const where = `SyncManager option \`triggers.${name}\``;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyncError('E_INVALIDARG', `${where} must be true, false or an object like { ${Object.keys(defaults).join(', ')} }.`);
  }
  const out: Record<string, number> = { ...defaults };
  for (const [key, ms] of Object.entries(value)) {
    if (!(key in defaults)) throw new SyncError('E_INVALIDARG', `${where}: unknown key '${key}'; known: ${Object.keys(defaults).join(', ')}.`);
    checkDelay(`${where}.${key}`, ms, key === 'debounce' || key === 'delay');
    out[key] = ms as number;
  }
  return out as T;
}

/** A delay in ms: a finite number ≥ 1 (≥ 0 where `zero` may be), at most 2³¹−1 (what setTimeout can wait). */
export function checkDelay(where: string, ms: unknown, zero = false): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < (zero ? 0 : 1) || ms > 0x7fffffff) {
    throw new SyncError('E_INVALIDARG', `${where} must be a number of milliseconds from ${zero ? 0 : 1} to ${0x7fffffff}, not ${JSON.stringify(ms)}.`);
  }
}

function environment(value: unknown): TriggerEnvironment {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new SyncError('E_INVALIDARG', 'SyncManager option `triggers.sources` must be an object like { network, visibility, activity, pagehide }.');
  }
  const given = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(SOURCE_KEYS as readonly string[]).includes(key)) throw new SyncError('E_INVALIDARG', `SyncManager option \`triggers.sources\`: unknown source '${key}'; known: ${SOURCE_KEYS.join(', ')}.`);
  }
  for (const key of SOURCE_KEYS) {
    const s = given[key];
    if (s === undefined) continue;
    const r = s as Record<string, unknown>;
    const needs = CONDITIONS.includes(key) ? '{ current(), subscribe(listener) }' : '{ subscribe(listener) }';
    if (typeof s !== 'object' || s === null || typeof r.subscribe !== 'function' || (CONDITIONS.includes(key) && typeof r.current !== 'function')) {
      throw new SyncError('E_INVALIDARG', `SyncManager option \`triggers.sources.${key}\` must be an object like ${needs}, where subscribe answers the function that stops it.`);
    }
  }
  // Wrapped, not spread: a source may be a class instance whose methods live on its prototype.
  const subscribe = (key: string, s: PulseSource) => (listener: (value: boolean) => void) => {
    const stop: unknown = s.subscribe(listener as () => void);
    if (typeof stop !== 'function') throw new SyncError('E_INVALIDARG', `SyncManager option \`triggers.sources.${key}\`: subscribe(listener) must answer the function that stops it, not ${typeof stop}.`);
    return stop as () => void;
  };
  const condition = (key: string, fallback: () => ConditionSource): ConditionSource => {
    const s = given[key] as ConditionSource | undefined;
    return s ? { available: s.available ?? true, current: () => s.current() !== false, subscribe: subscribe(key, s) } : fallback();
  };
  const pulse = (key: string, fallback: () => PulseSource): PulseSource => {
    const s = given[key] as PulseSource | undefined;
    return s ? { available: s.available ?? true, subscribe: subscribe(key, s) } : fallback();
  };
  return {
    network: condition('network', networkSource),
    visibility: condition('visibility', visibilitySource),
    activity: pulse('activity', activitySource),
    pagehide: pulse('pagehide', pagehideSource),
  };
}
