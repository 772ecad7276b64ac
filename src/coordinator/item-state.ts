/**
 * Item bookkeeping as pure functions: an item's state during a session, and
 * applying a progress update under Sync Center's rule that a finished item
 * changes only to `failed`.
 */
import { isTerminal, type ItemStatus, type ProgressUpdate } from '../protocol/types.ts';
import type { ItemSnapshot } from './result.ts';

/** What the manager knows about one item during a session: what it reports, and whether it was told to stop. */
export interface ItemState extends ItemSnapshot {
  /** The user skipped it, or the handler was told to cancel it. */
  cancelRequested: boolean;
}

/** `true` when an item in `from` may move to `to`: a terminal status moves only to `failed`. */
export function canChangeStatus(from: ItemStatus, to: ItemStatus): boolean {
  if (from === to) return true;
  return !isTerminal(from) || to === 'failed';
}

export function newItemState(id: string, name: string): ItemState {
  return { id, name, status: 'pending', text: '', value: 0, max: 0, cancelRequested: false };
}

/** What an item reports: its state without the manager's own flags. */
export function snapshot(item: ItemState): ItemSnapshot {
  return { id: item.id, name: item.name, status: item.status, text: item.text, value: item.value, max: item.max };
}

/**
 * Applies an update. A status a finished item may not take is ignored (the
 * item keeps its status), so a handler racing a user's skip never undoes it.
 */
export function applyProgress(item: ItemState, update: ProgressUpdate): { next: ItemState; statusChanged: boolean; statusRefused: boolean } {
  const next = { ...item };
  let statusChanged = false;
  let statusRefused = false;
  if (update.status !== undefined && update.status !== item.status) {
    if (canChangeStatus(item.status, update.status)) {
      next.status = update.status;
      statusChanged = true;
    } else {
      statusRefused = true;
    }
  }
  if (!statusRefused) {
    if (update.text !== undefined) next.text = update.text;
    if (update.max !== undefined) next.max = update.max;
    if (update.value !== undefined) next.value = update.value;
  }
  return { next, statusChanged, statusRefused };
}
