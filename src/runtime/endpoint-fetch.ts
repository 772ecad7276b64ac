/**
 * `endpointFetch(name)`: a `fetch` bound to one endpoint, for sync libraries
 * that make their own requests (PouchDB's `fetch` option, a GraphQL client's
 * `fetch`). The manager makes every request on the session's connection to
 * the endpoint (adding its headers, which never enter the worker, and
 * keeping every request and redirect inside its base), as the handler's
 * `FetchChannel` does; this function speaks fetch's language instead: a
 * string, `URL` or `Request` input, fetch's `init`, a `Response` whose `url`
 * is in the library's own terms, and a `TypeError` for what fails as a
 * network error would.
 *
 * A URL given to it names a path below the endpoint: its origin is ignored,
 * so `'http://couch/notes'`, `'/notes'` and `'notes'` all reach
 * `<endpoint url>/notes`.
 */
import { SyncError } from '../protocol/sync-error.ts';
import { unwrap } from '../protocol/wire.ts';
import type { FetchResponseMessage } from '../protocol/fetch-messages.ts';
import type { ChannelGrant } from '../protocol/worker-api.ts';
import { SCHEME, checkWrittenPath } from './library-url.ts';
import { activeSession, resolveEndpoint, type ActiveSession } from './active-session.ts';
import { FetchChannel, type FetchInit } from './fetch-channel.ts';

/** Where a URL without a scheme is read, to take its path and query (never contacted). */
const STAND_IN = 'http://endpoint.invalid/';

/** Options of {@link endpointFetch}. */
export interface EndpointFetchOptions {
  /**
   * Let the manager retry a request by the endpoint's `retry` policy (network
   * errors, 429, 5xx; repeatable requests only). Default `false`: libraries
   * retry by themselves, and two layers of retries would multiply.
   */
  retry?: boolean;
}

/** fetch's signature. */
export type EndpointFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The channel each session's facades of one endpoint share (one per handler and endpoint). */
const channels = new WeakMap<ActiveSession, Map<string, Promise<FetchChannel>>>();

/**
 * A `fetch` bound to the endpoint `name` (`null` or nothing: the default
 * endpoint). Call it only while the handler's `synchronize()` runs; outside
 * it the promise rejects with `E_UNEXPECTED`, a name that is not configured
 * with `E_INVALIDARG`, one outside the handler's endpoints with
 * `E_ACCESSDENIED`, a path that leaves the endpoint with `E_ACCESSDENIED`.
 * What fetch itself would reject (an init it refuses, a network error, a
 * redirect out of the endpoint's base, the session ending) rejects with a
 * `TypeError` whose `cause` is the `SyncError`; an aborted signal with its
 * reason, as fetch does.
 */
export function endpointFetch(name: string | null = null, options: EndpointFetchOptions = {}): EndpointFetch {
  if (name !== null && typeof name !== 'string') {
    throw new SyncError('E_INVALIDARG', `endpointFetch(name) needs an endpoint name (a string), or null for the default endpoint; got ${typeof name}.`);
  }
  if (typeof options !== 'object' || options === null) throw new SyncError('E_INVALIDARG', `endpointFetch(name, options): options must be an object like { retry: true }, not ${options === null ? 'null' : typeof options}.`);
  if (options.retry !== undefined && typeof options.retry !== 'boolean') throw new SyncError('E_INVALIDARG', `endpointFetch(name, options): retry must be a boolean, not ${typeof options.retry}.`);
  const call = `endpointFetch(${name === null ? '' : `'${name}'`})`;
  const idempotent = options.retry ? null : false;

  async function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const session = activeSession(call);
    const endpoint = resolveEndpoint(session, name, 'fetch', call);
    if (arguments.length === 0 && input === undefined) throw new TypeError(`${call}: 1 argument required, but only 0 present.`);
    const href = input instanceof Request ? input.url : String(input);
    const { shown, target } = readUrl(href, call);
    // The path as the library wrote it (before the URL parser resolves dots) is held to the
    // channel's rules, so an escape is refused here; the manager checks the parsed path again.
    checkWrittenPath(href, STAND_IN, endpoint, call);
    const merged = await mergeRequest(input, init, call);
    const signal = merged.signal ?? undefined;
    let channel: FetchChannel;
    try {
      channel = await channelFor(session, endpoint);
      return await channel.send(target, merged, { idempotent, showUrl: (response) => showUrl(shown, target, response) });
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw asTypeError(error);
    }
  }
  return fetch;
}

/** The session's channel to `endpoint`, established on first use and detached when the handler's work ends. */
function channelFor(session: ActiveSession, endpoint: string): Promise<FetchChannel> {
  let byName = channels.get(session);
  if (!byName) channels.set(session, (byName = new Map()));
  const known = byName.get(endpoint);
  if (known) return known;
  const attempt = session.coordinator.establishConnection(endpoint, 'fetch').then((outcome) => {
    const channel = new FetchChannel(unwrap(outcome) as ChannelGrant<MessagePort, 'fetch'>);
    // A library's request still running when synchronize() has returned serves no one: abort it.
    session.whenEnded(() => channel.detach(new SyncError('E_ABORT', `Endpoint '${endpoint}': the handler's synchronize() returned, so its request was aborted.`)));
    return channel;
  });
  // A failed attempt is forgotten, so the next call tries again (as establishConnection does).
  attempt.catch(() => {
    if (byName.get(endpoint) === attempt) byName.delete(endpoint);
  });
  byName.set(endpoint, attempt);
  return attempt;
}

/**
 * fetch's `new Request(input, init)`, as an init for the channel: a
 * `Request`'s method, headers, body, signal and redirect, each replaced by
 * the init's when it gives one. Options that only mean something to the
 * worker's own fetch (`mode`, `credentials`, `cache`, …) are not carried.
 */
async function mergeRequest(input: RequestInfo | URL, init: RequestInit | undefined, call: string): Promise<FetchInit> {
  const given: Record<string, unknown> = {};
  if (init !== undefined && init !== null) {
    if (typeof init !== 'object') throw new TypeError(`${call}: init must be an object like fetch's RequestInit, not ${typeof init}.`);
    for (const key of ['method', 'headers', 'body', 'signal', 'redirect', 'duplex'] as const) {
      const value = (init as Record<string, unknown>)[key];
      if (value !== undefined) given[key] = value;
    }
  }
  if (!(input instanceof Request)) return given as FetchInit;
  if (input.bodyUsed) throw new TypeError(`${call}: the Request's body was already read, so it cannot be sent.`);
  const merged: Record<string, unknown> = { method: input.method, headers: input.headers, signal: input.signal, redirect: input.redirect };
  if (given.body === undefined && input.method !== 'GET' && input.method !== 'HEAD') {
    // Firefox has no Request.prototype.body: an empty body then counts as none (the same bytes are sent).
    const body = await input.arrayBuffer();
    if (body.byteLength > 0 || ('body' in input && input.body !== null)) merged.body = body;
  }
  return { ...merged, ...given } as FetchInit;
}

/** The URL as the library's fetch would see it (resolved against the worker's URL, no fragment), and the path and query it names below the endpoint. */
function readUrl(input: string, call: string): { shown: URL; target: string } {
  let parsed: URL;
  let shown: URL;
  try {
    parsed = SCHEME.test(input) ? new URL(input) : new URL(input, STAND_IN);
    // A worker made from a blob: URL (which cannot be a base) shows it against the stand-in.
    shown = URL.canParse(input, globalThis.location?.href) ? new URL(input, globalThis.location?.href) : new URL(parsed);
  } catch {
    throw new TypeError(`${call}: ${JSON.stringify(input.length > 64 ? `${input.slice(0, 64)}…` : input)} is not a valid URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${call}: the URL's scheme must be http or https, not ${parsed.protocol.slice(0, -1)}.`);
  }
  shown.hash = '';
  return { shown, target: parsed.pathname.slice(1) + parsed.search };
}

/**
 * The Response's URL in the library's terms: the URL it asked for, or after
 * redirects (which all stayed inside the endpoint) the final path below the
 * endpoint, shown below the URL's own root (what stood for the endpoint).
 */
function showUrl(shown: URL, target: string, response: FetchResponseMessage): string {
  if (!response.redirected) return shown.href;
  const targetPath = target.split('?', 1)[0]!;
  const root = shown.pathname.endsWith(targetPath) ? shown.pathname.slice(0, shown.pathname.length - targetPath.length) : '/';
  return new URL(root + response.path, shown.origin).href;
}

/** What fetch would reject as a network error, as fetch rejects it: a TypeError, the SyncError as its cause. */
function asTypeError(error: unknown): unknown {
  if (error instanceof TypeError || !SyncError.is(error)) return error;
  return new TypeError(error.message, { cause: error });
}
