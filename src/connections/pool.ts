/**
 * The named connections of one session (DESIGN.md §2): resolves names
 * (`null` → the default endpoint), checks what a handler may use, shares one
 * connection and one attempt per name, and closes everything once, when the
 * session says every handler has finished. It reports every connection as
 * {@link ConnectionEvent}s and, at the end, as {@link ConnectionRecord}s.
 */
import { SyncError } from '../protocol/sync-error.ts';
import type { ChannelGrant, EndpointAccess, EndpointSocketGrant } from '../protocol/worker-api.ts';
import { CONNECTION_KINDS, isOneOf, type ConnectionKind } from '../protocol/types.ts';
import type { Connection, ConnectionCloseInfo } from './connection.ts';
import type { ConnectionRecord } from './connection-record.ts';
import { ConnectionEvent, type ConnectionEventInit, type ConnectionEventType } from './connection-event.ts';
import { openConnection } from './connection-kinds.ts';
import type { ResolvedEndpoint } from './endpoint-config.ts';
import { EndpointSocket } from './endpoint-socket.ts';

interface Entry {
  kind: ConnectionKind;
  attempt: Promise<Connection>;
  connection: Connection | null;
  record: ConnectionRecord | null;
}

export interface PoolOptions {
  readonly sessionId: string;
  readonly endpoints: ReadonlyMap<string, ResolvedEndpoint>;
  readonly defaultEndpoint: string | null;
  /** How long to wait for each WebSocket's closing handshake. */
  readonly closeTimeout: number;
  /** Where the pool dispatches its {@link ConnectionEvent}s: the manager. */
  readonly events: EventTarget;
}

export class ConnectionPool {
  readonly #options: PoolOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #records: ConnectionRecord[] = [];
  /**
   * The sockets of `endpointWebSocket` instances, with the handler whose
   * instance opened each; all of the session's, since the session waits for
   * each worker to have seen its socket's close.
   */
  readonly #sockets = new Map<EndpointSocket, string>();
  readonly #controller = new AbortController();
  #closed: Promise<ConnectionRecord[]> | null = null;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /**
   * Resolves `name` for `handlerId` (allowed: `null` means every endpoint),
   * opening the connection on first use; the same name always gives the same
   * connection. Resolves with a new channel to it.
   */
  async establish(handlerId: string, allowed: ReadonlySet<string> | null, name: unknown, kind: unknown = null): Promise<ChannelGrant<MessagePort>> {
    const resolved = this.#resolve(handlerId, allowed, name);
    const actual = this.#options.endpoints.get(resolved)!.kind;
    if (kind !== null && kind !== undefined && kind !== actual) {
      const what = isOneOf(CONNECTION_KINDS, kind) ? `a ${kind} channel` : `kind ${JSON.stringify(kind)} (use ${CONNECTION_KINDS.map((k) => `'${k}'`).join(' or ')})`;
      throw new SyncError('E_INVALIDARG', `Handler '${handlerId}' asked for ${what}, but endpoint '${resolved}' is a ${actual} endpoint.`);
    }
    if (this.#closed) throw new SyncError('E_UNEXPECTED', `Handler '${handlerId}' asked for endpoint '${resolved}' after the session closed its connections.`);
    const entry = this.#entryFor(resolved, handlerId);
    let connection: Connection;
    try {
      connection = await entry.attempt;
    } catch (error) {
      throw rename(error, handlerId);
    }
    if (this.#closed || !connection.alive) {
      throw new SyncError('E_UNEXPECTED', `Handler '${handlerId}': endpoint '${resolved}' closed before it could be handed over; the session is ending.`);
    }
    const record = entry.record!;
    if (!record.handlers.includes(handlerId)) record.handlers.push(handlerId);
    return connection.attach(handlerId);
  }

  /**
   * Opens a socket for one `endpointWebSocket` instance of `handlerId`: the
   * same name rules as {@link establish}, the endpoint's own URL with
   * `target` (a path and query below it), never shared. Answers as soon as
   * the socket is made; what becomes of it goes to the port. It is recorded
   * (and `connectionopen` / `connectionclose` fire) only if it opened; one
   * that could not connect fires `connectionerror` instead, unless it was
   * closed before it opened (by its library, its handler's end or the session's).
   */
  openSocket(handlerId: string, allowed: ReadonlySet<string> | null, name: unknown, target: unknown, protocols: unknown): EndpointSocketGrant<MessagePort> {
    const resolved = this.#resolve(handlerId, allowed, name);
    const endpoint = this.#options.endpoints.get(resolved)!;
    if (endpoint.kind !== 'websocket') {
      throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': endpointWebSocket('${resolved}') needs a websocket endpoint, but '${resolved}' is a ${endpoint.kind} endpoint; use endpointFetch('${resolved}').`);
    }
    if (this.#closed) throw new SyncError('E_UNEXPECTED', `Handler '${handlerId}' opened a socket to endpoint '${resolved}' after the session closed its connections.`);
    let record: ConnectionRecord | null = null;
    const socket = EndpointSocket.open(endpoint, target, protocols, this.#controller.signal, {
      opened: () => {
        record = { name: resolved, kind: 'websocket', dedicated: true, handlers: [handlerId], openedAt: Date.now(), closedAt: null, closeCode: null, abortedRequests: 0, unsentFrames: 0, possiblyLostFrames: 0, droppedFrames: 0, invalidMessages: 0 };
        this.#records.push(record);
        this.#dispatch('connectionopen', resolved, 'websocket', { handlerId, dedicated: true });
      },
      ended: (code, invalid) => {
        if (!record) return;
        record.invalidMessages = invalid;
        record.closedAt = Date.now();
        record.closeCode = code;
        this.#dispatch('connectionclose', resolved, 'websocket', { code, dedicated: true });
      },
      error: (error) => this.#dispatch('connectionerror', resolved, 'websocket', { handlerId, error, dedicated: true }),
    });
    this.#sockets.set(socket, handlerId);
    return { name: resolved, port: socket.port };
  }

  /** What the runtime of `allowed`'s handler may know of the endpoints: names and kinds. */
  access(allowed: ReadonlySet<string> | null): EndpointAccess {
    const endpoints: Record<string, ConnectionKind> = {};
    for (const [name, endpoint] of this.#options.endpoints) endpoints[name] = endpoint.kind;
    return { defaultEndpoint: this.#options.defaultEndpoint, endpoints, allowed: allowed && [...allowed] };
  }

  /** How a handler's `name` argument reads in a message: the endpoint it means, without checking it. */
  describe(name: unknown): string {
    if (name === null || name === undefined) {
      const fallback = this.#options.defaultEndpoint;
      return fallback === null ? 'the default endpoint (none is configured)' : `the default endpoint '${fallback}'`;
    }
    return typeof name === 'string' ? `endpoint '${name}'` : `endpoint ${describe(name)}`;
  }

  /**
   * A handler of the session finished: its channels get no more frames
   * (shared connections stay open: rule 5), and the sockets its
   * `endpointWebSocket` instances opened, which no other handler uses, close
   * with 1000. `answered`: its worker answered synchronize() (it did not
   * crash, time out or get stopped), so its channels' last messages are on their way.
   */
  handlerFinished(handlerId: string, answered = false): void {
    for (const entry of this.#entries.values()) entry.connection?.detachHandler?.(handlerId, answered);
    for (const [socket, owner] of this.#sockets) if (owner === handlerId) void socket.close(this.#options.closeTimeout, answered);
  }

  /** Names of the connections open now. */
  openNames(): string[] {
    return [...this.#entries].filter(([, e]) => e.connection?.alive).map(([name]) => name);
  }

  /** Closes every connection the session opened and aborts attempts still running; idempotent. */
  closeAll(): Promise<ConnectionRecord[]> {
    this.#closed ??= (async () => {
      this.#controller.abort(new SyncError('E_ABORT', 'The sync session ended while the connection was being established.'));
      const entries = [...this.#entries.values()];
      const sockets = [...this.#sockets.keys()].map((socket) => socket.close(this.#options.closeTimeout));
      await Promise.allSettled(entries.map((e) => e.attempt));
      await Promise.allSettled(entries.map(async (e) => {
        if (!e.connection || !e.record) return;
        const info = await e.connection.close(this.#options.closeTimeout);
        this.#markClosed(e, info);
      }));
      this.#entries.clear();
      await Promise.allSettled(sockets);
      return this.#records.map((r) => ({ ...r, handlers: [...r.handlers] }));
    })();
    return this.#closed;
  }

  #resolve(handlerId: string, allowed: ReadonlySet<string> | null, name: unknown): string {
    const { endpoints, defaultEndpoint } = this.#options;
    let resolved: string;
    if (name === null || name === undefined) {
      if (defaultEndpoint === null) {
        throw new SyncError('E_INVALIDARG', `Handler '${handlerId}' asked for the default endpoint, but no defaultEndpoint is configured; pass a name (${[...endpoints.keys()].join(', ') || 'none configured'}) or set defaultEndpoint.`);
      }
      resolved = defaultEndpoint;
    } else if (typeof name !== 'string') {
      throw new SyncError('E_INVALIDARG', `Handler '${handlerId}' passed ${describe(name)} as an endpoint name; pass a string, or null for the default endpoint.`);
    } else {
      resolved = name;
    }
    if (!endpoints.has(resolved)) {
      throw new SyncError('E_INVALIDARG', `Handler '${handlerId}' asked for endpoint '${resolved}', which is not configured; configured: ${[...endpoints.keys()].join(', ') || 'none'}.`);
    }
    if (allowed !== null && !allowed.has(resolved)) {
      throw new SyncError('E_ACCESSDENIED', `Handler '${handlerId}' may not use endpoint '${resolved}'; its registration allows: ${[...allowed].join(', ') || 'none'}. Add it to the handler's endpoints.`);
    }
    return resolved;
  }

  #entryFor(name: string, handlerId: string): Entry {
    const existing = this.#entries.get(name);
    if (existing) return existing;
    const endpoint = this.#options.endpoints.get(name)!;
    const { kind } = endpoint;
    const entry: Entry = { kind, attempt: null!, connection: null, record: null };
    entry.attempt = (async () => {
      try {
        const connection = await openConnection(endpoint, this.#controller.signal, {
          state: (state) => this.#dispatch('connectionstate', name, kind, { state }),
          ended: (info) => this.#onEnded(name, entry, info),
          error: (error) => this.#dispatch('connectionerror', name, kind, { error }),
        });
        entry.connection = connection;
        entry.record = { name, kind, dedicated: false, handlers: [], openedAt: Date.now(), closedAt: null, closeCode: null, abortedRequests: 0, unsentFrames: 0, possiblyLostFrames: 0, droppedFrames: 0, invalidMessages: 0 };
        this.#records.push(entry.record);
        this.#dispatch('connectionopen', name, kind, { handlerId });
        return connection;
      } catch (error) {
        // A failed attempt is forgotten, so a later call tries again; it never touches other connections.
        if (this.#entries.get(name) === entry) this.#entries.delete(name);
        this.#dispatch('connectionerror', name, kind, { handlerId, error: error as Error });
        throw error;
      }
    })();
    this.#entries.set(name, entry);
    return entry;
  }

  #dispatch(type: ConnectionEventType, name: string, kind: ConnectionKind, extra: Omit<ConnectionEventInit, 'sessionId' | 'name' | 'kind'>): void {
    this.#options.events.dispatchEvent(new ConnectionEvent(type, { sessionId: this.#options.sessionId, name, kind, ...extra }));
  }

  /**
   * A WebSocket ended during the session without the pool closing it (the
   * server closed it with reconnect off, or reconnecting gave up): record it;
   * the next call for the name opens a new one.
   */
  #onEnded(name: string, entry: Entry, info: ConnectionCloseInfo): void {
    if (this.#closed) return;
    if (this.#entries.get(name) === entry) this.#entries.delete(name);
    this.#markClosed(entry, info);
  }

  #markClosed(entry: Entry, info: ConnectionCloseInfo): void {
    const record = entry.record;
    if (!record || record.closedAt !== null) return;
    record.closedAt = Date.now();
    record.closeCode = info.closeCode;
    record.abortedRequests = info.abortedRequests;
    record.unsentFrames = info.unsentFrames ?? 0;
    record.possiblyLostFrames = info.possiblyLostFrames ?? 0;
    record.droppedFrames = info.droppedFrames ?? 0;
    record.invalidMessages = info.invalidMessages ?? 0;
    this.#dispatch('connectionclose', record.name, record.kind, { code: info.closeCode });
  }
}

function rename(error: unknown, handlerId: string): unknown {
  if (!SyncError.is(error) || error.message.includes(`'${handlerId}'`)) return error;
  return new SyncError(error.code, `Handler '${handlerId}': ${error.message}`, { cause: error.cause });
}

function describe(value: unknown): string {
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return `a ${typeof value} (${String(value)})`;
}
