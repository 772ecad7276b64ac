/**
 * The contract between the manager's state (`manager-state.ts`) and the
 * manager that owns it: what the state needs from it (configuration, Web
 * Locks, an IndexedDB store factory) and what it tells it (loaded, changes,
 * a fallback to memory). Kept apart so that the state's parts can name it
 * without importing the façade; `manager-state.ts` re-exports it.
 */
import type { SyncError } from '../protocol/errors.ts';
import type { StateStore } from '../storage/state-store.ts';
import type { LogEntry } from './log-book.ts';

/** What backs the state now: `custom` is an app's own store. */
export type StorageKind = 'indexeddb' | 'memory' | 'custom';

/** Web Locks, as far as the journal needs them (absent: no lock, every journal found is from a dead session). */
export interface SessionLocks {
  /** Takes lock `name`; resolves once held, with the function that releases it. */
  hold(name: string): Promise<() => void>;
  /** Names of the locks held now, by any tab or worker of the origin. */
  held(): Promise<string[]>;
}

/** What the state needs from its manager. */
export interface StateHost {
  readonly name: string;
  readonly storage: 'indexeddb' | 'memory' | StateStore;
  /** Milliseconds a store call may take before the store counts as failed. */
  readonly timeout: number;
  /** Batching interval (ms); default `STATE_FLUSH_INTERVAL`. */
  readonly flushInterval?: number;
  readonly locks: SessionLocks | null;
  /** Builds the IndexedDB store (kept out of this module, which runs without DOM types). */
  createIndexedDb(name: string): StateStore;
  handlerName(handlerId: string): string;
  loaded(): void;
  itemsChanged(handlerId: string): void;
  sessionsChanged(): void;
  logChanged(action: 'add' | 'delete', entries: readonly LogEntry[]): void;
  fellBack(error: SyncError): void;
}
