#!/usr/bin/env node
// Makes sure every engine of `npm run test:engines` exists before it runs:
// Chromium (scripts/ensure-chromium.mjs), Firefox ESR, and WebKitGTK's
// MiniBrowser with WebKitWebDriver and Xvfb. What is missing is installed with
// apt-get when we run as root on Debian; otherwise the message says what to
// install. The same environment variables as test/engines/engine-paths.ts
// point at other binaries. Plain Node ESM without dependencies.
//
//   node scripts/ensure-engines.mjs [chromium] [firefox] [webkit]   (default: all three)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ARCH_LIB = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

/** Per engine: the binaries it needs (env override, default path) and the Debian packages that ship them. */
const ENGINES = {
  firefox: {
    binaries: [{ env: 'FIREFOX_PATH', path: '/usr/bin/firefox-esr' }],
    packages: ['firefox-esr'],
  },
  webkit: {
    binaries: [
      { env: 'WEBKIT_WEBDRIVER_PATH', path: '/usr/bin/WebKitWebDriver' },
      { env: 'MINIBROWSER_PATH', path: `/usr/lib/${ARCH_LIB}/webkit2gtk-4.1/MiniBrowser` },
      { env: null, path: '/usr/bin/Xvfb' },
    ],
    packages: ['webkit2gtk-driver', 'xvfb'],
  },
};

class Failure extends Error {}

const where = (b) => (b.env && process.env[b.env]) || b.path;
const missing = (engine) => ENGINES[engine].binaries.filter((b) => !existsSync(where(b)));

function run(cmd, args) {
  console.log(`ensure-engines: running ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error || r.status !== 0) throw new Failure(`\`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `exit code ${r.status}`}).`);
}

function main(wanted) {
  if (wanted.includes('chromium')) {
    const r = spawnSync(process.execPath, [new URL('./ensure-chromium.mjs', import.meta.url).pathname], { stdio: 'inherit' });
    if (r.status !== 0) throw new Failure('Chromium is missing (see above).');
  }
  const lacking = wanted.filter((e) => e in ENGINES && missing(e).length > 0);
  if (lacking.length === 0) return;
  const packages = lacking.flatMap((e) => ENGINES[e].packages);
  const hint = `Install them with \`sudo apt-get install -y ${packages.join(' ')}\` (Debian 12), or point ${lacking.flatMap((e) => ENGINES[e].binaries.filter((b) => b.env).map((b) => b.env)).join(', ')} at existing binaries.`;
  const isRoot = process.getuid?.() === 0;
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' });
  if (!isRoot || apt.error || apt.status !== 0) {
    throw new Failure(`Missing for ${lacking.join(' and ')}: ${lacking.flatMap(missing).map(where).join(', ')}. ${hint}`);
  }
  console.log(`ensure-engines: installing ${packages.join(' ')} with apt-get for ${lacking.join(' and ')}.`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', ...packages]);
  const still = lacking.flatMap(missing);
  if (still.length > 0) throw new Failure(`apt-get installed ${packages.join(' ')}, but ${still.map(where).join(', ')} still do not exist. ${hint}`);
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['chromium', 'firefox', 'webkit'].includes(a));
try {
  if (unknown.length > 0) throw new Failure(`unknown engine ${unknown.join(', ')}; known: chromium, firefox, webkit.`);
  main(args.length > 0 ? args : ['chromium', 'firefox', 'webkit']);
} catch (err) {
  console.error(`ensure-engines: ${err instanceof Failure ? err.message : err?.stack ?? err}`);
  process.exitCode = 1;
}
