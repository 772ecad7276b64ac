/**
 * The per-handler state machine of a session (DESIGN.md §3), as pure data:
 * which phase may follow which, and which handler calls each phase allows.
 * (How a handler's part ends, its outcome, is recorded with the history:
 * `HandlerOutcome` in state/records.ts.)
 */
import { SyncError } from '../protocol/sync-error.ts';
import { callRefused } from '../protocol/call-refusal.ts';

/** Where a handler is in its session. */
export type HandlerPhase = 'starting' | 'initializing' | 'enumerating' | 'preparing' | 'synchronizing' | 'finished';

/** Calls a handler makes through its context. */
export type HandlerCall =
  | 'establishConnection' | 'openSocket' | 'progress' | 'logError' | 'deleteLogError'
  | 'store.get' | 'store.set' | 'store.delete' | 'store.keys' | 'store.entries';

const NEXT: Record<HandlerPhase, readonly HandlerPhase[]> = {
  starting: ['initializing', 'finished'],
  initializing: ['enumerating', 'finished'],
  enumerating: ['preparing', 'finished'],
  preparing: ['synchronizing', 'finished'],
  synchronizing: ['finished'],
  finished: [],
};

const ALLOWED: Record<HandlerCall, readonly HandlerPhase[]> = {
  establishConnection: ['synchronizing'],
  openSocket: ['synchronizing'],
  progress: ['preparing', 'synchronizing'],
  logError: ['preparing', 'synchronizing'],
  deleteLogError: ['preparing', 'synchronizing'],
  'store.get': ['preparing', 'synchronizing'],
  'store.set': ['preparing', 'synchronizing'],
  'store.delete': ['preparing', 'synchronizing'],
  'store.keys': ['preparing', 'synchronizing'],
  'store.entries': ['preparing', 'synchronizing'],
};

/** `true` when `to` may follow `from`. */
export function canAdvance(from: HandlerPhase, to: HandlerPhase): boolean {
  return NEXT[from].includes(to);
}

/** The phase after `from`, or a thrown `E_UNEXPECTED` for an illegal step (a bug in the manager). */
export function advance(from: HandlerPhase, to: HandlerPhase): HandlerPhase {
  if (!canAdvance(from, to)) throw new SyncError('E_UNEXPECTED', `A handler cannot go from '${from}' to '${to}'.`);
  return to;
}

/**
 * Checks that `call` is allowed in `phase`; the error names the call, the
 * handler, what it was about (`subject`, e.g. the endpoint) and when the call is allowed.
 */
export function checkCall(call: HandlerCall, phase: HandlerPhase, handlerId: string, subject?: string): void {
  const allowed = ALLOWED[call];
  if (allowed.includes(phase)) return;
  const when = allowed.length === 1 ? `inside synchronize()` : `inside prepare() or synchronize()`;
  const now = phase === 'finished' ? 'after its work ended' : `while it is ${phase}`;
  throw callRefused(handlerId, call, subject ?? '', now, when);
}
