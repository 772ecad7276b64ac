import { createServer } from 'node:net';
import { defineConfig } from 'vitest/config';
import { webdriverio } from '@vitest/browser-webdriverio';
import base from '../../vite.config.ts';
import { browserProject } from './browser-project.ts';
import { miniBrowserPath } from './engine-paths.ts';

/**
 * The browser suite in WebKitGTK's MiniBrowser, driven through WebKitWebDriver
 * (classic WebDriver; Playwright's WebKit needs its own patched build). The
 * provider knows only `safari` and writes that into `browserName`, which this
 * driver accepts only as `MiniBrowser`: the session request is rewritten.
 * MiniBrowser has no headless mode; test/engines/webkit-driver.ts gives it
 * an Xvfb display. Run: `npm run test:webkit`.
 */

/** A free loopback port for the driver, chosen once per process (the config may be evaluated more than once). */
async function driverPort(): Promise<number> {
  if (process.env.WEBKIT_WEBDRIVER_PORT) return Number(process.env.WEBKIT_WEBDRIVER_PORT);
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  process.env.WEBKIT_WEBDRIVER_PORT = String(port);
  return port;
}

const port = await driverPort();

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: [
      browserProject(
        'webkit',
        {
          // The provider refuses headless for safari; Xvfb is the display.
          headless: false,
          provider: webdriverio({
            hostname: '127.0.0.1',
            port,
            path: '/',
            transformRequest: (request) => {
              if (typeof request.body === 'string') request.body = request.body.replaceAll('"browserName":"safari"', '"browserName":"MiniBrowser"');
              return request;
            },
            // WebKitWebDriver 2.50 offers no BiDi; its vendor capability is not in webdriverio's types.
            capabilities: {
              'wdio:enforceWebDriverClassic': true,
              ...{ 'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation'] } },
            },
          }),
          instances: [{ browser: 'safari' }],
        },
        { globalSetup: ['test/engines/webkit-driver.ts'] },
      ),
    ],
  },
});
