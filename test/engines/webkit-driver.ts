/**
 * Vitest globalSetup of the WebKit run: an Xvfb display (MiniBrowser has no
 * headless mode) and WebKitWebDriver on `WEBKIT_WEBDRIVER_PORT`, which
 * webkit.config.ts chose. Both children are unref'd so they never keep vitest
 * alive, and are killed when the process exits: the setup's teardown would run
 * before the provider deletes its session.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { webkitDriverPath } from './engine-paths.ts';

const STARTED = Symbol.for('syncmgr.webkit-driver');
const READY_TIMEOUT = 30_000;

export default async function setup(): Promise<void> {
  // Vitest runs a globalSetup once per project of the run: start once.
  const state = globalThis as { [STARTED]?: Promise<void> };
  state[STARTED] ??= start();
  await state[STARTED];
}

async function start(): Promise<void> {
  const port = Number(process.env.WEBKIT_WEBDRIVER_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('WEBKIT_WEBDRIVER_PORT is not set: run WebKit through test/engines/webkit.config.ts.');
  const children: ChildProcess[] = [];
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });

  const display = process.env.WEBKIT_DISPLAY ?? (await startXvfb(children));
  const driver = spawn(webkitDriverPath(), [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(driver);
  driver.unref();
  const deadline = Date.now() + READY_TIMEOUT;
  for (;;) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with code ${driver.exitCode}: is webkit2gtk-driver installed?`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      const body = (await res.json()) as { value?: { ready?: boolean } };
      if (body.value?.ready) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on port ${port} within ${READY_TIMEOUT} ms.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Xvfb on a display it picks itself and answers that display (`:N`). */
function startXvfb(children: ChildProcess[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(xvfb);
    xvfb.unref();
    let out = '';
    xvfb.once('error', (err) => reject(new Error(`Cannot start Xvfb (${err.message}): install the xvfb package or set WEBKIT_DISPLAY.`)));
    xvfb.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\n/.exec(out);
      if (match) {
        xvfb.stdout!.destroy();
        resolve(`:${match[1]}`);
      }
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with code ${code} before it chose a display.`)));
  });
}
