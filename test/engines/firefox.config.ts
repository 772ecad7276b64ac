import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import base from '../../vite.config.ts';
import { browserProject } from './browser-project.ts';
import { firefoxPath } from './engine-paths.ts';

/**
 * The browser suite in Firefox ESR, driven over WebDriver BiDi by Playwright's
 * `moz-firefox` channel (stock Firefox, no Juggler build, no geckodriver).
 * Run: `npm run test:firefox`.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: [
      browserProject('firefox', {
        headless: true,
        provider: playwright({ launchOptions: { channel: 'moz-firefox', executablePath: firefoxPath() } }),
        instances: [{ browser: 'firefox' }],
      }),
    ],
  },
});
