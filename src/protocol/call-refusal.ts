/**
 * The refusal of a context call made outside the phase that allows it. The
 * manager refuses calls by phase; the handler runtime refuses, at once, those
 * made after `synchronize()` returned: both word it alike.
 */
import { SyncError } from './sync-error.ts';

/**
 * `call` as the handler wrote it (`progress`, `store.get`), `subject` what it
 * was about (`endpoint 'api'`; `''`: nothing), `now` when it came (`after its
 * work ended`, `while it is starting`), `when` where it is allowed (`inside synchronize()`).
 */
export function callRefused(handlerId: string, call: string, subject: string, now: string, when: string): SyncError {
  const what = subject ? ` for ${subject}` : '';
  return new SyncError('E_UNEXPECTED', `Handler '${handlerId}' called ${call}()${what} ${now}; call it only ${when}, before that call returns.`);
}
