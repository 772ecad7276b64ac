/**
 * Checks of what a handler's worker sends: its item list, its progress
 * updates, its log entries. All of it is untrusted input; each check throws
 * `E_INVALIDARG` naming the handler, the call and the field to fix.
 */
import { SyncError } from '../protocol/sync-error.ts';
import {
  ITEM_STATUSES, LOG_LEVELS, MAX_ITEMS, MAX_ITEM_ID_LENGTH, MAX_ITEM_NAME_LENGTH, MAX_LOG_TEXT_LENGTH, isOneOf,
  type ItemInfo, type ProgressUpdate,
} from '../protocol/types.ts';
import type { LogEntry } from '../state/log-book.ts';
import { RESERVED_ERROR_ID_PREFIX } from '../state/failure-entries.ts';

const UPDATE_KEYS = ['status', 'text', 'value', 'max'];

/** Checks a progress update; `where` names the handler and the call. */
export function parseProgressUpdate(update: unknown, where: string): ProgressUpdate {
  if (update === undefined || update === null) return {};
  if (typeof update !== 'object' || Array.isArray(update)) {
    throw new SyncError('E_INVALIDARG', `${where}: the update must be an object like { status, text, value, max }, not ${typeof update}.`);
  }
  const u = update as Record<string, unknown>;
  for (const key of Object.keys(u)) {
    if (!UPDATE_KEYS.includes(key)) {
      throw new SyncError('E_INVALIDARG', `${where}: unknown field '${key}'; an update has status, text, value and max.`);
    }
  }
  const out: ProgressUpdate = {};
  if (u.status !== undefined) {
    if (!isOneOf(ITEM_STATUSES, u.status)) {
      throw new SyncError('E_INVALIDARG', `${where}: status ${JSON.stringify(u.status)} is not one of ${ITEM_STATUSES.join(', ')}.`);
    }
    out.status = u.status;
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

const ITEM_KEYS = ['id', 'name', 'checked', 'lastUpdate'];

/** Checks the answer of a handler's `items()`. */
export function parseItems(value: unknown, handlerId: string): ItemInfo[] {
  const where = `Handler '${handlerId}': items()`;
  if (!Array.isArray(value)) throw new SyncError('E_INVALIDARG', `${where} must return an array of { id, name }, not ${value === null ? 'null' : typeof value}.`);
  // The length first: a sparse array may claim 2³²−1 entries, and visiting them would freeze the page.
  if (value.length > MAX_ITEMS) throw new SyncError('E_INVALIDARG', `${where} returned ${value.length} items; at most ${MAX_ITEMS} are allowed.`);
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) throw new SyncError('E_INVALIDARG', `${where}: entry ${i} is missing (the array has a hole); list one { id, name } per entry.`);
  }
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

const LOG_OPTION_KEYS = ['itemId', 'errorId', 'actionable'];

/** Checks a `ctx.logError(level, text, options)` call and makes the entry it adds. */
export function parseLogEntry(level: unknown, text: unknown, options: unknown, handlerId: string, sessionId: string): LogEntry {
  const where = `Handler '${handlerId}': logError()`;
  if (!isOneOf(LOG_LEVELS, level)) throw new SyncError('E_INVALIDARG', `${where}: level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}.`);
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_LOG_TEXT_LENGTH) {
    throw new SyncError('E_INVALIDARG', `${where}: text must be a string of 1 to ${MAX_LOG_TEXT_LENGTH} characters.`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new SyncError('E_INVALIDARG', `${where}: options must be an object like { itemId, errorId, actionable }.`);
  for (const key of Object.keys(o)) {
    if (!LOG_OPTION_KEYS.includes(key)) throw new SyncError('E_INVALIDARG', `${where}: unknown option '${key}'; known: ${LOG_OPTION_KEYS.join(', ')}.`);
  }
  for (const key of ['itemId', 'errorId'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > MAX_ITEM_ID_LENGTH)) {
      throw new SyncError('E_INVALIDARG', `${where}: ${key} must be a string of 1 to ${MAX_ITEM_ID_LENGTH} characters.`);
    }
  }
  if (o.actionable !== undefined && typeof o.actionable !== 'boolean') throw new SyncError('E_INVALIDARG', `${where}: actionable must be a boolean.`);
  if (typeof o.errorId === 'string' && o.errorId.startsWith(RESERVED_ERROR_ID_PREFIX)) {
    throw new SyncError('E_INVALIDARG', `${where}: errorIds starting with '${RESERVED_ERROR_ID_PREFIX}' are the manager's; choose another.`);
  }
  return {
    errorId: (o.errorId as string | undefined) ?? crypto.randomUUID(),
    level,
    text,
    handlerId,
    itemId: (o.itemId as string | undefined) ?? null,
    actionable: o.actionable === true,
    time: Date.now(),
    sessionId,
  };
}

/** Checks a `ctx.deleteLogError(errorId?)` call: the id `logError()` answered, or nothing for every entry of the handler. */
export function parseErrorId(errorId: unknown, handlerId: string): string | undefined {
  if (errorId === undefined || errorId === null) return undefined;
  if (typeof errorId !== 'string') {
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': deleteLogError(errorId) takes the id logError() returned, or nothing to delete all of the handler's entries.`);
  }
  return errorId;
}
