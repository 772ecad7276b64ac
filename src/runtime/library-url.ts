/**
 * What the facades (`endpointWebSocket`, `endpointFetch`) share in reading a
 * URL a library gives: whether it has a scheme, and its path as written,
 * held to the channels' path rules before the URL parser resolves dots and
 * turns backslashes into slashes (the manager checks the parsed path again).
 */
import { resolveInside } from '../protocol/path.ts';

/** A URL that starts with a scheme (`ws:`, `http:`, …). */
export const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
/** A URL's scheme and authority (`ws://host:port`), which name no path. */
const AUTHORITY = /^[a-zA-Z][a-zA-Z0-9+.-]*:(?:\/\/[^/?#\\]*)?/;

/** Refuses (`E_ACCESSDENIED`, naming `call`) a written path that would leave the endpoint; `standIn` is where a path is read. */
export function checkWrittenPath(input: string, standIn: string, endpoint: string, call: string): void {
  const written = (SCHEME.test(input) ? input.replace(AUTHORITY, '') : input).split(/[?#]/, 1)[0]!;
  if (written !== '' && written !== '/') resolveInside(new URL(standIn), written, endpoint, call);
}
