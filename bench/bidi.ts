/**
 * A bare WebDriver BiDi client and a headless Firefox started by hand: the
 * counterpart of cdp.ts for Firefox, which serves BiDi itself (no geckodriver).
 * The page is driven with browsingContext and script only; no module that
 * reports network traffic is subscribed to, so frames and requests pass
 * uninstrumented, as with the bare DevTools connection.
 *
 * What Firefox cannot give the driver (engine.ts's `unavailable`):
 * - task time: BiDi has no counterpart of DevTools' Performance.getMetrics;
 * - long tasks: the page's feature test (PerformanceObserver.supportedEntryTypes
 *   without 'longtask') decides, in the driver.
 * The page's JS heap is read from the chrome side, which BiDi reaches with
 * `--remote-allow-system-access`: the memory reporter of the page's content
 * process (the JS GC things of its main runtime), after `TestUtils.gc()` (a
 * full GC and CC, exposed to the page by the `dom.testing.testutils.enabled`
 * pref) has run in the page.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { killWithParent } from './child-guard.ts';
import { withTimeout, type BenchBrowser, type BenchPage } from './engine.ts';
import { cmdline, processTree } from './proc.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  method: string;
}

type BidiMessage =
  | { type: 'success'; id: number; result: unknown }
  | { type: 'error'; id: number | null; error: string; message: string }
  | { type: 'event'; method: string; params: Record<string, unknown> };

export class Bidi {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, ((params: Record<string, unknown>) => void)[]>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as BidiMessage;
      if (message.type === 'event') {
        for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params);
        return;
      }
      if (message.id === null) return;
      const p = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.type === 'error') p?.reject(new Error(`${p.method}: ${message.error}: ${message.message}`));
      else p?.resolve(message.result);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error(`${p.method}: the BiDi connection closed`));
      this.#pending.clear();
    });
  }

  static connect(url: string): Promise<Bidi> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
      ws.once('open', () => resolve(new Bidi(ws)));
      ws.once('error', reject);
    });
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(method: string, listener: (params: Record<string, unknown>) => void): void {
    let list = this.#listeners.get(method);
    if (!list) this.#listeners.set(method, (list = []));
    list.push(listener);
  }

  close(): void {
    this.#ws.close();
  }
}

interface EvaluateResult {
  type: 'success' | 'exception';
  result?: { type: string; value?: unknown };
  exceptionDetails?: { text: string; lineNumber?: number };
}

/**
 * Evaluates `expression` (awaiting a promise) in a browsing context's window
 * and answers its value. The value comes back as JSON text: BiDi's own
 * serialization turns objects into typed remote values.
 */
async function evaluateIn<T>(bidi: Bidi, context: string, expression: string, timeoutMs: number): Promise<T> {
  const answer = await withTimeout(
    bidi.send<EvaluateResult>('script.evaluate', {
      expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context },
      awaitPromise: true,
      resultOwnership: 'none',
    }),
    timeoutMs,
    () => expression.slice(0, 120),
  );
  if (answer.type === 'exception') throw new Error(`page threw: ${answer.exceptionDetails?.text ?? 'an exception'}`);
  const text = answer.result?.value;
  return (typeof text === 'string' ? JSON.parse(text) : undefined) as T;
}

/** The live JS GC things (all kinds) of the main runtime of the process whose window shows `url`, in bytes (chrome realm). */
const HEAP_OF_PAGE = (url: string) => `new Promise(async (resolve, reject) => {
  const info = await ChromeUtils.requestProcInfo();
  const page = info.children.find((c) => c.windows.some((w) => w.documentURI && w.documentURI.spec === ${JSON.stringify(url)}));
  if (!page) return reject(new Error('no content process shows ' + ${JSON.stringify(url)}));
  const manager = Cc['@mozilla.org/memory-reporter-manager;1'].getService(Ci.nsIMemoryReporterManager);
  let used = null;
  manager.getReports(
    (process, path, _kind, _units, amount) => {
      if (path.startsWith('js-main-runtime-gc-heap-committed/used/gc-things/') && process.endsWith('(pid ' + page.pid + ')')) used = (used ?? 0) + amount;
    },
    null,
    () => (used === null ? reject(new Error('no JS heap report from pid ' + page.pid)) : resolve({ pid: page.pid, used })),
    null,
    false,
  );
})`;

export class BidiPage implements BenchPage {
  readonly bidi: Bidi;
  readonly context: string;
  readonly url: string;
  readonly #chromeContext: string | null;

  constructor(bidi: Bidi, context: string, url: string, chromeContext: string | null) {
    this.bidi = bidi;
    this.context = context;
    this.url = url;
    this.#chromeContext = chromeContext;
  }

  evaluate<T>(expression: string, timeoutMs = 900_000): Promise<T> {
    return evaluateIn<T>(this.bidi, this.context, expression, timeoutMs);
  }

  call<T>(name: string, ...args: unknown[]): Promise<T> {
    return this.evaluate<T>(`window.bench.${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
  }

  async prepare(): Promise<void> {}

  /** BiDi has no task-time counter. */
  async taskDuration(): Promise<null> {
    return null;
  }

  async heapUsed(): Promise<number | null> {
    if (this.#chromeContext === null) return null;
    if (!(await this.evaluate<boolean>("typeof TestUtils === 'object' && typeof TestUtils.gc === 'function'"))) return null;
    for (let i = 0; i < 3; i++) {
      await this.evaluate('TestUtils.gc()');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { used } = await evaluateIn<{ pid: number; used: number }>(this.bidi, this.#chromeContext, HEAP_OF_PAGE(this.url), 60_000);
    return used;
  }
}

/**
 * Preferences written to the fresh profile's user.js: no first-run pages, no
 * background traffic (remote settings, experiments, safe browsing, updates,
 * telemetry, connectivity checks), no throttling of timers, no hang
 * monitor or slow-script dialog, and TestUtils for forced GCs.
 */
const PREFS: Record<string, string | number | boolean> = {
  'browser.startup.page': 0,
  'browser.startup.homepage': 'about:blank',
  'browser.startup.homepage_override.mstone': 'ignore',
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.newtabpage.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.sessionstore.resume_from_crash': false,
  'browser.warnOnQuit': false,
  'browser.aboutwelcome.enabled': false,
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'messaging-system.rsexperimentloader.enabled': false,
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.update.disabledForTesting': true,
  'app.update.checkInstallTime': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'browser.search.update': false,
  'media.gmp-manager.updateEnabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'network.connectivity-service.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.http.speculative-parallel-limit': 0,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'dom.security.https_first': false,
  'dom.ipc.reportProcessHangs': false,
  'hangmonitor.timeout': 0,
  'dom.max_script_run_time': 0,
  'dom.max_chrome_script_run_time': 0,
  'dom.min_background_timeout_value': 0,
  'dom.min_background_timeout_value_without_budget_throttling': 0,
  'dom.timeout.enable_budget_timer_throttling': false,
  'layout.testing.top-level-always-active': true,
  'dom.testing.testutils.enabled': true,
};

export interface FirefoxBrowser extends BenchBrowser {
  readonly bidi: Bidi;
  open(url: string): Promise<BidiPage>;
}

/** `firefox --version`, e.g. "Mozilla Firefox 153.8.0esr". */
export function firefoxVersion(executable: string): string {
  try {
    return execFileSync(executable, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Starts headless Firefox with a fresh profile and BiDi on a free port, opens
 * a session and answers the browser. As root, Firefox needs $HOME owned by
 * root.
 */
export async function launchFirefox(executablePath: string): Promise<FirefoxBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'syncmgr-bench-firefox-'));
  writeFileSync(join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
  const args = ['--headless', '--remote-debugging-port=0', '--remote-allow-system-access', '--profile', profile, '--no-remote'];
  const child: ChildProcess = spawn(executablePath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  const guard = killWithParent(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`Firefox did not print its BiDi address within 60 s:\n${buffered}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Firefox exited with ${code} before it listened:\n${buffered}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    throw error;
  });
  // Keep draining stderr so Firefox never blocks on a full pipe.
  child.stderr!.resume();
  const { bidi, capabilities, chromeTree } = await (async () => {
    const bidi = await Bidi.connect(`${wsUrl}/session`);
    const { capabilities } = await bidi.send<{ capabilities: Record<string, unknown> & { browserVersion: string } }>('session.new', { capabilities: {} });
    const chromeTree = await bidi.send<{ contexts: { context: string }[] }>('browsingContext.getTree', { 'moz:scope': 'chrome' }).catch(() => ({ contexts: [] }));
    return { bidi, capabilities, chromeTree };
  })().catch((error: unknown) => {
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    throw error;
  });
  const chromeContext = chromeTree.contexts[0]?.context ?? null;
  return {
    engine: 'firefox',
    pid: child.pid!,
    product: `Firefox/${capabilities.browserVersion}`,
    details: capabilities,
    unavailable: {
      taskTime: 'WebDriver BiDi has no counterpart of DevTools Performance.getMetrics (TaskDuration)',
      ...(chromeContext === null ? { heap: 'the chrome realm (--remote-allow-system-access) is not reachable, so the memory reporter cannot be read' } : {}),
    },
    contentPids: () => processTree(child.pid!).filter((p) => / -contentproc .* tab\s*$/.test(cmdline(p))),
    workerThreadPrefix: 'DOM Worker',
    bidi,
    async open(url) {
      // The first tab, navigated: a second tab would leave this one in the background.
      const { contexts } = await bidi.send<{ contexts: { context: string }[] }>('browsingContext.getTree', { maxDepth: 0 });
      const context = contexts[0]!.context;
      await bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
      return new BidiPage(bidi, context, url, chromeContext);
    },
    async close() {
      await bidi.send('browser.close').catch(() => {});
      bidi.close();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      guard.release();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
