import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { endpointServer } from './demo/server/plugin.ts';
import { chromiumPath } from './scripts/chromium-path.ts';
import { browserProject } from './test/engines/browser-project.ts';

// One config for the demo (vite / vite preview), the library build and both test projects.
export default defineConfig({
  root: '.',
  plugins: [endpointServer()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    sourcemap: true,
    lib: {
      entry: { index: 'src/index.ts', handler: 'src/handler.ts' },
      formats: ['es'],
    },
    rollupOptions: { external: ['comlink', 'idb-keyval'] },
  },
  test: {
    reporters: ['default', './test/reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['test/unit/**/*.test.ts'] },
      },
      // `npm test` runs Chromium only; test/engines/ holds Firefox and WebKit.
      browserProject('browser', {
        headless: true,
        provider: playwright({ launchOptions: { executablePath: chromiumPath() } }),
        instances: [{ browser: 'chromium' }],
      }),
    ],
  },
});
