/**
 * What the manager stores, how its keys are laid out, the schema version,
 * and guards for records read back (stored data is checked
 * like any other input: a record that does not fit is dropped).
 *
 * Key layout, in the manager's own database (`syncmgr-state:<name>`):
 *
 * | key | value |
 * |---|---|
 * | `manager/meta` | `{ schema }` |
 * | `manager/choices/<handlerId>` | `[itemId, checked][]`: the user's choices, also for items the handler stopped listing |
 * | `manager/items/<handlerId>` | {@link ItemRecord}[]: the items listed last, with their last state |
 * | `manager/log/<seq>` | a log entry (seq: 12 digits, in insertion order) |
 * | `manager/session/<seq>` | a {@link SessionSummary} |
 * | `manager/journal` | the {@link SessionJournal} of the session running now |
 * | `handler/<handlerId>/<key>` | a handler's `ctx.store` value |
 *
 * Handler ids cannot hold `/`, so no handler's prefix is another's, and the
 * `handler/` prefix keeps every handler key away from the `manager/` keys.
 *
 * How handlers and sessions end is declared here, with the records that keep
 * it: the session code reports these outcomes, the history stores them.
 */
import { isSyncErrorCode, type SyncErrorCode } from '../protocol/sync-error.ts';
import { ITEM_STATUSES, LOG_LEVELS, TRIGGERS, isOneOf, type ConnectionKind, type ItemStatus, type Trigger } from '../protocol/types.ts';
import type { LogEntry } from './log-book.ts';

/** The version of the stored layout this code reads and writes. */
export const STATE_SCHEMA_VERSION = 1;

/**
 * How a handler's part of a session ended:
 * - `succeeded`: synchronize resolved;
 * - `failed`: a step rejected or answered nonsense;
 * - `declined`: initialize or prepare answered false (SyncMgr's S_FALSE);
 * - `nothing-selected`: no item of the handler is selected;
 * - `crashed`: the worker died or failed to start;
 * - `timed-out`: the handler's time limit passed;
 * - `cancelled`: the session was cancelled.
 */
export const HANDLER_OUTCOMES = ['succeeded', 'failed', 'declined', 'nothing-selected', 'crashed', 'timed-out', 'cancelled'] as const;
export type HandlerOutcome = (typeof HANDLER_OUTCOMES)[number];

/** How a session ended as a whole: `failed` when any handler failed, crashed or timed out. */
export const SESSION_OUTCOMES = ['succeeded', 'failed', 'cancelled'] as const;
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

/** How many session summaries are kept; older ones are deleted. */
export const MAX_SESSION_HISTORY = 20;

/** An error as stored: plain data. */
export interface StoredError {
  name: string;
  code: SyncErrorCode | null;
  message: string;
}

/** What the manager knows about an item of a handler. */
export interface ItemRecord {
  handlerId: string;
  id: string;
  name: string;
  /** Included in sessions: the user's choice, else the handler's default. */
  checked: boolean;
  /** Status at the end of the last session that included it (`stopped` if that session was interrupted); `null` if none did. */
  status: ItemStatus | null;
  /** End of the last session that included it (epoch ms). */
  lastSync: number | null;
  /** End of the last session in which it succeeded (epoch ms), or the handler's `lastUpdate`. */
  lastSuccess: number | null;
  /** Why it last failed; `null` after a success. */
  lastError: StoredError | null;
}

/** How a session ended as history tells it: a session's outcome, or `interrupted` (the page closed or crashed mid-session). */
export type SessionSummaryOutcome = SessionOutcome | 'interrupted';

/** One handler's part of a past session. */
export interface HandlerSummary {
  id: string;
  name: string;
  outcome: HandlerOutcome | 'interrupted';
  error: StoredError | null;
  items: { id: string; name: string; status: ItemStatus }[];
}

/** A past session, as `manager.sessions()` lists it. */
export interface SessionSummary {
  id: string;
  trigger: Trigger;
  outcome: SessionSummaryOutcome;
  startedAt: number;
  endedAt: number;
  handlers: HandlerSummary[];
  /** Connections the session opened, with the close code seen (WebSocket). */
  connections: { name: string; kind: ConnectionKind; closeCode: number | null }[];
}

/**
 * Written when a session starts, updated as items are selected and change
 * status, deleted when it ends. Found at start-up, it is a session that never
 * ended: the page closed or crashed.
 */
export interface SessionJournal {
  sessionId: string;
  trigger: Trigger;
  startedAt: number;
  updatedAt: number;
  /** A Web Lock the running session holds; held means the session is alive (in another tab). */
  lock: string | null;
  /** Per handler, its selected items and their latest status. */
  handlers: [handlerId: string, items: [itemId: string, status: ItemStatus][]][];
}

export const KEYS = {
  meta: 'manager/meta',
  journal: 'manager/journal',
  managerPrefix: 'manager/',
  choicesPrefix: 'manager/choices/',
  itemsPrefix: 'manager/items/',
  logPrefix: 'manager/log/',
  sessionPrefix: 'manager/session/',
  choices: (handlerId: string) => `manager/choices/${handlerId}`,
  items: (handlerId: string) => `manager/items/${handlerId}`,
  log: (seq: number) => `manager/log/${pad(seq)}`,
  session: (seq: number) => `manager/session/${pad(seq)}`,
  /** The prefix of every handler's `ctx.store` keys. */
  handlersPrefix: 'handler/',
  /** The prefix of a handler's `ctx.store` keys. */
  handler: (handlerId: string) => `handler/${handlerId}/`,
} as const;

function pad(seq: number): string {
  return String(seq).padStart(12, '0');
}

/** The sequence number at the end of a `log/` or `session/` key; `null` if it has none. */
export function seqOf(key: string, prefix: string): number | null {
  const tail = key.slice(prefix.length);
  return /^\d{12}$/.test(tail) ? Number(tail) : null;
}

export function toStoredError(error: unknown): StoredError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, code: isSyncErrorCode(code) ? code : null, message: error.message };
  }
  return { name: 'Error', code: null, message: String(error) };
}

// TYPE GUARDS

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTimeOrNull = (v: unknown) => v === null || isTime(v);
const isStatus = (v: unknown): v is ItemStatus => isOneOf(ITEM_STATUSES, v);

export function isStoredError(value: unknown): value is StoredError {
  return isObject(value) && typeof value.name === 'string' && typeof value.message === 'string' && (value.code === null || isSyncErrorCode(value.code));
}

export function isChoices(value: unknown): value is [string, boolean][] {
  return Array.isArray(value) && value.every((c) => Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && typeof c[1] === 'boolean');
}

export function isItemRecord(value: unknown): value is ItemRecord {
  return isObject(value) && typeof value.handlerId === 'string' && typeof value.id === 'string' && typeof value.name === 'string'
    && typeof value.checked === 'boolean' && (value.status === null || isStatus(value.status))
    && isTimeOrNull(value.lastSync) && isTimeOrNull(value.lastSuccess) && (value.lastError === null || isStoredError(value.lastError));
}

export function isLogEntry(value: unknown): value is LogEntry {
  return isObject(value) && typeof value.errorId === 'string' && isOneOf(LOG_LEVELS, value.level)
    && typeof value.text === 'string' && (value.handlerId === null || typeof value.handlerId === 'string')
    && (value.itemId === null || typeof value.itemId === 'string') && typeof value.actionable === 'boolean'
    && isTime(value.time) && (value.sessionId === null || typeof value.sessionId === 'string')
    && (value.code === undefined || value.code === null || isSyncErrorCode(value.code));
}

export function isSessionSummary(value: unknown): value is SessionSummary {
  return isObject(value) && typeof value.id === 'string' && isOneOf(TRIGGERS, value.trigger) && typeof value.outcome === 'string'
    && isTime(value.startedAt) && isTime(value.endedAt) && Array.isArray(value.handlers) && Array.isArray(value.connections);
}

export function isSessionJournal(value: unknown): value is SessionJournal {
  return isObject(value) && typeof value.sessionId === 'string' && isOneOf(TRIGGERS, value.trigger)
    && isTime(value.startedAt) && isTime(value.updatedAt) && (value.lock === null || typeof value.lock === 'string')
    && Array.isArray(value.handlers)
    && value.handlers.every((h) => Array.isArray(h) && typeof h[0] === 'string' && Array.isArray(h[1])
      && (h[1] as unknown[]).every((i) => Array.isArray(i) && typeof i[0] === 'string' && isStatus(i[1])));
}
