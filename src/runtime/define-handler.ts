/**
 * `defineHandler()`: turns a worker module into a sync handler. It exposes the
 * handler to the manager over Comlink in the `handler` lane of the worker's
 * own port (and calls the manager in the `coordinator` lane), posts the ready
 * handshake at once, and holds a Web Lock for the worker's life (so the
 * manager notices if the worker dies), which it asks for a moment later, or
 * when initialize() is called; prepare() and synchronize() wait for it.
 */
import * as Comlink from 'comlink';
import { SyncError } from '../protocol/sync-error.ts';
import { fail, fromWire, ok } from '../protocol/wire.ts';
import { lifeLock } from '../protocol/locks.ts';
import { PROTOCOL_VERSION, type CoordinatorApi, type HandlerApi, type LaneMessage, type LockedMessage, type ReadyMessage } from '../protocol/worker-api.ts';
import { MAX_ITEMS, type InitializeInfo, type ItemInfo, type ShowErrorAnswer, type ShowErrorInfo } from '../protocol/types.ts';
import { lane, type LaneTarget } from '../internal/lane.ts';
import { ContextState, createContext, type HandlerContext } from './context.ts';
import { setActiveSession } from './active-session.ts';

/** What a handler module implements. Every method may be async. */
export interface SyncHandler {
  /** SyncMgr's Initialize: return `false` to decline this session. Optional. */
  initialize?(info: InitializeInfo): boolean | void | Promise<boolean | void>;
  /** SyncMgr's EnumSyncMgrItems: the items the user can choose from. */
  items(): ItemInfo[] | Promise<ItemInfo[]>;
  /** SyncMgr's PrepareForSync: return `false` to decline. Optional. */
  prepare?(itemIds: string[], ctx: HandlerContext): boolean | void | Promise<boolean | void>;
  /** SyncMgr's Synchronize: do the work; resolve when done, throw to fail. */
  synchronize(itemIds: string[], ctx: HandlerContext): void | Promise<void>;
  /**
   * SyncMgr's ShowError: the user opened one of the handler's actionable log
   * entries. Runs in a worker started for it alone, with the user watching
   * (show what helps, ask what to do); answer `{ retry: itemIds }` to have
   * those items synced again, or nothing. Optional: without it, opening an
   * entry retries its item (or the whole handler, for an entry without one).
   */
  showError?(errorId: string, info: ShowErrorInfo): ShowErrorAnswer | void | Promise<ShowErrorAnswer | void>;
}

/** The worker's global scope: where the handshake goes, and what both lanes run over. */
interface ReadyTarget extends LaneTarget {
  postMessage(message: ReadyMessage | LockedMessage | LaneMessage, transfer: Transferable[]): void;
}

/**
 * Registers `handler` as this worker's sync handler. Call it once, at the top
 * level of the worker module.
 */
export function defineHandler(handler: SyncHandler, target: ReadyTarget = globalThis as unknown as ReadyTarget): void {
  if (typeof handler !== 'object' || handler === null || typeof handler.items !== 'function' || typeof handler.synchronize !== 'function') {
    throw new SyncError('E_INVALIDARG', 'defineHandler(handler) needs an object with items() and synchronize() methods.');
  }
  let context: HandlerContext | null = null;
  let state: ContextState | null = null;
  let tracked: Comlink.Remote<CoordinatorApi<MessagePort>> | null = null;
  // Kept for the worker's whole life, so Comlink's release on GC cannot cut it.
  const coordinator = Comlink.wrap<CoordinatorApi<MessagePort>>(lane(target, 'coordinator'));
  // Refused (an opaque origin, say): the manager then relies on the worker's error events alone.
  // prepare() and synchronize(), where a handler's work is, run only once the life lock is held (or
  // refused), so a worker that ends from then on is seen through the lock at once; before, the
  // handler time limit bounds it.
  const life = lifeLock((held) => target.postMessage({ type: 'syncmgr:locked', held }, []));
  /** `initialize`'s answer, which `items` (sent right behind it) waits for. */
  let participating: Promise<boolean> = Promise.resolve(false);
  const needContext = () => {
    if (!context) throw new SyncError('E_UNEXPECTED', 'The manager called the handler before initialize().');
    return context;
  };
  const api: HandlerApi = {
    async initialize(info) {
      // Asked for now, awaited in prepare()/synchronize(): the grant's round trip overlaps those of initialize() and items().
      void life?.take();
      const answer = (async () => {
        state = new ContextState();
        tracked = state.track(coordinator, info.handlerId);
        context = createContext(info, tracked, state);
        return (await handler.initialize?.(info)) !== false;
      })();
      participating = answer.catch(() => false);
      try {
        return ok(await answer);
      } catch (error) {
        return fail(error);
      }
    },
    async items() {
      try {
        if (!(await participating)) return ok(null);
        return ok(checkItemList(await handler.items()));
      } catch (error) {
        return fail(error);
      }
    },
    // Context calls the handler did not await are delivered before the answer (see ContextState.track).
    async prepare(itemIds) {
      try {
        await life?.take();
        const answer = (await handler.prepare?.(itemIds, needContext())) !== false;
        await state?.settled();
        return ok(answer);
      } catch (error) {
        await state?.settled();
        return fail(error);
      }
    },
    async synchronize(itemIds, access) {
      try {
        await life?.take();
        const ctx = needContext();
        const ended = state!;
        // The facades (endpointWebSocket, endpointFetch) reach the session through this while synchronize() runs.
        setActiveSession({ handlerId: ctx.handlerId, coordinator: tracked!, access, whenEnded: (fn) => ended.whenEnded(fn) });
        try {
          await handler.synchronize(itemIds, ctx);
        } finally {
          setActiveSession(null);
          state?.end(ctx.handlerId);
        }
        await state?.settled();
        return ok(undefined);
      } catch (error) {
        await state?.settled();
        return fail(error);
      }
    },
    async skip(itemId) {
      state?.cancelItem(itemId, new SyncError('E_ABORT', `Item '${itemId}' was skipped by the user.`));
    },
    async abort(reason) {
      state?.controller.abort(fromWire(reason));
    },
    async showError(info) {
      try {
        const answer: unknown = await handler.showError?.(info.errorId, info);
        if (answer === undefined || answer === null) return ok(null);
        const retry = (answer as { retry?: unknown }).retry;
        if (typeof answer !== 'object' || !Array.isArray(retry) || !retry.every((id) => typeof id === 'string')) {
          throw new SyncError('E_INVALIDARG', 'showError() must answer nothing, or { retry: itemIds } with an array of item ids.');
        }
        return ok(retry as string[]);
      } catch (error) {
        return fail(error);
      }
    },
  };
  Comlink.expose(api, lane(target, 'handler'));
  target.postMessage({ type: 'syncmgr:ready', protocol: PROTOCOL_VERSION, lock: life?.name ?? null, prepares: typeof handler.prepare === 'function', showsErrors: typeof handler.showError === 'function' }, []);
}

/**
 * The shape of items()'s answer, checked before it is sent: a list too long
 * or with holes is refused here, in the worker, at no cost to the page. The
 * manager checks every entry on arrival.
 */
function checkItemList(items: unknown): ItemInfo[] {
  if (Array.isArray(items)) {
    if (items.length > MAX_ITEMS) throw new SyncError('E_INVALIDARG', `items() returned ${items.length} items; at most ${MAX_ITEMS} are allowed.`);
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) throw new SyncError('E_INVALIDARG', `items(): entry ${i} is missing (the array has a hole); list one { id, name } per entry.`);
    }
  }
  return items as ItemInfo[];
}
