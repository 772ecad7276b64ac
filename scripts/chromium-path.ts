import { existsSync } from 'node:fs';
import candidates from './chromium-candidates.json' with { type: 'json' };

/** Candidate locations of a system Chromium, most specific first (shared with `ensure-chromium.mjs`). */
const CANDIDATES: readonly string[] = candidates;

/**
 * The Chromium the browser tests and benchmarks drive: `CHROMIUM_PATH` when set,
 * else the first system Chromium found, else `/usr/bin/chromium` (which
 * `scripts/ensure-chromium.mjs` installs or explains how to install).
 */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;
}
