/**
 * Item bookkeeping as pure functions: checking a progress update, applying it
 * under Sync Center's rule that a finished item changes only to `failed`.
 */
import { SyncError } from '../protocol/errors.ts';
import {
  ITEM_STATUSES, MAX_ITEM_ID_LENGTH, MAX_ITEM_NAME_LENGTH, MAX_LOG_TEXT_LENGTH, TERMINAL_STATUSES,
  type ItemInfo, type ItemStatus, type ProgressUpdate,
} from '../protocol/types.ts';

/** What the manager knows about one item during a session. */
export interface ItemState {
  id: string;
  name: string;
  status: ItemStatus;
  text: string;
  value: number;
  max: number;
  /** The user skipped it, or the handler was told to cancel it. */
  cancelRequested: boolean;
}

export function isTerminal(status: ItemStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** `true` when an item in `from` may move to `to`: a terminal status moves only to `failed`. */
export function canChangeStatus(from: ItemStatus, to: ItemStatus): boolean {
  if (from === to) return true;
  return !isTerminal(from) || to === 'failed';
}

export function newItemState(id: string, name: string): ItemState {
  return { id, name, status: 'pending', text: '', value: 0, max: 0, cancelRequested: false };
}

/** Checks an untrusted progress update from a handler; throws `E_INVALIDARG` naming the field. */
export function parseProgressUpdate(update: unknown, where: string): ProgressUpdate {
  if (update === undefined || update === null) return {};
  if (typeof update !== 'object' || Array.isArray(update)) {
    throw new SyncError('E_INVALIDARG', `${where}: the update must be an object like { status, text, value, max }, not ${typeof update}.`);
  }
  const u = update as Record<string, unknown>;
  for (const key of Object.keys(u)) {
    if (!['status', 'text', 'value', 'max'].includes(key)) {
      throw new SyncError('E_INVALIDARG', `${where}: unknown field '${key}'; an update has status, text, value and max.`);
    }
  }
  const out: ProgressUpdate = {};
  if (u.status !== undefined) {
    if (!ITEM_STATUSES.includes(u.status as ItemStatus)) {
      throw new SyncError('E_INVALIDARG', `${where}: status ${JSON.stringify(u.status)} is not one of ${ITEM_STATUSES.join(', ')}.`);
    }
    out.status = u.status as ItemStatus;
  }
  if (u.text !== undefined) {
    if (typeof u.text !== 'string' || u.text.length > MAX_LOG_TEXT_LENGTH) {
      throw new SyncError('E_INVALIDARG', `${where}: text must be a string of at most ${MAX_LOG_TEXT_LENGTH} characters.`);
    }
    out.text = u.text;
  }
  for (const key of ['value', 'max'] as const) {
    const n = u[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new SyncError('E_INVALIDARG', `${where}: ${key} must be a finite number ≥ 0, not ${JSON.stringify(n)}.`);
    }
    out[key] = n;
  }
  return out;
}

/**
 * Applies an update. A status a finished item may not take is ignored (the
 * item keeps its status), so a handler racing a user's skip never undoes it.
 */
export function applyProgress(item: ItemState, update: ProgressUpdate): { next: ItemState; statusChanged: boolean; statusRefused: boolean } {
  const next = { ...item };
  let statusChanged = false;
  let statusRefused = false;
  if (update.status !== undefined && update.status !== item.status) {
    if (canChangeStatus(item.status, update.status)) {
      next.status = update.status;
      statusChanged = true;
    } else {
      statusRefused = true;
    }
  }
  if (!statusRefused) {
    if (update.text !== undefined) next.text = update.text;
    if (update.max !== undefined) next.max = update.max;
    if (update.value !== undefined) next.value = update.value;
  }
  return { next, statusChanged, statusRefused };
}

const ITEM_KEYS = ['id', 'name', 'checked', 'lastUpdate'];

/** Checks the answer of a handler's `items()`; throws `E_INVALIDARG` naming the item and the field. */
export function parseItems(value: unknown, handlerId: string): ItemInfo[] {
  const where = `Handler '${handlerId}': items()`;
  if (!Array.isArray(value)) throw new SyncError('E_INVALIDARG', `${where} must return an array of { id, name }, not ${value === null ? 'null' : typeof value}.`);
  const seen = new Set<string>();
  return value.map((item: unknown, i): ItemInfo => {
    if (typeof item !== 'object' || item === null) throw new SyncError('E_INVALIDARG', `${where}: entry ${i} must be an object like { id, name }.`);
    const r = item as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!ITEM_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `${where}: entry ${i} has unknown field '${key}'; an item has ${ITEM_KEYS.join(', ')}.`);
    }
    if (typeof r.id !== 'string' || r.id.length === 0 || r.id.length > MAX_ITEM_ID_LENGTH) {
      throw new SyncError('E_INVALIDARG', `${where}: entry ${i} needs an id string of 1 to ${MAX_ITEM_ID_LENGTH} characters.`);
    }
    if (seen.has(r.id)) throw new SyncError('E_INVALIDARG', `${where}: the id '${r.id}' is listed twice.`);
    seen.add(r.id);
    if (typeof r.name !== 'string' || r.name.length === 0 || r.name.length > MAX_ITEM_NAME_LENGTH) {
      throw new SyncError('E_INVALIDARG', `${where}: item '${r.id}' needs a name string of 1 to ${MAX_ITEM_NAME_LENGTH} characters.`);
    }
    if (r.checked !== undefined && typeof r.checked !== 'boolean') throw new SyncError('E_INVALIDARG', `${where}: item '${r.id}': checked must be a boolean.`);
    if (r.lastUpdate !== undefined && (typeof r.lastUpdate !== 'number' || !Number.isFinite(r.lastUpdate))) {
      throw new SyncError('E_INVALIDARG', `${where}: item '${r.id}': lastUpdate must be epoch milliseconds.`);
    }
    const out: ItemInfo = { id: r.id, name: r.name };
    if (r.checked !== undefined) out.checked = r.checked;
    if (r.lastUpdate !== undefined) out.lastUpdate = r.lastUpdate;
    return out;
  });
}
