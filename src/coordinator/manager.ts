/**
 * The sync manager: registers handlers and endpoints, runs sessions one at a
 * time, keeps the user's item choices, the items' last state and the log, and
 * reports everything as events.
 */
import { SyncError } from '../protocol/errors.ts';
import type { ItemInfo, ItemStatus } from '../protocol/types.ts';
import { typedEventTarget } from '../internal/typed-event-target.ts';
import { resolveOptions, type ResolvedOptions, type SyncManagerOptions } from './options.ts';
import { LogBook, type LogEntry } from './log-book.ts';
import { LogEvent, type SyncManagerEventMap } from './events.ts';
import { SyncSession, type SynchronizeOptions } from './session.ts';
import type { SessionResult } from './result.ts';

/** A handler as the manager presents it. */
export interface HandlerInfo {
  id: string;
  name: string;
  /** Endpoints it may establish; `null`: all. */
  endpoints: string[] | null;
}

/** What the manager knows about an item of a handler. */
export interface ItemRecord {
  handlerId: string;
  id: string;
  name: string;
  /** Included in sessions: the user's choice, else the handler's default. */
  checked: boolean;
  /** Status at the end of the last session that included it; `null` if none did. */
  status: ItemStatus | null;
  /** End of the last session in which it succeeded (epoch ms). */
  lastSuccess: number | null;
}

export class SyncManager extends typedEventTarget<SyncManagerEventMap>() {
  readonly name: string;
  readonly #options: ResolvedOptions;
  readonly #log = new LogBook();
  /** User choices per handler and item; kept for items a handler does not list now (SyncMgr's MISSINGITEMS rule). */
  readonly #choices = new Map<string, Map<string, boolean>>();
  readonly #items = new Map<string, Map<string, ItemRecord>>();
  readonly #sessions = new Set<SyncSession>();
  #tail: Promise<void> = Promise.resolve();
  #active: SyncSession | null = null;
  #closing: Promise<void> | null = null;

  /** Throws a `SyncError` (`E_INVALIDARG`) naming the option to fix. */
  constructor(options: SyncManagerOptions) {
    super();
    this.#options = resolveOptions(options);
    this.name = this.#options.name;
  }

  /**
   * Starts a session, or queues it behind the one running. Returns at once;
   * `session.done` resolves with the result.
   */
  synchronize(options?: SynchronizeOptions): SyncSession {
    if (this.#closing) throw new SyncError('E_UNEXPECTED', `SyncManager '${this.name}' is closed; create a new one to synchronize.`);
    const session = new SyncSession(this.#options.handlers, SyncSession.validate(options, this.#options.handlers));
    this.#sessions.add(session);
    this.#tail = this.#tail.then(() => this.#run(session));
    return session;
  }

  /** Runs one session; a failure here must not stall the queue behind it. */
  async #run(session: SyncSession): Promise<void> {
    this.#active = session;
    try {
      await session.run({
        options: this.#options,
        emit: (event) => this.dispatchEvent(event),
        select: (handlerId, items, only) => this.#select(handlerId, items, only),
        addLog: (entry) => this.#addLog(entry),
        deleteLog: (handlerId, errorId) => this.#deleteLog(handlerId, errorId),
      });
      this.#remember(await session.done);
    } catch (error) {
      reportError(error);
    } finally {
      this.#active = null;
      this.#sessions.delete(session);
    }
  }

  /** The session running now, if any. */
  get activeSession(): SyncSession | null {
    return this.#active;
  }

  /** The registered handlers, in registration order. */
  handlers(): HandlerInfo[] {
    return [...this.#options.handlers.values()].map((h) => ({ id: h.id, name: h.name, endpoints: h.endpoints ? [...h.endpoints] : null }));
  }

  /** The items a handler listed in its last session, with the user's choice and their last state. */
  items(handlerId: string): ItemRecord[] {
    this.#checkHandler(handlerId, 'items');
    return [...(this.#items.get(handlerId)?.values() ?? [])].map((r) => ({ ...r }));
  }

  /** Stores the user's choice for an item; it decides whether later sessions include it. */
  setItemChecked(handlerId: string, itemId: string, checked: boolean): void {
    this.#checkHandler(handlerId, 'setItemChecked');
    if (typeof itemId !== 'string' || itemId.length === 0) throw new SyncError('E_INVALIDARG', 'setItemChecked(handlerId, itemId, checked): itemId must be a non-empty string.');
    if (typeof checked !== 'boolean') throw new SyncError('E_INVALIDARG', 'setItemChecked(handlerId, itemId, checked): checked must be a boolean.');
    let choices = this.#choices.get(handlerId);
    if (!choices) this.#choices.set(handlerId, (choices = new Map()));
    choices.set(itemId, checked);
    const record = this.#items.get(handlerId)?.get(itemId);
    if (record) record.checked = checked;
  }

  /** The log, oldest first. */
  log(): LogEntry[] {
    return this.#log.list();
  }

  /** Deletes every log entry. */
  clearLog(): void {
    const removed = this.#log.clear();
    if (removed.length) this.dispatchEvent(new LogEvent('delete', removed));
  }

  /**
   * Cancels running and queued sessions, waits for them to end (connections
   * closed, workers terminated); idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const sessions = [...this.#sessions];
      for (const session of sessions) session.cancel();
      await Promise.all(sessions.map((s) => s.done));
      await this.#tail;
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkHandler(handlerId: unknown, method: string): void {
    if (typeof handlerId !== 'string' || !this.#options.handlers.has(handlerId)) {
      throw new SyncError('E_INVALIDARG', `${method}(): handler ${JSON.stringify(handlerId)} is not registered; registered: ${[...this.#options.handlers.keys()].join(', ')}.`);
    }
  }

  #select(handlerId: string, items: ItemInfo[], only: readonly string[] | undefined): string[] {
    const choices = this.#choices.get(handlerId);
    const known = new Map<string, ItemRecord>();
    const previous = this.#items.get(handlerId);
    for (const item of items) {
      const checked = choices?.get(item.id) ?? item.checked ?? true;
      const old = previous?.get(item.id);
      known.set(item.id, { handlerId, id: item.id, name: item.name, checked, status: old?.status ?? null, lastSuccess: old?.lastSuccess ?? item.lastUpdate ?? null });
    }
    this.#items.set(handlerId, known);
    return items.filter((item) => (only ? only.includes(item.id) : known.get(item.id)!.checked)).map((item) => item.id);
  }

  #remember(result: SessionResult): void {
    for (const handler of result.handlers) {
      const records = this.#items.get(handler.id);
      for (const item of handler.items) {
        const record = records?.get(item.id);
        if (!record) continue;
        record.status = item.status;
        if (item.status === 'succeeded') record.lastSuccess = result.endedAt;
      }
    }
  }

  #addLog(entry: LogEntry): void {
    const replaced = this.#log.add(entry);
    if (replaced) this.dispatchEvent(new LogEvent('delete', [replaced]));
    this.dispatchEvent(new LogEvent('add', [entry]));
  }

  #deleteLog(handlerId: string, errorId?: string): number {
    const removed = this.#log.delete(handlerId, errorId);
    if (removed.length) this.dispatchEvent(new LogEvent('delete', removed));
    return removed.length;
  }
}
