#!/usr/bin/env node
// `npm run test:engines`: the suites in every engine, one after the other, in
// one command: Chromium (the unit tests and the browser suite, as `npm test`),
// Firefox ESR, WebKitGTK and Deno. Each engine runs as its own process (WebKit
// must run apart from the others; Firefox runs as three, see FIREFOX_SHARDS);
// its output passes through, and the run ends
// with a table of every engine's counts and wall time and one closing line
// `N passed, N failed` over all of them. Exits non-zero when any engine failed.
//
//   node scripts/test-engines.mjs [chromium] [firefox] [webkit] [deno]   (default: all four)
// Missing browsers of the run are installed first (scripts/ensure-engines.mjs).

import { spawn, spawnSync } from 'node:child_process';

const vitest = ['node_modules/vitest/vitest.mjs', 'run'];
// Firefox's parent process grows by hundreds of MB a minute under the suite when driven over WebDriver
// BiDi, and it grows busier with it, until a page's requests wait seconds for it; so its suite runs in
// FIREFOX_SHARDS parts (vitest --shard), each in a browser of its own, one after the other.
const FIREFOX_SHARDS = 3;
const firefox = [...vitest, '--config', 'test/engines/firefox.config.ts'];
const RUNS = {
  chromium: [[process.execPath, vitest]],
  firefox: Array.from({ length: FIREFOX_SHARDS }, (_, i) => [process.execPath, [...firefox, `--shard=${i + 1}/${FIREFOX_SHARDS}`]]),
  webkit: [[process.execPath, [...vitest, '--config', 'test/engines/webkit.config.ts']]],
  deno: [['npm', ['run', '--silent', 'test:deno']]],
};

// vitest's reporter (test/reporter.ts) closes with the first line, `deno test` with the second.
const COUNTS = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;
const DENO_COUNTS = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/;

function countsOf(line) {
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '').trim();
  const m = COUNTS.exec(plain) ?? DENO_COUNTS.exec(plain);
  return m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : null;
}

/** Runs each process of `engine` in turn; its counts are their sums. */
async function runEngine(engine) {
  const started = Date.now();
  const total = { engine, passed: 0, failed: 0, skipped: 0, code: 0 };
  for (const [cmd, args] of RUNS[engine]) {
    const r = await runProcess(cmd, args);
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
    if (r.code !== 0) total.code = r.code;
  }
  return { ...total, seconds: (Date.now() - started) / 1000 };
}

function runProcess(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    let counts = null;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail += chunk.toString();
      const lines = tail.split('\n');
      tail = lines.pop();
      for (const line of lines) counts = countsOf(line) ?? counts;
    });
    child.on('close', (code, signal) => {
      counts = countsOf(tail) ?? counts;
      // A run that exits non-zero without a failure counted (it crashed, or found no tests) still failed.
      if (counts === null) counts = { passed: 0, failed: 1, skipped: 0 };
      else if (code !== 0 && counts.failed === 0) counts.failed = 1;
      resolve({ ...counts, code: code ?? signal });
    });
  });
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => !(a in RUNS));
if (unknown.length > 0) {
  console.error(`test-engines: unknown engine ${unknown.join(', ')}; known: ${Object.keys(RUNS).join(', ')}.`);
  process.exit(2);
}
const engines = args.length > 0 ? args : Object.keys(RUNS);
// The browsers of this run, installed when missing (scripts/ensure-engines.mjs); Deno comes with npm ci.
const browsers = engines.filter((e) => e !== 'deno');
if (browsers.length > 0) {
  const ensured = spawnSync(process.execPath, ['scripts/ensure-engines.mjs', ...browsers], { stdio: 'inherit' });
  if (ensured.status !== 0) process.exit(1);
}
const results = [];
for (const engine of engines) {
  console.log(`\n==> ${engine}`);
  results.push(await runEngine(engine));
}

console.log('\nengine     passed  failed  skipped  wall');
for (const r of results) {
  console.log(`${r.engine.padEnd(10)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}  ${r.seconds.toFixed(0)} s`);
}
const total = (key) => results.reduce((n, r) => n + r[key], 0);
const skipped = total('skipped');
console.log(`${total('passed')} passed, ${total('failed')} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = total('failed') > 0 ? 1 : 0;
