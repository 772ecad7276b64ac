/**
 * The endpoint's secret header values, and withholding the response headers
 * that quote one (a server that reflects request headers, such as
 * `x-seen-authorization: Bearer …`, must not hand the token to the handler).
 *
 * A secret is the value of any header the endpoint adds, except the
 * CORS-safelisted request headers (Accept, Accept-Language,
 * Content-Language, Content-Type), whose values describe content rather than
 * grant access; and each part of such a value separated by spaces or commas
 * (so `Bearer <token>` also protects the token alone). Values and parts
 * shorter than {@link MIN_SECRET_LENGTH} characters are not treated as
 * secrets: they would match ordinary response headers by chance (`1`, `yes`,
 * `Bearer`). A response header is withheld when its value contains a secret,
 * compared ignoring case. Bodies are never filtered.
 */

/** The shortest header value treated as a secret. */
export const MIN_SECRET_LENGTH = 8;

/** Request headers whose values are not secrets (the CORS-safelisted request headers). */
export const NON_SECRET_HEADERS: readonly string[] = ['accept', 'accept-language', 'content-language', 'content-type'];

export class SecretHeaders {
  readonly #values = new Set<string>();

  /** Notes the value of a header the endpoint added. */
  add(name: string, value: string): void {
    if (NON_SECRET_HEADERS.includes(name.toLowerCase())) return;
    for (const secret of [value.trim(), ...value.split(/[\s,]+/)]) {
      if (secret.length >= MIN_SECRET_LENGTH) this.#values.add(secret.toLowerCase());
    }
  }

  /** Whether `text` contains one of the secrets (ignoring case). */
  quotedIn(text: string): boolean {
    if (this.#values.size === 0) return false;
    const lower = text.toLowerCase();
    for (const secret of this.#values) if (lower.includes(secret)) return true;
    return false;
  }

  /** The response's headers without those whose value quotes a secret. */
  withheldFrom(headers: Headers): [string, string][] {
    return [...headers].filter(([, value]) => !this.quotedIn(value));
  }
}
