import type { TestProjectInlineConfiguration } from 'vitest/config';
import { interopServers } from '../interop/servers/plugin.ts';

type BrowserOptions = NonNullable<NonNullable<TestProjectInlineConfiguration['test']>['browser']>;

/** Where each engine's suite lives; the same files run in every engine. */
export const BROWSER_SUITE = ['test/browser/**/*.test.ts', 'test/interop/**/*.test.ts'];

/**
 * One browser project of the suite: the same test files in every engine, with
 * the engine's own driver. `name` is what vitest prints before each file
 * (`|chromium|`, `|firefox|`, `|webkit|`).
 */
export function browserProject(name: string, browser: BrowserOptions, extra: { globalSetup?: string[] } = {}): TestProjectInlineConfiguration {
  return {
    extends: true,
    // The sync libraries' own servers, for the interop tests (test/interop/).
    plugins: [interopServers()],
    // Libraries that only handler workers import are found late by Vite's dependency scan (it reads the
    // test files, not the workers they start), and a late find reloads the page under a running test.
    optimizeDeps: { include: ['yjs', 'y-websocket', 'y-indexeddb', 'graphql-ws', 'pouchdb-browser', '@automerge/automerge-repo/slim', '@automerge/automerge-repo-network-websocket'] },
    test: {
      name,
      include: BROWSER_SUITE,
      testTimeout: 20_000,
      ...extra,
      // Firefox has been seen to need more than a minute to start on a busy 2-core machine.
      browser: { enabled: true, screenshotFailures: false, connectTimeout: 180_000, ...browser },
    },
  };
}
