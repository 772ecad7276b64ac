/**
 * Removing secrets from URLs inside message text. An endpoint's URL may carry
 * credentials (`user:password@host`) and a URL function's result a token in
 * its query (`/live?t=…`); error messages, including the engine's own (a
 * failed fetch quotes its URL), cross to handlers' workers, which must never
 * see either.
 */

// An absolute URL inside text: scheme, optional userinfo (up to the last `@` of the
// authority, quotes and brackets included: a password may hold them), host and path, optional query and fragment; it ends at white space or
// a character that commonly closes a quotation. The scheme's length is bounded so that
// the search stays linear in the text, however long (messages quote what workers sent).
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)(?:[^\s/?#]*@)?([^\s?#'"`<>()[\]{}]*)(\?[^\s#'"`<>()[\]{}]*)?(#[^\s'"`<>()[\]{}]*)?/gi;
// Schemes whose query is a secret by convention (a WebSocket cannot send headers, so tokens ride in its URL).
const TOKEN_SCHEMES = /^wss?:\/\/$/i;

/**
 * What every message crossing the worker boundary goes through: the
 * credentials of every URL in `text` and the query (and fragment) of every
 * `ws:`/`wss:` URL are removed.
 */
export function redactCredentials(text: string): string {
  return text.replace(URL_IN_TEXT, (_all, scheme: string, rest: string, query?: string, fragment?: string) =>
    TOKEN_SCHEMES.test(scheme) ? scheme + rest : scheme + rest + (query ?? '') + (fragment ?? ''));
}

/**
 * Every URL in `text` cut to its scheme and host (no credentials, path,
 * query or fragment): for text about an endpoint's own URLs, whose path may
 * hold a token as well.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (_all, scheme: string, rest: string) => scheme + rest.split('/', 1)[0]!);
}
