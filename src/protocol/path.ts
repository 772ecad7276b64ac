/**
 * Keeps a handler's request path inside its endpoint's base URL. The worker
 * never names a host: the manager resolves every path against the base and
 * refuses anything that could leave it.
 */
import { SyncError } from '../protocol/sync-error.ts';

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
// A `..` segment, also percent-encoded (URL parsers treat %2e as a dot), once or more
// (`%252e`: a server or proxy that decodes twice sees a dot).
const DOT_DOT = /(^|[/\\])(\.|%(?:25)*2e){2}([/\\?#]|$)/i;
// An encoded `/` or `\`, once or more (`%2f`, `%252f`, `%25252f`, ...): a server that
// decodes the path before resolving it would see a separator the URL parser did not.
const ENCODED_SEPARATOR = /%(?:25)*(?:2f|5c)/i;
const PERCENT_ESCAPE = /%([0-9a-f]{2})/gi;
// How many times the path is decoded to find what a server decoding it again
// would see (`%25%32%66` is `%2f` once decoded). Plain `%25` chains are caught
// at any depth by the patterns themselves.
const DECODINGS = 4;

/**
 * Resolves `path` against `base` (whose pathname ends with `/`).
 *
 * `path` is relative to the base; one leading `/` is allowed and also means the
 * base (so `/notes` and `notes` are the same). Refused with `E_ACCESSDENIED`:
 * absolute URLs (`https://…`, `data:…`), network paths (`//host`), backslashes,
 * `..` segments, raw or percent-encoded (also encoded twice or more), and
 * percent-encoded `/` or `\` anywhere in the path (before `?` or `#`), encoded
 * once or more. A non-string gives `E_INVALIDARG`. `call` names the caller in
 * messages.
 */
export function resolveInside(base: URL, path: unknown, endpoint: string, call = `fetch on endpoint '${endpoint}'`): URL {
  if (typeof path !== 'string') {
    throw new SyncError('E_INVALIDARG', `${call} needs a path string relative to the endpoint, not ${typeof path}.`);
  }
  const deny = (why: string) =>
    new SyncError('E_ACCESSDENIED', `${call} refused path ${JSON.stringify(path)}: ${why}. Pass a path relative to the endpoint's base URL.`);
  // The URL parser drops tabs and line breaks, which would join what the checks below saw apart (`%2\tf`).
  if (/[\u0000-\u001f\u007f]/.test(path)) throw deny('it contains a control character (a tab or line break, say)');
  if (SCHEME.test(path)) throw deny('it is an absolute URL');
  if (path.startsWith('//')) throw deny('it names another host');
  if (path.includes('\\')) throw deny('it contains a backslash');
  if (DOT_DOT.test(path)) throw deny("it contains a '..' segment");
  const hidden = hiddenEscape(path.split(/[?#]/, 1)[0]!);
  if (hidden) throw deny(hidden);
  const url = new URL(path.startsWith('/') ? path.slice(1) : path, base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw deny('it leaves the endpoint');
  // Checked again as it will be sent: whatever the parser made of the path must hold no hidden escape either.
  const sent = hiddenEscape(url.pathname.slice(base.pathname.length));
  if (sent) throw deny(sent);
  return url;
}

/**
 * Whether `url` (an absolute URL, e.g. a response's final URL after
 * redirects) lies under `base`: same origin, a path under the base's, and
 * nothing in it that a server decoding it would read as a separator or `..`.
 */
export function isInside(base: URL, url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.origin === base.origin && parsed.pathname.startsWith(base.pathname) && hiddenEscape(parsed.pathname.slice(base.pathname.length)) === null;
}

/**
 * What the path part of a handler's path would show a server that decodes it
 * once or more: an encoded separator or `..` segment, or null.
 */
function hiddenEscape(pathPart: string): string | null {
  let text = pathPart;
  for (let level = 0; level <= DECODINGS; level++) {
    if (ENCODED_SEPARATOR.test(text)) return "it contains an encoded '/' or '\\' (%2f, %5c, or one encoded again)";
    if (level > 0 && DOT_DOT.test(text)) return "it contains a '..' segment once decoded";
    const decoded = text.replace(PERCENT_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === text) return null;
    text = decoded;
  }
  return null;
}

/** The base URL of a fetch endpoint: its pathname always ends with `/`. */
export function asBaseUrl(url: string, relativeTo: string | undefined): URL {
  const base = new URL(url, relativeTo);
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}
