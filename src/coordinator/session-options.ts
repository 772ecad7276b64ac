/** The options of `manager.synchronize()` and their validation. */
import { SyncError } from '../protocol/sync-error.ts';
import { TRIGGERS, isOneOf, type Trigger } from '../protocol/types.ts';
import type { ResolvedHandler } from './options.ts';
import type { ItemSelection, SessionRequest } from './session-request.ts';

/** What `synchronize()` does when a session already syncs every item it asks for: queue a new one, or answer the running one. */
export const WHEN_SYNCING = ['queue', 'join'] as const;
export type WhenSyncing = (typeof WHEN_SYNCING)[number];

/** Options of `manager.synchronize()`. */
export interface SynchronizeOptions {
  /** What started it. Default `'manual'`. */
  trigger?: Trigger;
  /** Ids of the handlers that take part. Default: every handler registered for the trigger. */
  handlers?: string[];
  /** Per handler, exactly these items (ignoring the user's choices), e.g. to retry them. Default: the user's choices. */
  items?: Record<string, string[]>;
  /** Opaque, structured-cloneable data handed to every handler's `initialize()`. Default `null`. */
  cookie?: unknown;
  /** The user is watching and UI is welcome. Default: `true` for `'manual'`, else `false`. */
  mayBotherUser?: boolean;
  /** Aborting it cancels the session (and keeps it from merging with other requests). */
  signal?: AbortSignal;
  /** `'join'`: when the running session already syncs every item asked for, answer it instead of queueing a new one. Default `'queue'`. */
  whenSyncing?: WhenSyncing;
}

const OPTION_KEYS = ['trigger', 'handlers', 'items', 'cookie', 'mayBotherUser', 'signal', 'whenSyncing'];

/** Checks `synchronize()` options against the registered handlers; every message names the option to fix. */
export function validateSynchronizeOptions(options: unknown, handlers: ReadonlyMap<string, ResolvedHandler>): SynchronizeOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new SyncError('E_INVALIDARG', 'synchronize(options) takes an object like { trigger, handlers }.');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `synchronize(): unknown option '${key}'; known: ${OPTION_KEYS.join(', ')}.`);
  }
  if (o.trigger !== undefined && !isOneOf(TRIGGERS, o.trigger)) {
    throw new SyncError('E_INVALIDARG', `synchronize(): trigger must be one of ${TRIGGERS.join(', ')}, not ${JSON.stringify(o.trigger)}.`);
  }
  const known = (id: unknown, where: string) => {
    if (typeof id !== 'string' || !handlers.has(id)) {
      throw new SyncError('E_INVALIDARG', `synchronize(): ${where} names handler ${JSON.stringify(id)}, which is not registered; registered: ${[...handlers.keys()].join(', ')}.`);
    }
  };
  if (o.handlers !== undefined) {
    if (!Array.isArray(o.handlers)) throw new SyncError('E_INVALIDARG', 'synchronize(): handlers must be an array of handler ids.');
    for (const id of o.handlers) known(id, 'handlers');
    if (new Set(o.handlers).size !== o.handlers.length) throw new SyncError('E_INVALIDARG', 'synchronize(): handlers lists a handler twice.');
  }
  if (o.items !== undefined) {
    if (typeof o.items !== 'object' || o.items === null || Array.isArray(o.items)) throw new SyncError('E_INVALIDARG', 'synchronize(): items must map handler ids to arrays of item ids.');
    for (const [id, list] of Object.entries(o.items)) {
      known(id, 'items');
      if (Array.isArray(o.handlers) && !o.handlers.includes(id)) {
        throw new SyncError('E_INVALIDARG', `synchronize(): items names handler '${id}', which does not take part (handlers: ${o.handlers.join(', ')}); add it to handlers or drop it from items.`);
      }
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new SyncError('E_INVALIDARG', `synchronize(): items['${id}'] must be an array of item ids.`);
    }
  }
  if (o.cookie !== undefined) {
    try {
      structuredClone(o.cookie);
    } catch (cause) {
      throw new SyncError('E_INVALIDARG', 'synchronize(): cookie must be structured-cloneable (plain data, no functions or DOM nodes).', { cause });
    }
  }
  if (o.mayBotherUser !== undefined && typeof o.mayBotherUser !== 'boolean') throw new SyncError('E_INVALIDARG', 'synchronize(): mayBotherUser must be a boolean.');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new SyncError('E_INVALIDARG', 'synchronize(): signal must be an AbortSignal.');
  if (o.whenSyncing !== undefined && !isOneOf(WHEN_SYNCING, o.whenSyncing)) {
    throw new SyncError('E_INVALIDARG', `synchronize(): whenSyncing must be one of ${WHEN_SYNCING.join(', ')}, not ${JSON.stringify(o.whenSyncing)}.`);
  }
  return o as SynchronizeOptions;
}

/** The request validated options make: without `handlers`, the handlers registered for the trigger, in registration order. */
export function toRequest(options: SynchronizeOptions, handlers: ReadonlyMap<string, ResolvedHandler>): SessionRequest {
  const trigger = options.trigger ?? 'manual';
  const ids = options.handlers ? [...options.handlers] : [...handlers.values()].filter((h) => h.triggers.has(trigger)).map((h) => h.id);
  // A map: handler ids are user input, never looked up on a plain object.
  const items = new Map<string, ItemSelection>(Object.entries(options.items ?? {}).map(([id, list]) => [id, { choices: false, ids: new Set(list) }]));
  return { trigger, handlers: ids, items, cookie: options.cookie ?? null, mayBotherUser: options.mayBotherUser ?? trigger === 'manual', attempt: 1 };
}
