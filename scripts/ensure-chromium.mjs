#!/usr/bin/env node
// Makes sure the Chromium that the browser tests drive exists before `vitest run`.
//
// Same rule as scripts/chromium-path.ts: CHROMIUM_PATH when set, else the first
// of scripts/chromium-candidates.json that exists. When none exists and we run
// as root with apt-get, install Debian's `chromium`; otherwise say how to.
// Plain Node ESM without dependencies; never prints a stack trace.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const INSTALL_HINT =
  'Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), ' +
  'or set CHROMIUM_PATH to an existing Chromium or Chrome binary.';

class Failure extends Error {}

function fail(message) {
  throw new Failure(message);
}

function readCandidates() {
  const url = new URL('./chromium-candidates.json', import.meta.url);
  let list;
  try {
    list = JSON.parse(readFileSync(url, 'utf8'));
  } catch (err) {
    fail(`Cannot read the Chromium candidate list ${url.pathname}: ${describe(err)}.`);
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p)) {
    fail(`${url.pathname} must be a non-empty JSON array of paths.`);
  }
  return list;
}

function describe(err) {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}

/** `<path> --version`: the version line, or null when the binary does not run. */
function versionOf(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  return (r.stdout || '').trim().split('\n')[0] || path;
}

/** The Chromium to use, or null when none of the candidates exists. */
function findChromium(candidates) {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      fail(`CHROMIUM_PATH is set to ${fromEnv}, which does not exist. ` +
        'Point CHROMIUM_PATH at an existing Chromium or Chrome binary, or unset it to use a system Chromium ' +
        `(${candidates.join(', ')}).`);
    }
    return fromEnv;
  }
  return candidates.find((p) => existsSync(p)) ?? null;
}

function checkRuns(path) {
  const version = versionOf(path);
  if (version === null) {
    fail(`Chromium at ${path} exists but \`${path} --version\` does not run: ` +
      `it is not a working Chromium or Chrome. ${INSTALL_HINT}`);
  }
  return version;
}

function run(cmd, args) {
  console.log(`ensure-chromium: running ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error) fail(`Could not start \`${cmd} ${args.join(' ')}\`: ${describe(r.error)}. ${INSTALL_HINT}`);
  if (r.status !== 0) {
    fail(`\`${cmd} ${args.join(' ')}\` failed (${r.status === null ? `signal ${r.signal}` : `exit code ${r.status}`}). ${INSTALL_HINT}`);
  }
}

function hasAptGet() {
  const r = spawnSync('apt-get', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function main() {
  const candidates = readCandidates();
  let path = findChromium(candidates);
  if (path !== null) {
    checkRuns(path);
    return;
  }

  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasAptGet()) {
    fail(`No Chromium found (looked at ${candidates.join(', ')}); the browser tests need one. ${INSTALL_HINT}`);
  }

  console.log(`ensure-chromium: no Chromium found (looked at ${candidates.join(', ')}); installing Debian's chromium package with apt-get.`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'chromium']);

  path = findChromium(candidates);
  if (path === null) {
    fail(`apt-get installed chromium, but still no Chromium at ${candidates.join(', ')}. ` +
      'Set CHROMIUM_PATH to an existing Chromium or Chrome binary.');
  }
  console.log(`ensure-chromium: using ${checkRuns(path)} at ${path}`);
}

try {
  main();
} catch (err) {
  const message = err instanceof Failure ? err.message : `Unexpected error: ${describe(err)}. ${INSTALL_HINT}`;
  console.error(`ensure-chromium: ${message}`);
  process.exitCode = 1;
}
