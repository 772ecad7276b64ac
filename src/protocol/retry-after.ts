/**
 * Reading a server's `Retry-After` (RFC 9110 §10.2.3), shared by the fetch
 * retries of the connections and the errors that carry one across the worker
 * boundary (sync-error.ts).
 */

const SECONDS = /^\d+$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * Reads a `Retry-After` value as a delay in ms from `now`: delay-seconds
 * (`120`) or an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete
 * RFC 850 and asctime forms). A date in the past means 0. Anything else
 * (absent, empty, negative, fractional, a malformed or impossible date) is `null`.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (SECONDS.test(text)) return Math.min(Number(text) * 1000, Number.MAX_SAFE_INTEGER);
  const date = parseHttpDate(text, now);
  return date === null ? null : Math.max(0, date - now);
}

/** An HTTP-date as epoch ms, or null. `now` places RFC 850's two-digit years (RFC 9110: never more than 50 years ahead). */
export function parseHttpDate(text: string, now: number): number | null {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC_850.exec(text);
  if (m) {
    const yy = Number(m[3]);
    let year = 2000 + yy;
    if (year > new Date(now).getUTCFullYear() + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(text);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return null;
}

function utc(year: number, month: string, day: number, h: string, min: string, s: string): number | null {
  const monthIndex = MONTHS.indexOf(month);
  const [hours, minutes, seconds] = [Number(h), Number(min), Number(s)];
  if (hours > 23 || minutes > 59 || seconds > 60) return null;
  const time = Date.UTC(year, monthIndex, day, hours, minutes, Math.min(seconds, 59));
  // Date.UTC rolls 31 Feb over into March: refuse dates that do not exist.
  if (new Date(time).getUTCDate() !== day) return null;
  return time;
}
