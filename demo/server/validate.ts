// Input validation shared by the API and control routes. Every check answers
// a message meant for the client (it becomes a 400 body), never throws.

/** The outcome of validating one input. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Checked<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): Checked<T> {
  return { ok: false, error };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a request body as a JSON object. An empty body is `{}` when
 * `emptyIsObject` (control verbs whose fields are all optional).
 */
export function parseJsonObject(body: Uint8Array, emptyIsObject: boolean): Checked<Record<string, unknown>> {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.trim() === '') return emptyIsObject ? ok({}) : fail('request body must be a JSON object, got an empty body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(value)) return fail('request body must be a JSON object');
  return ok(value);
}

/** A JSON number that is an integer within [min, max]. */
export function checkInteger(name: string, raw: unknown, min: number, max: number): Checked<number> {
  if (typeof raw !== 'number') return fail(`${name} must be an integer, got ${describe(raw)}`);
  if (!Number.isSafeInteger(raw)) return fail(`${name} must be an integer, got ${raw}`);
  if (raw < min || raw > max) return fail(`${name} must be between ${min} and ${max}, got ${raw}`);
  return ok(raw);
}

/** A query parameter holding a decimal integer (optionally negative) within [min, max]; null means absent. */
export function checkIntegerParam(name: string, raw: string | null, min: number, max: number): Checked<number> {
  if (raw === null) return fail(`query parameter ${name} is required`);
  if (!/^-?\d{1,16}$/.test(raw)) return fail(`query parameter ${name} must be an integer, got ${JSON.stringify(raw)}`);
  return checkInteger(`query parameter ${name}`, Number(raw), min, max);
}

/** An array of strings that each pass `valid`. */
export function checkStringArray(name: string, raw: unknown, valid: (s: string) => boolean, expected: string): Checked<string[]> {
  if (!Array.isArray(raw)) return fail(`${name} must be an array of strings, got ${describe(raw)}`);
  for (const item of raw) {
    if (typeof item !== 'string') return fail(`${name} must contain strings only, got ${describe(item)}`);
    if (!valid(item)) return fail(`${name} contains ${JSON.stringify(item)}: expected ${expected}`);
  }
  return ok([...(raw as string[])]);
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
