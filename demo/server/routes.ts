// The URL scheme of the endpoint server. Every URL is scoped by a tenant so
// that concurrent tests never see each other's notes, sockets or faults:
//
//   /t/<tenant>/api/<path>           HTTP API          (alias: /api/<path>   -> tenant `demo`)
//   /t/<tenant>/ws/<channel>         WebSocket         (alias: /ws/<channel> -> tenant `demo`)
//   /__syncmgr/t/<tenant>/<verb>     control (faults, state, reset, ...)
//
// Anything else is not ours and goes to the next handler (Vite), so the
// server can share an origin with the app and the test runner.

/** Tenant ids. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Channel names: a name, or up to four joined by `/` (a socket below an endpoint's URL: `live/doc-1`). */
const CHANNEL = /^[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64}){0,3}$/;
/** How a channel name is described in errors. */
export const CHANNEL_RULE = '[A-Za-z0-9_-]{1,64}, or up to four such names joined by /';

/** The tenant the bare `/api/...` and `/ws/...` paths belong to (the demo page uses them). */
export const DEMO_TENANT = 'demo';

export function isValidName(value: string): boolean {
  return NAME.test(value);
}

export function isValidChannel(value: string): boolean {
  return CHANNEL.test(value);
}

/** A request path that belongs to this server, or why it is malformed. */
export type HttpRoute =
  | { kind: 'api'; tenant: string; path: string; query: string }
  | { kind: 'control'; tenant: string; verb: string; query: string }
  | { kind: 'invalid'; error: string };

/** An upgrade path that belongs to this server, or why it is malformed. */
export type UpgradeRoute =
  | { kind: 'ws'; tenant: string; channel: string }
  | { kind: 'invalid'; error: string };

const API = /^\/t\/([^/]*)\/api(?:\/(.*))?$/;
const API_ALIAS = /^\/api(?:\/(.*))?$/;
const CONTROL = /^\/__syncmgr(?:\/|$)/;
const CONTROL_VERB = /^\/__syncmgr\/t\/([^/]*)\/([^/]*)$/;
const WS = /^\/t\/([^/]*)\/ws\/(.*)$/;
const WS_ALIAS = /^\/ws\/(.*)$/;

/** Splits a request target into its path and its query (without `?`). */
export function splitUrl(url: string): { pathname: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { pathname: url, query: '' } : { pathname: url.slice(0, q), query: url.slice(q + 1) };
}

/** Classifies an HTTP request target; null when it is not ours. */
export function matchHttp(url: string): HttpRoute | null {
  const { pathname, query } = splitUrl(url);

  let m = API.exec(pathname);
  if (m) return apiRoute(m[1]!, m[2] ?? '', query);
  m = API_ALIAS.exec(pathname);
  if (m) return apiRoute(DEMO_TENANT, m[1] ?? '', query);

  if (CONTROL.test(pathname)) {
    m = CONTROL_VERB.exec(pathname);
    if (!m) return { kind: 'invalid', error: 'control paths are /__syncmgr/t/<tenant>/<verb>' };
    const tenant = m[1]!;
    if (!isValidName(tenant)) return invalidTenant(tenant);
    return { kind: 'control', tenant, verb: m[2]!, query };
  }
  return null;
}

/** Classifies a WebSocket upgrade target; null when it is not ours (Vite's HMR, vitest's channel, ...). */
export function matchUpgrade(url: string): UpgradeRoute | null {
  const { pathname } = splitUrl(url);
  let tenant: string;
  let channel: string;
  let m = WS.exec(pathname);
  if (m) {
    tenant = m[1]!;
    channel = m[2]!;
  } else {
    m = WS_ALIAS.exec(pathname);
    if (!m) return null;
    tenant = DEMO_TENANT;
    channel = m[1]!;
  }
  if (!isValidName(tenant)) return invalidTenant(tenant);
  if (!isValidChannel(channel)) {
    return { kind: 'invalid', error: `invalid channel ${JSON.stringify(channel)}: expected ${CHANNEL_RULE}` };
  }
  return { kind: 'ws', tenant, channel };
}

function apiRoute(tenant: string, path: string, query: string): HttpRoute {
  if (!isValidName(tenant)) return invalidTenant(tenant);
  return { kind: 'api', tenant, path, query };
}

function invalidTenant(tenant: string): { kind: 'invalid'; error: string } {
  return { kind: 'invalid', error: `invalid tenant ${JSON.stringify(tenant)}: expected [A-Za-z0-9_-]{1,64}` };
}
