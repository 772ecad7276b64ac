/**
 * The items of one handler in one session: its selection, the user's skips
 * (also those asked for before the handler listed its items), the handler's
 * progress reports and the answers they get, and how the items end with the
 * handler. Every change is dispatched (`progress`, `itemstatus`) and every
 * status change recorded in the state's journal.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { isTerminal, type ItemInfo, type ItemStatus, type ProgressAnswer } from '../protocol/types.ts';
import { ItemEvent } from './events.ts';
import { parseProgressUpdate } from './handler-input.ts';
import { applyProgress, newItemState, snapshot, type ItemState } from './item-state.ts';
import type { ItemSnapshot } from './result.ts';
import type { SessionServices } from './session-services.ts';

export class HandlerItems {
  readonly #sessionId: string;
  readonly #handlerId: string;
  readonly #services: SessionServices;
  readonly #items = new Map<string, ItemState>();
  /** Skips asked for before the selection. */
  readonly #pendingSkips = new Set<string>();
  #selected = false;
  #cancelled = false;

  constructor(sessionId: string, handlerId: string, services: SessionServices) {
    this.#sessionId = sessionId;
    this.#handlerId = handlerId;
    this.#services = services;
  }

  /** The handler was told to cancel everything: every progress answer is `cancel-all`. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The selection (ids of `listed`, in the handler's order), made once; answers the ids left to sync once the skips asked for meanwhile apply. */
  select(listed: readonly ItemInfo[], selected: readonly string[]): string[] {
    const names = new Map(listed.map((item) => [item.id, item.name]));
    for (const itemId of selected) this.#items.set(itemId, newItemState(itemId, names.get(itemId)!));
    this.#selected = true;
    for (const itemId of this.#pendingSkips) this.skip(itemId);
    return [...this.#items.values()].filter((item) => !isTerminal(item.status)).map((item) => item.id);
  }

  /**
   * SyncMgr's SetItemStatus(SKIPPED): the item is `skipped` at once and its
   * next progress answer is `cancel-item`. Before the selection, remembered
   * for it. `false` when the item is not selected or already finished.
   */
  skip(itemId: string): boolean {
    if (!this.#selected) {
      this.#pendingSkips.add(itemId);
      return true;
    }
    const item = this.#items.get(itemId);
    if (!item || isTerminal(item.status)) return false;
    item.cancelRequested = true;
    this.#set(item, { ...item, status: 'skipped' });
    return true;
  }

  /** Every item is to stop: progress answers `cancel-all` from now on. */
  cancelAll(): void {
    this.#cancelled = true;
    for (const item of this.#items.values()) item.cancelRequested = true;
  }

  /** A handler's `progress(itemId, update)`: applies it and answers whether to go on. Throws `E_INVALIDARG` for an item not selected or a bad update. */
  progress(itemId: unknown, update: unknown): ProgressAnswer {
    const item = typeof itemId === 'string' ? this.#items.get(itemId) : undefined;
    if (!item) {
      throw new SyncError('E_INVALIDARG', `Handler '${this.#handlerId}' reported progress for item ${JSON.stringify(itemId)}, which is not selected in this session; selected: ${[...this.#items.keys()].join(', ') || 'none'}.`);
    }
    const parsed = parseProgressUpdate(update, `Handler '${this.#handlerId}': progress('${item.id}')`);
    const { next, statusRefused } = applyProgress(item, parsed);
    if (!statusRefused) this.#set(item, next);
    return this.#cancelled ? 'cancel-all' : item.cancelRequested || statusRefused ? 'cancel-item' : 'continue';
  }

  /** The handler finished: its items not in a terminal status take `status` (`null`: they stay as they are). */
  settle(status: ItemStatus | null): void {
    if (!status) return;
    for (const item of this.#items.values()) {
      if (!isTerminal(item.status)) this.#set(item, { ...item, status });
    }
  }

  /** The item the handler is working on now: the one it reports as updating, else the only unfinished one; `null` when that is not one item. */
  current(): { id: string; name: string } | null {
    const open = [...this.#items.values()].filter((item) => !isTerminal(item.status));
    const updating = open.filter((item) => item.status === 'updating' || item.status === 'updating-indeterminate');
    const [one] = updating.length === 1 ? updating : open.length === 1 ? open : [];
    return one ? { id: one.id, name: one.name } : null;
  }

  snapshots(): ItemSnapshot[] {
    return [...this.#items.values()].map(snapshot);
  }

  #set(item: ItemState, next: ItemState): void {
    const previous = item.status;
    Object.assign(item, next);
    const snap = snapshot(item);
    const { events, state } = this.#services;
    events.dispatchEvent(new ItemEvent('progress', this.#sessionId, this.#handlerId, snap, previous));
    if (previous === item.status) return;
    state.itemStatus(this.#handlerId, item.id, item.status);
    events.dispatchEvent(new ItemEvent('itemstatus', this.#sessionId, this.#handlerId, snap, previous));
  }
}
