/**
 * Runs the measurement scripts of bench/engines/ (`*.measure.ts`) in one
 * engine, with that engine's test config: `ENGINE=chromium|firefox|webkit
 * npx vitest run --config bench/engines/measure.config.ts`. They print their
 * figures (one JSON line each) and assert nothing.
 */
import type { ViteUserConfig as UserConfig } from 'vitest/config';

const engine = process.env.ENGINE ?? 'chromium';
const { default: base } = (engine === 'webkit'
  ? await import('../../test/engines/webkit.config.ts')
  : engine === 'firefox'
    ? await import('../../test/engines/firefox.config.ts')
    : await import('../../vite.config.ts')) as { default: UserConfig };

type Project = { test?: { browser?: unknown; include?: string[]; testTimeout?: number } };
const projects = (base.test?.projects ?? []) as Project[];

export default {
  ...base,
  test: {
    ...base.test,
    projects: projects.filter((p) => typeof p === 'object' && p.test?.browser).map((p) => ({
      ...p,
      test: { ...p.test, include: ['bench/engines/**/*.measure.ts'], testTimeout: 900_000 },
    })),
  },
} as UserConfig;
