/**
 * The vocabulary the sync manager (main thread) and the handler runtime
 * (worker) share: every union is declared once, as a list, with its type
 * derived from it. Neither DOM nor worker globals.
 */

/** `true` when `value` is one of `list` (a type guard for the unions below). */
export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

/** What can start a session (SyncMgr's SYNCMGRFLAG events). */
export const TRIGGERS = ['manual', 'invoke', 'online', 'hidden', 'idle', 'interval', 'startup'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** SyncMgr's item statuses plus Sync Center's `cancelled` and `disconnected`. */
export const ITEM_STATUSES = [
  'pending', 'updating', 'updating-indeterminate', 'succeeded', 'failed', 'skipped',
  'stopped', 'paused', 'resuming', 'cancelled', 'disconnected',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** Statuses that end an item; afterwards it may only change to `failed`. */
export const TERMINAL_STATUSES: readonly ItemStatus[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

export function isTerminal(status: ItemStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The answer of `progress()`: go on, stop this item, or stop all of this handler's items. */
export type ProgressAnswer = 'continue' | 'cancel-item' | 'cancel-all';

/** One call of `ctx.progress(itemId, update)`; every field is optional. */
export interface ProgressUpdate {
  status?: ItemStatus;
  text?: string;
  value?: number;
  max?: number;
}

/** Log levels of SyncMgr's error tab. */
export const LOG_LEVELS = ['information', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of `ctx.logError()`. */
export interface LogOptions {
  /** The item the entry is about. */
  itemId?: string;
  /** An id of the handler's choosing, to delete the entry later; generated when absent. */
  errorId?: string;
  /** The user can act on it (SyncMgr's ENABLEJUMPTEXT): the UI offers to open it. */
  actionable?: boolean;
}

/** An item as a handler lists it. */
export interface ItemInfo {
  /** Stable id; the user's choice is stored against it. At most 256 characters. */
  id: string;
  /** Display name, at most 128 characters. */
  name: string;
  /** Included when the user has not chosen (default `true`). */
  checked?: boolean;
  /** When the item last synced, in epoch milliseconds, if the handler knows. */
  lastUpdate?: number;
}

/** What `initialize()` learns about the session. */
export interface InitializeInfo {
  sessionId: string;
  handlerId: string;
  trigger: Trigger;
  /** Opaque data passed by the app to `synchronize({ cookie })`. */
  cookie: unknown;
  /** The user started this session and is watching: UI is welcome (SyncMgr's MAYBOTHERUSER). */
  mayBotherUser: boolean;
  /** 1, or n + 1 for the manager's automatic retry of a session that failed at attempt n. */
  attempt: number;
  /** Should this session fail, the manager will not retry it automatically (Background Sync's `lastChance`): retry is off, the session is `manual`, or this is the last attempt. */
  lastChance: boolean;
}

/** What a handler's `showError()` learns about the log entry the user opened. */
export interface ShowErrorInfo {
  handlerId: string;
  errorId: string;
  level: LogLevel;
  text: string;
  itemId: string | null;
  /** The error's code, on the manager's own entries about a failure; else `null`. */
  code: string | null;
}

/** What a handler's `showError()` may answer: the items to sync again (SyncMgr's RETRYSYNC). */
export interface ShowErrorAnswer {
  retry: string[];
}

/** Kinds of connection an endpoint offers. */
export const CONNECTION_KINDS = ['websocket', 'fetch'] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

/**
 * States of a connection: `connecting` (first attempt), `open`, `reconnecting`
 * (dropped; the session still needs it, so it is being re-established),
 * `failed` (gave up) and `closed` (the session ended).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed';

/** WebSocket-like ready states of a channel. */
export type ChannelReadyState = 0 | 1 | 2 | 3;

/** Limits shared by both sides. */
export const MAX_ITEM_ID_LENGTH = 256;
export const MAX_ITEM_NAME_LENGTH = 128;
/** `items()` lists at most this many items. */
export const MAX_ITEMS = 10_000;
export const MAX_LOG_TEXT_LENGTH = 4096;
export const MAX_ENDPOINT_NAME_LENGTH = 128;
/** `ctx.store`: a key is a string of 1 to this many characters. */
export const MAX_STORE_KEY_LENGTH = 1024;
/** `ctx.store`: a value takes at most this many bytes (estimated: two per string character, binary data at its length). */
export const MAX_STORE_VALUE_BYTES = 1 << 20;
/** `ctx.store`: a handler keeps at most this many keys. */
export const MAX_STORE_KEYS = 10_000;
