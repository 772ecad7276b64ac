/**
 * The coordinator API one handler's worker calls during a session (SyncMgr's
 * ISyncMgrSynchronizeCallback): every call is checked against the handler's
 * phase and its arguments against their rules, and answers an `Outcome`, so
 * nothing a worker sends can throw into the manager.
 */
import * as Comlink from 'comlink';
import { fail, ok, type Outcome } from '../protocol/wire.ts';
import type { CoordinatorApi } from '../protocol/worker-api.ts';
import { checkCall, type HandlerCall, type HandlerPhase } from './handler-phase.ts';
import { parseErrorId, parseLogEntry } from './handler-input.ts';
import type { HandlerItems } from './handler-items.ts';
import type { LogEntry } from '../state/log-book.ts';
import type { ResolvedHandler } from './options.ts';
import type { RunningSession } from './session-services.ts';

/** What the calls need of the handler's slot. */
export interface CallTarget {
  readonly handler: ResolvedHandler;
  readonly phase: HandlerPhase;
  readonly items: HandlerItems;
  readonly session: RunningSession;
  /** The handler logged an entry (the manager then writes none about the same error). */
  logged(entry: LogEntry): void;
  /** The handler's `establishConnection(name)` failed. */
  connectFailed(name: unknown, error: unknown): void;
}

/** The API exposed (with Comlink) to the handler's worker for this session. */
export function coordinatorApi(slot: CallTarget): CoordinatorApi<MessagePort> {
  const { handler, session } = slot;
  const id = handler.id;
  const { pool } = session;
  const { state } = session.services;
  const call = async <T>(name: HandlerCall, run: () => T | Promise<T>, subject?: string): Promise<Outcome<T>> => {
    try {
      checkCall(name, slot.phase, id, subject);
      return ok(await run());
    } catch (error) {
      return fail(error);
    }
  };
  return {
    establishConnection: (name, kind) => call('establishConnection', async () => {
      const grant = await pool.establish(id, handler.endpoints, name, kind).catch((error: unknown) => {
        slot.connectFailed(name, error);
        throw error;
      });
      if (slot.phase === 'finished') {
        // It finished while the connection came up: nothing is handed to a finished handler.
        grant.port.close();
        pool.handlerFinished(id);
        checkCall('establishConnection', slot.phase, id, pool.describe(name));
      }
      return grant;
    }, pool.describe(name)).then((outcome) => (outcome.ok ? Comlink.transfer(outcome, [outcome.value.port]) : outcome)),
    openSocket: (name, target, protocols) => call('openSocket', () => pool.openSocket(id, handler.endpoints, name, target, protocols), pool.describe(name))
      .then((outcome) => (outcome.ok ? Comlink.transfer(outcome, [outcome.value.port]) : outcome)),
    progress: (itemId, update) => call('progress', () => slot.items.progress(itemId, update)),
    logError: (level, text, options) => call('logError', () => {
      const entry = parseLogEntry(level, text, options, id, session.id);
      state.addLog(entry);
      slot.logged(entry);
      return entry.errorId;
    }),
    deleteLogError: (errorId) => call('deleteLogError', () => state.deleteLog(id, parseErrorId(errorId, id))),
    // ctx.store: the handler names a key; the state puts it under the handler's own prefix.
    storeGet: (key) => call('store.get', () => state.handlerStores.get(id, key)),
    storeSet: (key, value) => call('store.set', () => state.handlerStores.set(id, key, value)),
    storeDelete: (key) => call('store.delete', () => state.handlerStores.delete(id, key)),
    storeKeys: (prefix) => call('store.keys', () => state.handlerStores.keys(id, prefix)),
    storeEntries: (prefix) => call('store.entries', () => state.handlerStores.entries(id, prefix)),
  };
}
