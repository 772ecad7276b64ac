/**
 * What sessions use of their manager, wired once by the manager (manager.ts)
 * and handed to every session, which hands it to its handlers' slots.
 */
import type { ManagerState } from '../state/manager-state.ts';
import type { ResolvedOptions } from './options.ts';

export interface SessionServices {
  readonly options: ResolvedOptions;
  /**
   * The manager's state, the single writer: a session begins and ends its
   * journal there, and its handlers' selections, item statuses, log entries
   * and `ctx.store` calls go there.
   */
  readonly state: Pick<ManagerState, 'beginSession' | 'endSession' | 'select' | 'itemStatus' | 'addLog' | 'deleteLog' | 'handlerStores'>;
  /** Where sessions, handlers, items and connections dispatch their events: the manager. */
  readonly events: EventTarget;
}
