/**
 * The log entries the manager writes about a handler's failure (it failed,
 * crashed or timed out, or could not establish a connection), unless the
 * handler logged that error itself; and when they go: a failure entry about
 * an item when a later session succeeds for that item, one about the whole
 * handler (and a connection entry) when a later session of the handler
 * succeeds. Their errorIds are fixed per handler and item, so a failure that
 * repeats replaces its entry instead of piling up; a handler's own errorIds
 * may not start with {@link RESERVED_ERROR_ID_PREFIX}.
 */
import { MAX_LOG_TEXT_LENGTH } from '../protocol/types.ts';
import type { LogEntry } from './log-book.ts';
import { toStoredError, type HandlerOutcome, type SessionSummary } from './records.ts';

/** ErrorIds starting with this are the manager's. */
export const RESERVED_ERROR_ID_PREFIX = 'syncmgr:';
/** The failure of a whole handler; `…:item:<itemId>` that of one item. */
export const FAILURE_ERROR_ID = 'syncmgr:failure';
const ITEM_FAILURE_PREFIX = 'syncmgr:failure:item:';
/** A handler's automatic retry, waiting for its time (an information entry, not actionable). */
export const RETRY_ERROR_ID = 'syncmgr:retry';
const CONNECT_PREFIX = 'syncmgr:connect:';

const VERBS: Partial<Record<HandlerOutcome, string>> = { failed: 'failed', crashed: 'crashed', 'timed-out': 'timed out' };

export interface FailureContext {
  handlerId: string;
  handlerName: string;
  sessionId: string;
}

/** `true` for the outcomes that get a failure entry. */
export function isFailure(outcome: HandlerOutcome): boolean {
  return outcome in VERBS;
}

/** A handler's failure; `item`: the item it was working on, when exactly one was. */
export function failureEntry(at: FailureContext, outcome: HandlerOutcome, phase: string, error: Error, item: { id: string; name: string } | null): LogEntry {
  const { code, message } = toStoredError(error);
  const on = item ? ` on '${item.name}'` : '';
  return entry(at, item ? ITEM_FAILURE_PREFIX + item.id : FAILURE_ERROR_ID, item?.id ?? null, code, `${at.handlerName} ${VERBS[outcome] ?? outcome}${on} while ${phase}: ${message}`);
}

/** A handler's `establishConnection(name)` failed (`name` `null`: the default endpoint). */
export function connectFailureEntry(at: FailureContext, endpoint: string, error: Error): LogEntry {
  const { code, message } = toStoredError(error);
  return entry(at, CONNECT_PREFIX + endpoint, null, code, `${at.handlerName} could not connect to '${endpoint}': ${message}`);
}

/**
 * The manager will retry a handler by itself: `attempt` is the retry's (2 for
 * the first retry), `retries` how many there are at most, `delay` the wait in
 * ms, `retryAfter` whether the failure asked for that wait.
 */
export function retryEntry(at: FailureContext, attempt: number, retries: number, delay: number, retryAfter: boolean): LogEntry {
  const why = retryAfter ? ', as its failure asked (Retry-After)' : '';
  const text = `${at.handlerName}: automatic retry ${attempt - 1} of ${retries} in ${formatSeconds(delay)}${why}.`;
  return {
    errorId: RETRY_ERROR_ID, level: 'information', text: text.slice(0, MAX_LOG_TEXT_LENGTH), handlerId: at.handlerId, itemId: null,
    actionable: false, time: Date.now(), sessionId: at.sessionId,
  };
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`;
}

/** Which of a handler's entries the session `summary` tells of resolves: failure entries of earlier sessions that it succeeded past. */
export function resolvedFailures(handler: SessionSummary['handlers'][number], sessionId: string): (entry: LogEntry) => boolean {
  const succeeded = new Set(handler.items.filter((i) => i.status === 'succeeded').map((i) => ITEM_FAILURE_PREFIX + i.id));
  const whole = handler.outcome === 'succeeded';
  return ({ errorId, sessionId: from }) => from !== sessionId
    && (succeeded.has(errorId) || (whole && (errorId === FAILURE_ERROR_ID || errorId.startsWith(CONNECT_PREFIX))));
}

function entry(at: FailureContext, errorId: string, itemId: string | null, code: LogEntry['code'], text: string): LogEntry {
  return {
    errorId, level: 'error', text: text.slice(0, MAX_LOG_TEXT_LENGTH), handlerId: at.handlerId, itemId,
    actionable: true, time: Date.now(), sessionId: at.sessionId, code,
  };
}
