/**
 * The handler's `synchronize()` now running in this worker, for what is
 * reached without a `ctx` (the `endpointWebSocket` / `endpointFetch`
 * facades, which a library constructs or calls on its own). A worker runs
 * one handler and one session at a time, so there is at most one.
 */
import type * as Comlink from 'comlink';
import { SyncError } from '../protocol/sync-error.ts';
import type { CoordinatorApi, EndpointAccess } from '../protocol/worker-api.ts';

export interface ActiveSession {
  readonly handlerId: string;
  /** The coordinator, with every call tracked (ContextState.track). */
  readonly coordinator: Comlink.Remote<CoordinatorApi<MessagePort>>;
  readonly access: EndpointAccess;
  /** Runs `fn` when the handler's work ends. */
  whenEnded(fn: () => void): void;
}

let active: ActiveSession | null = null;

/** @internal Called by defineHandler around the handler's synchronize(). */
export function setActiveSession(session: ActiveSession | null): void {
  active = session;
}

/** The running session, or `E_UNEXPECTED` naming `call` when no synchronize() runs (SyncMgr's rule: the network only inside Synchronize). */
export function activeSession(call: string): ActiveSession {
  if (active) return active;
  throw new SyncError('E_UNEXPECTED', `${call} was used outside a handler's synchronize(); construct or call it from synchronize() (or code it runs), where the manager lets handlers reach endpoints.`);
}

/**
 * Resolves an endpoint name as the manager will (null → the default),
 * refusing at once what it would refuse: not a string, not configured, not
 * in the handler's allowlist, not of `kind`.
 */
export function resolveEndpoint(session: ActiveSession, name: string | null, kind: 'websocket' | 'fetch', call: string): string {
  const { access, handlerId } = session;
  const configured = Object.keys(access.endpoints);
  let resolved: string;
  if (name === null) {
    if (access.defaultEndpoint === null) {
      throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ${call} uses the default endpoint, but no defaultEndpoint is configured; pass a name (${configured.join(', ') || 'none configured'}) or set defaultEndpoint.`);
    }
    resolved = access.defaultEndpoint;
  } else resolved = name;
  if (!Object.hasOwn(access.endpoints, resolved)) {
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ${call} names endpoint '${resolved}', which is not configured; configured: ${configured.join(', ') || 'none'}.`);
  }
  if (access.allowed !== null && !access.allowed.includes(resolved)) {
    throw new SyncError('E_ACCESSDENIED', `Handler '${handlerId}' may not use endpoint '${resolved}'; its registration allows: ${access.allowed.join(', ') || 'none'}. Add it to the handler's endpoints.`);
  }
  const actual = access.endpoints[resolved]!;
  if (actual !== kind) {
    const other = kind === 'websocket' ? 'endpointFetch' : 'endpointWebSocket';
    throw new SyncError('E_INVALIDARG', `Handler '${handlerId}': ${call} needs a ${kind} endpoint, but '${resolved}' is a ${actual} endpoint; use ${other}('${resolved}').`);
  }
  return resolved;
}
