/**
 * Messages of a fetch channel's port, and the facts of HTTP both ends of it
 * need (which statuses have no body, what a response says its length is).
 */
import type { WireError } from './wire.ts';
import type { ChannelDetach } from './socket-messages.ts';

/** How the handler wants a response body: `whole`, one transferred ArrayBuffer; `stream`, chunks as they arrive; `auto`, whole when small, else streamed. */
export const RESPONSE_BODY_MODES = ['auto', 'whole', 'stream'] as const;
export type ResponseBodyMode = (typeof RESPONSE_BODY_MODES)[number];

/**
 * Whether a fetch endpoint follows redirects: `follow` (default), but a
 * response whose final URL lies outside the endpoint's base is refused;
 * `error`, none is followed (the redirect answer is refused).
 */
export const REDIRECT_MODES = ['follow', 'error'] as const;
export type RedirectMode = (typeof REDIRECT_MODES)[number];

/**
 * A request's own `redirect`, as fetch's: `follow` (default; the endpoint's
 * rule still applies), `manual` (a redirect answer reaches the handler as an
 * opaque redirect: status 0, no headers, no body, nothing followed), `error`
 * (a redirect answer fails the request).
 */
export const REQUEST_REDIRECT_MODES = ['follow', 'manual', 'error'] as const;
export type RequestRedirectMode = (typeof REQUEST_REDIRECT_MODES)[number];

/** fetch's `Response.type` values. */
export type FetchResponseType = 'basic' | 'cors' | 'default' | 'error' | 'opaque' | 'opaqueredirect';

/** Statuses whose Response must have a null body. */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** A method or header name: an HTTP token (RFC 9110 §5.6.2). */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Methods fetch refuses (TRACE would echo the endpoint's headers back to the handler). */
export const FORBIDDEN_METHODS: readonly string[] = ['CONNECT', 'TRACE', 'TRACK'];
// A header value fetch accepts: bytes only (no character beyond U+00FF), no NUL, CR or LF.
const HEADER_VALUE = /^[^\0\r\n\u0100-\uffff]*$/;

/**
 * What fetch would refuse in a request's method, headers and body, said so
 * that the handler knows what to fix; `null` when nothing. Both ends check:
 * the worker before it sends anything, the manager again on arrival.
 */
export function requestProblem(method: string, headers: readonly (readonly [string, string])[], hasBody: boolean): string | null {
  if (!HTTP_TOKEN.test(method)) return `method ${quote(method)} is not a valid HTTP method (a token: letters, digits and !#$%&'*+.^_\`|~-)`;
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.includes(upper)) return `method ${upper} is not allowed (CONNECT, TRACE and TRACK are refused)`;
  if (hasBody && (upper === 'GET' || upper === 'HEAD')) return `a ${upper} request cannot have a body; use POST or PUT, or send no body`;
  for (const [name, value] of headers) {
    if (!HTTP_TOKEN.test(name)) return `header name ${quote(name)} is not a valid HTTP header name (a token: no spaces, colons or other separators)`;
    // fetch strips leading and trailing HTTP white space (tab, LF, CR, space) before it checks.
    if (!HEADER_VALUE.test(trimHttpWhitespace(value))) return `the value of header ${quote(name)} is not valid (no line breaks, NUL or characters beyond U+00FF)`;
  }
  return null;
}

function trimHttpWhitespace(value: string): string {
  const white = (i: number) => ' \t\n\r'.includes(value[i]!);
  let start = 0;
  let end = value.length;
  while (start < end && white(start)) start++;
  while (end > start && white(end - 1)) end--;
  return value.slice(start, end);
}

/** A value for a message: quoted, and cut short when long (it came from a worker). */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/** The decoded body's length when the headers say it: a Content-Length and no content coding; else `null`. */
export function declaredLength(headers: { get(name: string): string | null }): number | null {
  const coding = headers.get('content-encoding');
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
  const value = headers.get('content-length');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

export interface FetchRequestMessage {
  type: 'request';
  id: number;
  /** Relative to the endpoint's base URL; checked by the manager. */
  path: string;
  method: string;
  headers: [string, string][];
  /** The request body, whole (no engine streams request bodies over HTTP/1.1); transferred. */
  body: ArrayBuffer | null;
  /** How the handler wants the response body. */
  responseBody: ResponseBodyMode;
  /** The handler's word on repeating the request: `true` opts in, `false` out, `null` leaves it to the method and an Idempotency-Key. */
  idempotent: boolean | null;
  /** The request's own redirect mode (fetch's `redirect`). */
  redirect: RequestRedirectMode;
}

/** Worker → manager: abort request `id` (its signal aborted, or its body was cancelled). */
export interface FetchAbortMessage {
  type: 'abort';
  id: number;
}

/** Worker → manager: the handler read `bytes` more of a streamed body; the manager may post that much more. */
export interface FetchCreditMessage {
  type: 'credit';
  id: number;
  bytes: number;
}

/**
 * The response head and how its body comes: `null` (none), an ArrayBuffer
 * (whole, transferred), or `streamed`: then {@link FetchChunkMessage}s
 * follow, ended by a {@link FetchEndMessage} or a {@link FetchBodyErrorMessage}.
 */
export interface FetchResponseMessage {
  type: 'response';
  id: number;
  /** 0 for an opaque redirect (`redirect: 'manual'`). */
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | 'streamed' | null;
  /** The response's URL, the last of the redirects followed, without credentials. */
  url: string;
  /** That URL relative to the endpoint's base (path and query, no leading `/`), for the facades to show in the handler's own terms. */
  path: string;
  redirected: boolean;
  /** Response.type as the manager's fetch reported it (`basic`, `cors`, `opaqueredirect`). */
  responseType: FetchResponseType;
}

/** One chunk of a streamed body; its buffer is transferred. */
export interface FetchChunkMessage {
  type: 'chunk';
  id: number;
  data: ArrayBuffer;
}

/** A streamed body is complete. */
export interface FetchEndMessage {
  type: 'end';
  id: number;
}

/** A streamed body failed after its head was sent (network error, abort, end of session). */
export interface FetchBodyErrorMessage {
  type: 'body-error';
  id: number;
  error: WireError;
}

/** The request failed before a response (network error after the retries, refused path, abort). */
export interface FetchErrorMessage {
  type: 'error';
  id: number;
  error: WireError;
}

/** The connection closed (the session ended): every request still running has failed with `reason`. */
export interface FetchClosedMessage {
  type: 'closed';
  reason: WireError;
}

export type FetchUp = FetchRequestMessage | FetchAbortMessage | FetchCreditMessage | ChannelDetach;
export type FetchDown = FetchResponseMessage | FetchChunkMessage | FetchEndMessage | FetchBodyErrorMessage | FetchErrorMessage | FetchClosedMessage;
