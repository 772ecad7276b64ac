/**
 * The context a handler receives in `prepare()` and `synchronize()`: SyncMgr's
 * callback (EstablishConnection, Progress, LogError, DeleteLogError) in
 * promise form, plus the session's facts and an AbortSignal.
 */
import type * as Comlink from 'comlink';
import { SyncError } from '../protocol/sync-error.ts';
import { fail, unwrap } from '../protocol/wire.ts';
import { callRefused } from '../protocol/call-refusal.ts';
import type { CoordinatorApi } from '../protocol/worker-api.ts';
import type {
  ConnectionKind, InitializeInfo, LogLevel, LogOptions, ProgressAnswer, ProgressUpdate, Trigger,
} from '../protocol/types.ts';
import { openChannel, type ChannelOf } from './channel-kinds.ts';
import { createHandlerStore, type HandlerStore } from './handler-store.ts';

export type { Channel, ChannelOf } from './channel-kinds.ts';

export interface HandlerContext {
  readonly sessionId: string;
  readonly handlerId: string;
  readonly trigger: Trigger;
  readonly cookie: unknown;
  /** The user started the session and is watching. */
  readonly mayBotherUser: boolean;
  /** 1, or n + 1 for the manager's automatic retry of a session that failed at attempt n. */
  readonly attempt: number;
  /** Should this session fail, the manager will not retry it automatically (Background Sync's `lastChance`). */
  readonly lastChance: boolean;
  /** Aborts (with `E_ABORT`) when the session is cancelled. */
  readonly signal: AbortSignal;
  /**
   * SyncMgr's EstablishConnection: resolves with a channel to the named
   * endpoint (`null` or nothing: the default endpoint) once it is up. The same
   * name gives the same underlying connection to every handler of the session.
   * Pass `kind` to check the endpoint's kind and get the channel's type.
   * Only inside `synchronize()`.
   */
  establishConnection<K extends ConnectionKind = ConnectionKind>(name?: string | null, kind?: K): Promise<ChannelOf<K>>;
  /**
   * Reports an item's progress and asks whether to go on: `continue`,
   * `cancel-item` (skip it) or `cancel-all` (stop). Call it before each item.
   */
  progress(itemId: string, update?: ProgressUpdate): Promise<ProgressAnswer>;
  /** Adds a log entry; resolves with its errorId (yours, or a generated one). */
  logError(level: LogLevel, text: string, options?: LogOptions): Promise<string>;
  /** Deletes one of this handler's log entries, or all of them without an id; resolves with how many. */
  deleteLogError(errorId?: string): Promise<number>;
  /** A signal that aborts when this item is skipped or cancelled, or the whole handler is. */
  itemSignal(itemId: string): AbortSignal;
  /** This handler's own persistent key-value store (cursors, checkpoints); see {@link HandlerStore}. In `prepare()` and `synchronize()`. */
  readonly store: HandlerStore;
}

/** @internal State the runtime keeps for one session. */
export class ContextState {
  readonly controller = new AbortController();
  readonly #items = new Map<string, AbortController>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #onEnd = new Set<() => void>();
  #endedFor: string | null = null;
  #handlerId = '';

  /**
   * The handler's synchronize() has returned: from now on its context calls
   * are refused here, at once. The manager would take them: the answer is
   * posted only once earlier calls have settled, so a call made meanwhile
   * reaches the manager first.
   */
  end(handlerId: string): void {
    this.#endedFor = handlerId;
    for (const fn of this.#onEnd) fn();
    this.#onEnd.clear();
  }

  /** Runs `fn` when the handler's work ends (at once if it has): its WebSocket channels end with it. */
  whenEnded(fn: () => void): void {
    if (this.#endedFor !== null) fn();
    else this.#onEnd.add(fn);
  }

  /**
   * The coordinator, with every call counted until it settles: a handler may
   * fire `logError` or `store.set` without awaiting them, and they must reach
   * the manager before its `synchronize()` is reported finished.
   */
  track<T extends object>(coordinator: T, handlerId: string): T {
    this.#handlerId = handlerId;
    return new Proxy(coordinator, {
      get: (target, key) => {
        const method = (target as Record<PropertyKey, unknown>)[key] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          if (this.#endedFor !== null) return Promise.resolve(fail(afterEnd(this.#endedFor, String(key), args[0])));
          const call = method(...args).catch((error: unknown) => {
            // postMessage refused an argument before it left the worker (a function, a Symbol...).
            if ((error as Error)?.name !== 'DataCloneError') throw error;
            return fail(notCloneable(this.#handlerId, String(key), args, error));
          });
          this.#pending.add(call);
          call.then(() => this.#pending.delete(call), () => this.#pending.delete(call));
          return call;
        };
      },
    });
  }

  /** Resolves once every coordinator call made so far (and any made meanwhile) has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  itemSignal(itemId: string): AbortSignal {
    let c = this.#items.get(itemId);
    if (!c) {
      c = new AbortController();
      this.#items.set(itemId, c);
      if (this.controller.signal.aborted) c.abort(this.controller.signal.reason);
      else this.controller.signal.addEventListener('abort', () => c!.abort(this.controller.signal.reason), { once: true });
    }
    return c.signal;
  }

  cancelItem(itemId: string, reason: unknown): void {
    const signal = this.itemSignal(itemId);
    if (!signal.aborted) this.#items.get(itemId)!.abort(reason);
  }
}

/** @internal */
export function createContext(info: InitializeInfo, coordinator: Comlink.Remote<CoordinatorApi<MessagePort>>, state: ContextState): HandlerContext {
  const handlerId = info.handlerId;
  return {
    sessionId: info.sessionId,
    handlerId,
    trigger: info.trigger,
    cookie: info.cookie,
    mayBotherUser: info.mayBotherUser,
    attempt: info.attempt,
    lastChance: info.lastChance,
    signal: state.controller.signal,
    async establishConnection<K extends ConnectionKind = ConnectionKind>(name?: string | null, kind?: K): Promise<ChannelOf<K>> {
      const grant = unwrap(await coordinator.establishConnection(name ?? null, kind ?? null));
      // The manager has checked `kind` before opening anything, so the grant is of kind K.
      const channel = openChannel(grant);
      if (channel.kind === 'websocket') state.whenEnded(() => channel.finish(handlerId));
      return channel as ChannelOf<K>;
    },
    async progress(itemId, update) {
      const answer = unwrap(await coordinator.progress(itemId, update ?? {}));
      if (answer === 'cancel-item') state.cancelItem(itemId, new SyncError('E_ABORT', `Item '${itemId}' of handler '${handlerId}' was cancelled.`));
      return answer;
    },
    async logError(level, text, options) {
      return unwrap(await coordinator.logError(level, text, options ?? {}));
    },
    async deleteLogError(errorId) {
      return unwrap(await coordinator.deleteLogError(errorId ?? null));
    },
    itemSignal: (itemId) => state.itemSignal(itemId),
    store: createHandlerStore(coordinator, handlerId),
  };
}

/** The refusal of a context call made after synchronize() returned (`method`: the coordinator's name of it). */
function afterEnd(handlerId: string, method: string, first: unknown): SyncError {
  const call = method.startsWith('store') ? `store.${method.slice(5).toLowerCase()}` : method;
  const subject = method !== 'establishConnection' ? '' : first === null || first === undefined ? 'the default endpoint' : `endpoint ${typeof first === 'string' ? `'${first}'` : JSON.stringify(first)}`;
  return callRefused(handlerId, call, subject, 'after its work ended', 'inside synchronize()');
}

/** What each coordinator call's arguments are called in the handler's API, for messages. */
const ARGUMENT_NAMES: Record<string, [call: string, ...names: string[]]> = {
  establishConnection: ['establishConnection', 'name', 'kind'],
  openSocket: ['openSocket', 'name', 'url', 'protocols'],
  progress: ['progress', 'itemId', 'update'],
  logError: ['logError', 'level', 'text', 'options'],
  deleteLogError: ['deleteLogError', 'errorId'],
  storeGet: ['store.get', 'key'],
  storeSet: ['store.set', 'key', 'value'],
  storeDelete: ['store.delete', 'key'],
  storeKeys: ['store.keys', 'prefix'],
  storeEntries: ['store.entries', 'prefix'],
};

/** The refusal of a call whose argument cannot cross to the manager, naming the argument. */
function notCloneable(handlerId: string, method: string, args: unknown[], cause: unknown): SyncError {
  const [call, ...names] = Object.hasOwn(ARGUMENT_NAMES, method) ? ARGUMENT_NAMES[method] : [method];
  const index = args.findIndex((arg) => {
    try {
      structuredClone(arg);
      return false;
    } catch {
      return true;
    }
  });
  const which = names[index] ?? `argument ${index + 1}`;
  return new SyncError('E_INVALIDARG', `Handler '${handlerId}': ctx.${call}(): ${which} cannot be sent to the manager (functions, Symbols, DOM and worker objects cannot be cloned); pass plain data.`, { cause });
}
