/**
 * A bare DevTools (CDP) client and a headless Chromium started by hand. The
 * bench page is driven with Target and Runtime only (plus Performance for the
 * main thread's task time, and HeapProfiler to collect garbage before the
 * heap is read): never Network, so no frame or request is reported to the
 * driver, unlike a Playwright `page` (perf-baseline.md, "Driver"). Firefox's
 * counterpart is bidi.ts; both give the driver engine.ts's interface.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { killWithParent } from './child-guard.ts';
import { withTimeout, type BenchBrowser, type BenchPage } from './engine.ts';
import { rendererPids } from './proc.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  method: string;
}

export class Cdp {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, ((params: Record<string, unknown>, sessionId?: string) => void)[]>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (message.id !== undefined) {
        const p = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
        else p?.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params ?? {}, message.sessionId);
      }
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error(`${p.method}: the DevTools connection closed`));
      this.#pending.clear();
    });
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
      ws.once('open', () => resolve(new Cdp(ws)));
      ws.once('error', reject);
    });
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.#ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
    });
  }

  on(method: string, listener: (params: Record<string, unknown>, sessionId?: string) => void): void {
    let list = this.#listeners.get(method);
    if (!list) this.#listeners.set(method, (list = []));
    list.push(listener);
  }

  close(): void {
    this.#ws.close();
  }
}

/** A page target attached over the flat protocol. */
export class CdpPage implements BenchPage {
  readonly cdp: Cdp;
  readonly sessionId: string;

  constructor(cdp: Cdp, sessionId: string) {
    this.cdp = cdp;
    this.sessionId = sessionId;
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  async evaluate<T>(expression: string, timeoutMs = 900_000): Promise<T> {
    const answer = await withTimeout(
      this.send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }),
      timeoutMs,
      () => expression.slice(0, 120),
    );
    if (answer.exceptionDetails) {
      throw new Error(`page threw: ${answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text}`);
    }
    return answer.result.value as T;
  }

  call<T>(name: string, ...args: unknown[]): Promise<T> {
    return this.evaluate<T>(`window.bench.${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
  }

  /** Enables Performance, for taskDuration. */
  async prepare(): Promise<void> {
    await this.send('Performance.enable');
  }

  /** Performance.getMetrics' TaskDuration. */
  async taskDuration(): Promise<number> {
    const { metrics } = await this.send<{ metrics: { name: string; value: number }[] }>('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
  }

  /** Runtime.getHeapUsage after three HeapProfiler.collectGarbage. */
  async heapUsed(): Promise<number> {
    for (let i = 0; i < 3; i++) {
      await this.send('HeapProfiler.collectGarbage');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return (await this.send<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize;
  }
}

export interface Browser extends BenchBrowser {
  readonly cdp: Cdp;
  readonly version: { product: string; userAgent: string; revision: string };
  /** Opens `url` in a new tab and attaches to it. */
  open(url: string): Promise<CdpPage>;
}

/**
 * Starts headless Chromium with a remote-debugging port and a fresh profile,
 * with the switches Playwright uses for automation (no background networking,
 * no throttling of background timers or renderers, ...), and connects.
 */
export async function launchChromium(executablePath: string, extraArgs: string[] = []): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'syncmgr-bench-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-field-trial-config',
    '--disable-background-networking',
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
    '--disable-back-forward-cache',
    '--disable-breakpad',
    '--disable-component-update',
    '--disable-default-apps',
    '--disable-dev-shm-usage',
    '--disable-extensions',
    '--disable-hang-monitor',
    '--disable-ipc-flooding-protection',
    '--disable-popup-blocking',
    '--disable-sync',
    '--metrics-recording-only',
    '--mute-audio',
    '--password-store=basic',
    '--use-mock-keychain',
    ...extraArgs,
    'about:blank',
  ];
  const child: ChildProcess = spawn(executablePath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const guard = killWithParent(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const fail = (error: unknown): never => {
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    throw error;
  };
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not print its DevTools address within 30 s:\n${buffered}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited with ${code} before it listened:\n${buffered}`));
    });
  }).catch(fail);
  // Keep draining stderr so Chromium never blocks on a full pipe.
  child.stderr!.resume();
  const cdp = await Cdp.connect(wsUrl).catch(fail);
  const version = await cdp.send<{ product: string; userAgent: string; revision: string }>('Browser.getVersion').catch(fail);
  return {
    engine: 'chromium',
    pid: child.pid!,
    product: version.product,
    details: version,
    unavailable: {},
    contentPids: () => rendererPids(child.pid!),
    workerThreadPrefix: 'DedicatedWorker',
    cdp,
    version,
    async open(url) {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      return new CdpPage(cdp, sessionId);
    },
    async close() {
      await cdp.send('Browser.close').catch(() => {});
      cdp.close();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      guard.release();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
