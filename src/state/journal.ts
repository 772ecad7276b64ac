/**
 * The journal of the running session: written when the session starts,
 * updated as handlers select items and items change status, deleted when the
 * session ends. A journal found at load is a session that never ended (see
 * `loader.ts`), unless the Web Lock it names is still held: then the
 * session runs in another tab.
 *
 * In memory the journal holds maps; the stored {@link SessionJournal} holds
 * pairs. Status changes come often, so the record is built once per batched
 * write, not once per change.
 */
import { sessionLockName, type Locks } from '../protocol/locks.ts';
import type { ItemStatus, Trigger } from '../protocol/types.ts';
import { KEYS, type SessionJournal } from './records.ts';
import type { BackingStore } from './backing-store.ts';

/** The journal in memory: maps instead of the stored pairs. */
export interface LiveJournal extends Omit<SessionJournal, 'handlers'> {
  handlers: Map<string, Map<string, ItemStatus>>;
}

/** The stored form of a journal. */
export function journalRecord(j: LiveJournal): SessionJournal {
  return { sessionId: j.sessionId, trigger: j.trigger, startedAt: j.startedAt, updatedAt: j.updatedAt, lock: j.lock, handlers: [...j.handlers].map(([h, items]) => [h, [...items]]) };
}

/** A stored journal (checked by `isSessionJournal`) back in memory. */
export function liveJournal(record: SessionJournal): LiveJournal {
  return { ...record, handlers: new Map(record.handlers.map(([h, items]) => [h, new Map(items)])) };
}

/** The journal of the session running now, if any, and its writes (queued with the state's other changes). */
export class RunningJournal {
  readonly #manager: string;
  readonly #locks: Locks | null;
  readonly #storage: Pick<BackingStore, 'writable' | 'put' | 'putLazy'>;
  #journal: LiveJournal | null = null;

  /** `manager`: the manager's name, which names the session's lock. */
  constructor(manager: string, locks: Locks | null, storage: Pick<BackingStore, 'writable' | 'put' | 'putLazy'>) {
    this.#manager = manager;
    this.#locks = locks;
    this.#storage = storage;
  }

  /**
   * Starts the journal of a session and queues its write. Holds the
   * session's Web Lock first (when there are Web Locks) and resolves with the
   * function that releases it.
   */
  async begin(sessionId: string, trigger: Trigger): Promise<() => void> {
    let lock: string | null = null;
    let release = () => {};
    if (this.#locks) {
      try {
        const name = sessionLockName(this.#manager, sessionId);
        release = await this.#locks.hold(name);
        lock = name;
      } catch {
        // No lock: a tab that loads meanwhile may take this session for an interrupted one; nothing worse.
      }
    }
    const now = Date.now();
    this.#journal = { sessionId, trigger, startedAt: now, updatedAt: now, lock, handlers: new Map() };
    this.write();
    return release;
  }

  /** A handler's selection: its items, all `pending`. Ignored when no session runs. */
  select(handlerId: string, selected: readonly string[]): void {
    if (!this.#journal) return;
    this.#journal.handlers.set(handlerId, new Map(selected.map((id) => [id, 'pending'])));
    this.write();
  }

  /** An item's status changed; ignored for an item the running session did not select. */
  itemStatus(handlerId: string, itemId: string, status: ItemStatus): void {
    const items = this.#journal?.handlers.get(handlerId);
    if (!items?.has(itemId)) return;
    items.set(itemId, status);
    this.write();
  }

  /** Session `sessionId` ended: its journal is deleted (another session's is kept). */
  end(sessionId: string): void {
    if (this.#journal?.sessionId !== sessionId) return;
    this.#journal = null;
    this.write();
  }

  /** The record as it should be stored now; `null` when no session runs. */
  record(): SessionJournal | null {
    return this.#journal && journalRecord(this.#journal);
  }

  /** Queues the journal as it is now: deleted when no session runs (so also the stored journal of an interrupted one). */
  write(): void {
    const j = this.#journal;
    if (!this.#storage.writable) return;
    if (!j) return this.#storage.put(KEYS.journal, undefined);
    j.updatedAt = Date.now();
    this.#storage.putLazy(KEYS.journal, () => journalRecord(j));
  }
}
