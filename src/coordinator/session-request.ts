/**
 * What a session is asked to do, before it runs: its trigger, its handlers,
 * per handler the items (the user's choices, explicit ids, or both), the
 * cookie and whether the user may be bothered; and how two requests for the
 * same handlers merge while one of them waits for its turn.
 */
import type { Trigger } from '../protocol/types.ts';
import { sameData } from '../internal/same-data.ts';
import type { ItemSelection } from '../state/manager-state.ts';

export type { ItemSelection };

/** What the user chose, and nothing else: a handler absent from a request's `items` gets this. */
export const USER_CHOICES: ItemSelection = Object.freeze({ choices: true, ids: new Set<string>() });

/** The triggers from strongest to weakest: a merged request keeps the stronger one. */
export const TRIGGER_STRENGTH: readonly Trigger[] = ['manual', 'invoke', 'startup', 'online', 'interval', 'idle', 'hidden'];

export function strongerTrigger(a: Trigger, b: Trigger): Trigger {
  return TRIGGER_STRENGTH.indexOf(a) <= TRIGGER_STRENGTH.indexOf(b) ? a : b;
}

export interface SessionRequest {
  trigger: Trigger;
  /** Handler ids, in registration order. */
  handlers: readonly string[];
  /** By handler id; a handler absent here syncs {@link USER_CHOICES}. */
  items: ReadonlyMap<string, ItemSelection>;
  cookie: unknown;
  mayBotherUser: boolean;
  /** 1 for a request of app code or a trigger; n + 1 for the manager's automatic retry of attempt n. */
  attempt: number;
}

/** `true` when `a` and `b` may become one session: the same handlers and the same cookie. */
export function mergeable(a: SessionRequest, b: SessionRequest): boolean {
  return a.handlers.length === b.handlers.length && a.handlers.every((id) => b.handlers.includes(id)) && sameData(a.cookie, b.cookie);
}

/** The request both `a` and `b` ask for: items united, the stronger trigger, the user bothered if either may, the earlier attempt (a fresh request starts the count over). */
export function merge(a: SessionRequest, b: SessionRequest): SessionRequest {
  const items = new Map<string, ItemSelection>();
  for (const id of a.handlers) {
    const x = a.items.get(id) ?? USER_CHOICES;
    const y = b.items.get(id) ?? USER_CHOICES;
    if (x === USER_CHOICES && y === USER_CHOICES) continue;
    items.set(id, { choices: x.choices || y.choices, ids: new Set([...x.ids, ...y.ids]) });
  }
  return { trigger: strongerTrigger(a.trigger, b.trigger), handlers: a.handlers, items, cookie: a.cookie, mayBotherUser: a.mayBotherUser || b.mayBotherUser, attempt: Math.min(a.attempt, b.attempt) };
}

/** `true` when every item `wanted` asks of a handler is asked by `running` too (an explicit id counts when `running` has it, or syncs the user's choices and the id is among them). */
export function covers(running: SessionRequest, wanted: SessionRequest, checked: (handlerId: string, itemId: string) => boolean): boolean {
  return wanted.handlers.every((id) => {
    if (!running.handlers.includes(id)) return false;
    const have = running.items.get(id) ?? USER_CHOICES;
    const want = wanted.items.get(id) ?? USER_CHOICES;
    if (want.choices && !have.choices) return false;
    return [...want.ids].every((item) => have.ids.has(item) || (have.choices && checked(id, item)));
  });
}
