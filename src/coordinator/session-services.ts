/**
 * The two things a session's parts are given: what sessions use of their
 * manager ({@link SessionServices}, wired once by the manager), and what a
 * handler's slot and its worker's calls use of the session that runs them
 * ({@link RunningSession}).
 */
import type { Trigger } from '../protocol/types.ts';
import type { ConnectionPool } from '../connections/pool.ts';
import type { ManagerState } from '../state/manager-state.ts';
import type { ResolvedOptions } from './options.ts';
import type { ItemSelection } from './session-request.ts';

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

/** What a slot uses of the session that runs it. */
export interface RunningSession {
  readonly id: string;
  readonly trigger: Trigger;
  readonly cookie: unknown;
  readonly mayBotherUser: boolean;
  readonly attempt: number;
  readonly lastChance: boolean;
  /** Which items each handler syncs; a handler absent here syncs the user's choices. */
  readonly items: ReadonlyMap<string, ItemSelection>;
  readonly pool: ConnectionPool;
  /**
   * Settles when the manager has loaded its state and begun the session's
   * journal; a handler's items are selected only after that. A rejection fails the handler.
   */
  readonly begun: Promise<unknown>;
  readonly services: SessionServices;
}
