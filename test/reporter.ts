import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * Prints one plain closing line after vitest's own summary, across every
 * project of the run (unit and browser):
 *
 *     N passed, N failed            or    N passed, N failed, N skipped
 *
 * Skipped includes `todo`. Failed counts failed tests, plus one for each test
 * file that failed to load and each suite or file whose hooks failed (errors
 * outside any test), plus each unhandled error. List it after 'default'.
 */
export default class CountsReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;

    for (const testModule of testModules) {
      let failedHere = 0;
      for (const test of testModule.children.allTests()) {
        const { state } = test.result();
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else if (state === 'skipped') skipped++;
      }
      // Errors outside any test: a file that failed to load (syntax error,
      // failed import), or a beforeAll/afterAll hook that threw.
      if (testModule.errors().length > 0) failedHere++;
      for (const suite of testModule.children.allSuites()) {
        if (suite.errors().length > 0) failedHere++;
      }
      if (failedHere === 0 && testModule.state() === 'failed') failedHere = 1;
      failed += failedHere;
    }

    failed += unhandledErrors.length;
    // Never close a failed run on "0 failed" (e.g. no test file found).
    if (reason === 'failed' && failed === 0) failed = 1;

    const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`${line}\n`);
  }
}
