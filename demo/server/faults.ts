// Fault injection: what a test can make the server do wrong, per tenant.
// A patch is validated as a whole before anything changes, so a bad request
// never leaves a tenant half-configured.

import type { ApiFail, ApiReset, Faults } from './types.ts';
import { CHANNEL_RULE, isValidChannel } from './routes.ts';
import { type Checked, checkInteger, checkStringArray, describe, fail, isRecord, ok } from './validate.ts';

/** Longest injectable API delay: long enough for any timeout test, short enough not to wedge a run. */
export const MAX_API_DELAY_MS = 120_000;

export function noFaults(): Faults {
  return { refuse: [], hang: [], mute: [], stall: [], apiDelayMs: 0, apiFail: null, apiReset: null };
}

export function copyFaults(f: Faults): Faults {
  return {
    refuse: [...f.refuse],
    hang: [...f.hang],
    mute: [...f.mute],
    stall: [...f.stall],
    apiDelayMs: f.apiDelayMs,
    apiFail: f.apiFail && copyApiFail(f.apiFail),
    apiReset: f.apiReset && copyApiReset(f.apiReset),
  };
}

/** Validates a partial `Faults` object (unknown keys are refused, to catch typos). */
export function parseFaultsPatch(raw: Record<string, unknown>): Checked<Partial<Faults>> {
  const patch: Partial<Faults> = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'refuse':
      case 'hang':
      case 'mute':
      case 'stall': {
        const channels = checkStringArray(key, value, isValidChannel, `channel names (${CHANNEL_RULE})`);
        if (!channels.ok) return channels;
        patch[key] = channels.value;
        break;
      }
      case 'apiDelayMs': {
        const delay = checkInteger('apiDelayMs', value, 0, MAX_API_DELAY_MS);
        if (!delay.ok) return delay;
        patch.apiDelayMs = delay.value;
        break;
      }
      case 'apiFail': {
        const apiFail = parseApiFail(value);
        if (!apiFail.ok) return apiFail;
        patch.apiFail = apiFail.value;
        break;
      }
      case 'apiReset': {
        const apiReset = parseApiReset(value);
        if (!apiReset.ok) return apiReset;
        patch.apiReset = apiReset.value;
        break;
      }
      default:
        return fail(`unknown fault ${JSON.stringify(key)}: expected refuse, hang, mute, stall, apiDelayMs, apiFail or apiReset`);
    }
  }
  return ok(patch);
}

/** Top-level merge: each key present in the patch replaces the current value. */
export function applyFaultsPatch(faults: Faults, patch: Partial<Faults>): void {
  if (patch.refuse) faults.refuse = [...patch.refuse];
  if (patch.hang) faults.hang = [...patch.hang];
  if (patch.mute) faults.mute = [...patch.mute];
  if (patch.stall) faults.stall = [...patch.stall];
  if (patch.apiDelayMs !== undefined) faults.apiDelayMs = patch.apiDelayMs;
  if (patch.apiFail !== undefined) faults.apiFail = patch.apiFail && copyApiFail(patch.apiFail);
  if (patch.apiReset !== undefined) faults.apiReset = patch.apiReset && copyApiReset(patch.apiReset);
}

/**
 * Decides whether the API request for `path` is cut (the `apiReset` fault),
 * consuming one from its `count` like {@link takeApiFailure}.
 */
export function takeApiReset(faults: Faults, path: string): boolean {
  const f = faults.apiReset;
  if (!f) return false;
  if (f.paths && !f.paths.includes(path)) return false;
  if (f.count !== undefined) {
    if (f.count <= 0) {
      faults.apiReset = null;
      return false;
    }
    f.count -= 1;
    if (f.count === 0) faults.apiReset = null;
  }
  return true;
}

/** An injected failure to answer instead of routing. */
export interface InjectedFailure {
  status: number;
  retryAfter?: number;
}

/**
 * Decides whether the API request for `path` fails, and if so consumes one
 * failure from `count` (the fault is cleared when none are left). Called once
 * per request, on arrival, so counts follow arrival order.
 */
export function takeApiFailure(faults: Faults, path: string): InjectedFailure | null {
  const f = faults.apiFail;
  if (!f) return null;
  if (f.paths && !f.paths.includes(path)) return null;
  if (f.count !== undefined) {
    if (f.count <= 0) {
      faults.apiFail = null;
      return null;
    }
    f.count -= 1;
    if (f.count === 0) faults.apiFail = null;
  }
  return f.retryAfter === undefined ? { status: f.status } : { status: f.status, retryAfter: f.retryAfter };
}

function parseApiFail(raw: unknown): Checked<ApiFail | null> {
  if (raw === null) return ok(null);
  if (!isRecord(raw)) return fail(`apiFail must be null or an object, got ${describe(raw)}`);
  const status = checkInteger('apiFail.status', raw.status, 400, 599);
  if (!status.ok) return status;
  const result: ApiFail = { status: status.value };
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    switch (key) {
      case 'status':
        break;
      case 'count': {
        const count = checkInteger('apiFail.count', value, 0, 1_000_000);
        if (!count.ok) return count;
        result.count = count.value;
        break;
      }
      case 'retryAfter': {
        const retryAfter = checkInteger('apiFail.retryAfter', value, 0, 86_400);
        if (!retryAfter.ok) return retryAfter;
        result.retryAfter = retryAfter.value;
        break;
      }
      case 'paths': {
        const paths = checkStringArray('apiFail.paths', value, (p) => p.length <= 1024, 'API paths such as "notes" or "notes/n1"');
        if (!paths.ok) return paths;
        result.paths = paths.value;
        break;
      }
      default:
        return fail(`unknown apiFail field ${JSON.stringify(key)}: expected status, count, retryAfter or paths`);
    }
  }
  return ok(result);
}

function parseApiReset(raw: unknown): Checked<ApiReset | null> {
  if (raw === null) return ok(null);
  if (!isRecord(raw)) return fail(`apiReset must be null or an object, got ${describe(raw)}`);
  const result: ApiReset = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (key === 'count') {
      const count = checkInteger('apiReset.count', value, 0, 1_000_000);
      if (!count.ok) return count;
      result.count = count.value;
    } else if (key === 'paths') {
      const paths = checkStringArray('apiReset.paths', value, (p) => p.length <= 1024, 'API paths such as "notes" or "notes/n1"');
      if (!paths.ok) return paths;
      result.paths = paths.value;
    } else {
      return fail(`unknown apiReset field ${JSON.stringify(key)}: expected count or paths`);
    }
  }
  return ok(result);
}

function copyApiReset(f: ApiReset): ApiReset {
  return { ...f, ...(f.paths ? { paths: [...f.paths] } : {}) };
}

function copyApiFail(f: ApiFail): ApiFail {
  return { ...f, ...(f.paths ? { paths: [...f.paths] } : {}) };
}
