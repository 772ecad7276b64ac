/**
 * Keeps a handler's request path inside its endpoint's base URL. The worker
 * never names a host: the manager resolves every path against the base and
 * refuses anything that could leave it.
 */
import { SyncError } from '../protocol/sync-error.ts';

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
// A `..` segment, also percent-encoded (URL parsers treat %2e as a dot).
const DOT_DOT = /(^|[/\\])(\.|%2e){2}([/\\?#]|$)/i;

/**
 * Resolves `path` against `base` (whose pathname ends with `/`).
 *
 * `path` is relative to the base; one leading `/` is allowed and also means the
 * base (so `/notes` and `notes` are the same). Refused with `E_ACCESSDENIED`:
 * absolute URLs (`https://…`, `data:…`), network paths (`//host`), backslashes
 * and `..` segments, raw or percent-encoded. A non-string gives `E_INVALIDARG`.
 */
export function resolveInside(base: URL, path: unknown, endpoint: string): URL {
  if (typeof path !== 'string') {
    throw new SyncError('E_INVALIDARG', `fetch on endpoint '${endpoint}' needs a path string relative to the endpoint, not ${typeof path}.`);
  }
  const deny = (why: string) =>
    new SyncError('E_ACCESSDENIED', `fetch on endpoint '${endpoint}' refused path ${JSON.stringify(path)}: ${why}. Pass a path relative to the endpoint's base URL.`);
  if (SCHEME.test(path)) throw deny('it is an absolute URL');
  if (path.startsWith('//')) throw deny('it names another host');
  if (path.includes('\\')) throw deny('it contains a backslash');
  if (DOT_DOT.test(path)) throw deny("it contains a '..' segment");
  const url = new URL(path.startsWith('/') ? path.slice(1) : path, base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw deny('it leaves the endpoint');
  return url;
}

/** The base URL of a fetch endpoint: its pathname always ends with `/`. */
export function asBaseUrl(url: string, relativeTo: string | undefined): URL {
  const base = new URL(url, relativeTo);
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}
