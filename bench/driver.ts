/**
 * `npm run bench`: syncmgr against the raw platform, side by side in one run.
 *
 * Builds the bench page (bench/index.html, bench/vite.config.ts), serves it
 * with `vite preview` in this process next to the demo's endpoint server (COOP
 * and COEP on every response), starts the browser headless by hand and drives
 * the page over a bare protocol connection: DevTools for Chromium (Target and
 * Runtime; see cdp.ts), WebDriver BiDi for Firefox (browsingContext and
 * script; see bidi.ts), both behind engine.ts's interface. Every
 * case runs its variants alternately, in rotating order, after a warm-up; each
 * round waits for the machine to be quiet and is done again if other processes
 * loaded it (this machine is shared). The suite runs `--runs` times, each in a
 * fresh browser; the table gives the median of the run medians, the median
 * p10 and p90, the run medians and their spread, and the ratio to the
 * baseline (computed per run, within the run's alternating pairs).
 *
 *   npm run bench [-- --engine chromium|firefox|all] [--runs 3] [--quick] [--cases 1,2,4,10] [--out file]
 *
 * Chromium writes bench/results.json, Firefox bench/results-firefox.json. What
 * an engine cannot measure is "n/a" in its table, with the reason in the file.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { LIFE_LOCK_DELAY } from '../src/protocol/locks.ts';
import { chromiumPath } from '../scripts/chromium-path.ts';
import { firefoxPath } from '../test/engines/engine-paths.ts';
import { firefoxVersion, launchFirefox } from './bidi.ts';
import { launchChromium } from './cdp.ts';
import { ENGINES, type BenchBrowser, type BenchPage, type Engine, type Metric } from './engine.ts';
import { OutsideLoad, countThreads, processTree, threadCpuMs } from './proc.ts';
import { max, median, spread, summarize } from './stats.ts';
import type { Command, FetchResult, FetchVia, SocketVia } from './shared/protocol.ts';

const MiB = 1024 * 1024;
const CONFIG_FILE = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const DEFAULT_OUT: Record<Engine, string> = {
  chromium: fileURLToPath(new URL('./results.json', import.meta.url)),
  firefox: fileURLToPath(new URL('./results-firefox.json', import.meta.url)),
};
/** A round starts once other processes use less than this share of one core… */
const QUIET_LIMIT = 0.1;
/** …and is done again (up to MAX_TRIES, keeping the least loaded try) if they used more than this meanwhile. */
const RETRY_LIMIT = 0.15;
const MAX_TRIES = 3;

// ---------------------------------------------------------------- the plan

interface Plan {
  rtt: { warmup: number; rounds: number; perRound: number; size: number };
  ws64: { count: number; size: number; warmup: number; reps: number };
  small: { count: number; size: number; warmup: number; reps: number };
  fetch: { bytes: number; warmup: number; reps: number };
  sessions: { n: number; warmup: number; reps: number }[];
  establish: { warmup: number; reps: number };
  flood: { handlers: number; count: number; warmupCount: number; reps: number };
  leak: { warmup: number; sessions: number };
}

const FULL: Plan = {
  rtt: { warmup: 200, rounds: 10, perRound: 100, size: 100 },
  ws64: { count: 512, size: 64 * 1024, warmup: 2, reps: 8 },
  small: { count: 20_000, size: 100, warmup: 1, reps: 6 },
  fetch: { bytes: 8 * MiB, warmup: 3, reps: 15 },
  sessions: [{ n: 1, warmup: 3, reps: 15 }, { n: 8, warmup: 2, reps: 8 }, { n: 32, warmup: 1, reps: 5 }],
  establish: { warmup: 2, reps: 12 },
  flood: { handlers: 8, count: 20_000, warmupCount: 1000, reps: 1 },
  leak: { warmup: 20, sessions: 200 },
};

const QUICK: Plan = {
  rtt: { warmup: 50, rounds: 3, perRound: 50, size: 100 },
  ws64: { count: 512, size: 64 * 1024, warmup: 1, reps: 2 },
  small: { count: 20_000, size: 100, warmup: 0, reps: 1 },
  fetch: { bytes: 8 * MiB, warmup: 1, reps: 3 },
  sessions: [{ n: 1, warmup: 1, reps: 3 }, { n: 8, warmup: 1, reps: 2 }, { n: 32, warmup: 0, reps: 1 }],
  establish: { warmup: 1, reps: 3 },
  flood: { handlers: 8, count: 2000, warmupCount: 200, reps: 1 },
  leak: { warmup: 5, sessions: 30 },
};

const SOCKET_VIAS: SocketVia[] = ['direct', 'channel', 'relay'];
/** Case 10: an `endpointWebSocket('ws')` instance against the worker's own socket, the channel as the reference. */
const FACADE_VIAS: SocketVia[] = ['direct', 'facade', 'channel'];
type FacadeFlow = 'ws64-down' | 'ws64-up';
const FACADE_FLOWS: FacadeFlow[] = ['ws64-down', 'ws64-up'];
const FETCH_VIAS: FetchVia[] = ['direct-whole', 'channel-auto-whole', 'channel-whole', 'direct-chunks', 'channel-stream-chunks'];
type Flow = 'ws64-down' | 'ws64-up' | 'small-down' | 'small-up';
/** Case 5: workers by hand (raw; runtime: loading the handler runtime), sessions with storage in memory and in IndexedDB (the default). */
type SessionVariant = 'raw' | 'runtime' | 'memory' | 'library';
const SESSION_VARIANTS: SessionVariant[] = ['raw', 'runtime', 'memory', 'library'];
const FLOWS: Flow[] = ['ws64-down', 'ws64-up', 'small-down', 'small-up'];

// ---------------------------------------------------------------- what one run collects

interface TaskTimed<T> {
  value: T;
  wallMs: number;
  longTasks: number[];
}

interface FlowRep {
  /** Time in the worker, first command to last byte (down) or to the server's ack (up). */
  ms: number;
  /** Renderer main thread CPU during the rep (/proc, 10 ms ticks). */
  mainCpuMs: number;
  /** Main-thread task time during the rep (DevTools Performance.getMetrics TaskDuration); null where the engine has none. */
  taskMs: number | null;
  longTasks: number[];
}

interface FloodRep {
  ms: number;
  calls: number;
  longTasks: number[];
}

interface RunData {
  run: number;
  startedAt: string;
  rendererPid: number;
  rtt: Record<SocketVia, number[]>;
  flows: Record<Flow, Record<SocketVia, FlowRep[]>>;
  /** Case 10's own rounds (cases 1 and 2 keep theirs): the round trip and the 64 KiB flows of FACADE_VIAS. */
  facade: { rtt: Record<SocketVia, number[]>; flows: Record<FacadeFlow, Record<SocketVia, FlowRep[]>> };
  fetch: Record<FetchVia, FetchResult[]>;
  sessions: Record<string, Record<SessionVariant, number[]> & { libraryLongTasks: number[] }>;
  establish: { first: number[]; repeat: number[]; repeatWarm: number[]; rawOpen: number[]; openSockets: number[] };
  flood: { library: FloodRep[]; raw: FloodRep[] };
  leak: LeakResult | null;
  guard: { rounds: number; retried: number; outside: number[] };
  /** `${flow} channel` → why the syncmgr channel failed a rep (it is re-established and not measured again in that flow). */
  failed: Record<string, string>;
}

interface LeakResult {
  sessions: number;
  ms: number;
  failed: string[];
  /** Bytes; null where the engine's heap cannot be read. */
  heapBefore: number | null;
  heapAfter: number | null;
  heapGrowth: number | null;
  workerLocksHeld: number;
  workerLocksWaiting: number;
  serverOpenSockets: number;
  workerThreadsBefore: number;
  workerThreadsAfter: number;
}

// ---------------------------------------------------------------- one run

class Run {
  readonly browser: BenchBrowser;
  readonly page: BenchPage;
  readonly plan: Plan;
  readonly load: OutsideLoad;
  readonly data: RunData;
  readonly quietWaitMs: number;
  #rendererPid = 0;

  constructor(browser: BenchBrowser, page: BenchPage, plan: Plan, load: OutsideLoad, run: number, quietWaitMs: number) {
    this.browser = browser;
    this.quietWaitMs = quietWaitMs;
    this.page = page;
    this.plan = plan;
    this.load = load;
    const bySocket = <T>(make: () => T) => Object.fromEntries([...SOCKET_VIAS, 'facade'].map((v) => [v, make()])) as Record<SocketVia, T>;
    this.data = {
      run,
      startedAt: new Date().toISOString(),
      rendererPid: 0,
      rtt: bySocket(() => []),
      flows: Object.fromEntries(FLOWS.map((f) => [f, bySocket<FlowRep[]>(() => [])])) as Record<Flow, Record<SocketVia, FlowRep[]>>,
      facade: {
        rtt: bySocket(() => []),
        flows: Object.fromEntries(FACADE_FLOWS.map((f) => [f, bySocket<FlowRep[]>(() => [])])) as Record<FacadeFlow, Record<SocketVia, FlowRep[]>>,
      },
      fetch: Object.fromEntries(FETCH_VIAS.map((v) => [v, []])) as unknown as Record<FetchVia, FetchResult[]>,
      sessions: {},
      establish: { first: [], repeat: [], repeatWarm: [], rawOpen: [], openSockets: [] },
      flood: { library: [], raw: [] },
      leak: null,
      guard: { rounds: 0, retried: 0, outside: [] },
      failed: {},
    };
  }

  /**
   * Finds the renderer (Firefox: content process) that hosts the page: the
   * one whose main thread burns CPU while the page spins, twice in a row
   * (once, a run picked another renderer that was busy at that moment, and
   * read 0 ms of main-thread CPU throughout).
   */
  async findRenderer(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const first = await this.#busiestRenderer();
      const second = await this.#busiestRenderer();
      if (first === second) {
        this.#rendererPid = first;
        this.data.rendererPid = first;
        return;
      }
      if (attempt === 3) throw new Error(`could not tell the page's renderer: ${first} and then ${second} burned the CPU while the page spun`);
    }
  }

  async #busiestRenderer(): Promise<number> {
    const candidates = this.browser.contentPids();
    const before = new Map(candidates.map((p) => [p, threadCpuMs(p, p) ?? 0]));
    let best = 0;
    let bestDelta = -1;
    // On a loaded machine the spinning thread gets a fraction of a core: spin until one main thread has burned 200 ms.
    for (let spin = 0; spin < 20 && bestDelta < 200; spin++) {
      await this.page.call('busy', 400);
      for (const p of candidates) {
        const delta = (threadCpuMs(p, p) ?? 0) - before.get(p)!;
        if (delta > bestDelta) {
          best = p;
          bestDelta = delta;
        }
      }
    }
    if (bestDelta < 200) throw new Error(`could not find the page's renderer (best main-thread delta ${bestDelta} ms after 8 s of spinning)`);
    return best;
  }

  mainCpu(): number {
    return threadCpuMs(this.#rendererPid, this.#rendererPid) ?? 0;
  }

  workerThreads(): number {
    return countThreads(this.#rendererPid, this.browser.workerThreadPrefix);
  }

  /** A round of alternating reps: starts when the machine is quiet, redone if it was not. Warm-up rounds (`measured` false) are not guarded. */
  async round<T>(measured: boolean, fn: () => Promise<T>, tries = MAX_TRIES): Promise<T> {
    if (!measured) return fn();
    let best: { value: T; outside: number } | null = null;
    for (let attempt = 0; attempt < tries; attempt++) {
      await this.load.waitQuiet(QUIET_LIMIT, 500, this.quietWaitMs);
      const a = this.load.sample();
      const value = await fn();
      const b = this.load.sample();
      const outside = OutsideLoad.between(a, b);
      if (!best || outside < best.outside) best = { value, outside };
      // CPU times come in 10 ms ticks per process: below ~60 ms in all, a short round's reading is rounding noise.
      if (outside <= RETRY_LIMIT || outside * (b.at - a.at) < 60) break;
      this.data.guard.retried += 1;
    }
    this.data.guard.rounds += 1;
    this.data.guard.outside.push(best!.outside);
    return best!.value;
  }

  command<T>(cmd: Command<never>, handlerId = 'h0'): Promise<T> {
    return this.page.call<T>('command', handlerId, cmd);
  }

  // ---- cases 1–4 and 10 share one session of handler h0, which holds every variant's socket ----

  async socketAndFetchCases(cases: Set<number>): Promise<void> {
    await this.page.call('openServe', ['h0']);
    await this.command({ op: 'establish', name: 'ws', kind: 'websocket' });
    await this.command({ op: 'open-direct', url: '/t/bench/ws/bench' });
    await this.page.call('attachRelay', 'h0', '/t/bench/ws/bench');
    await this.command({ op: 'establish', name: 'api', kind: 'fetch' });
    if (cases.has(10)) await this.command({ op: 'open-facade', name: 'ws', path: '/' });
    if (cases.has(1)) await this.rtt();
    if (cases.has(2) || cases.has(7)) {
      await this.flow('ws64-down');
      await this.flow('ws64-up');
    }
    if (cases.has(3) || cases.has(7)) {
      await this.flow('small-down');
      await this.flow('small-up');
    }
    if (cases.has(10)) {
      await this.rtt(FACADE_VIAS, this.data.facade.rtt, '10 endpointWebSocket round trip');
      for (const flow of FACADE_FLOWS) await this.flow(flow, FACADE_VIAS, this.data.facade.flows[flow], '10 endpointWebSocket');
    }
    if (cases.has(4)) await this.fetch();
    await this.page.call('closeServe');
    await this.page.call('closeRelay');
  }

  /** Case 1 (and case 10 with its own variants and store): warm-up, then quiet rounds of alternating variants. */
  async rtt(vias = SOCKET_VIAS, store = this.data.rtt, title = '1 WebSocket round trip'): Promise<void> {
    const { warmup, rounds, perRound, size } = this.plan.rtt;
    progress(title);
    for (const via of vias) await this.command({ op: 'rtt', via, count: warmup, size });
    for (let r = 0; r < rounds; r++) {
      const samples = await this.round(true, async () => {
        const got: [SocketVia, number[]][] = [];
        for (const via of rotate(vias, r)) got.push([via, await this.command<number[]>({ op: 'rtt', via, count: perRound, size })]);
        return got;
      });
      for (const [via, s] of samples) store[via].push(...s);
    }
  }

  /** Cases 2, 3 and 7 (and case 10 with its own variants and store). */
  async flow(flow: Flow, vias = SOCKET_VIAS, store = this.data.flows[flow], title = flow.startsWith('ws64') ? '2' : '3'): Promise<void> {
    const p = flow.startsWith('ws64') ? this.plan.ws64 : this.plan.small;
    const op = flow.endsWith('down') ? 'down' : 'up';
    progress(`${title} ${flow}: ${p.count} × ${p.size} B`);
    for (let r = -p.warmup; r < p.reps; r++) {
      const reps = await this.round(r >= 0, async () => {
        const got: [SocketVia, FlowRep][] = [];
        for (const via of rotate(vias, r)) {
          // Case 10's keys carry its title, so that a channel failing in case 2 does not skip it there.
          const key = vias === SOCKET_VIAS ? `${flow} ${via}` : `${title} ${flow} ${via}`;
          if (this.data.failed[key]) continue;
          const cpu0 = this.mainCpu();
          const task0 = await this.page.taskDuration();
          let timed: TaskTimed<number>;
          try {
            timed = await this.page.call<TaskTimed<number>>('rep', 'h0', { op, via, count: p.count, size: p.size });
          } catch (error) {
            // The channel closes under a rep it cannot carry (a receive-buffer overflow): say so, open a new one for the other flows.
            if (via !== 'channel') throw error;
            this.data.failed[key] = String((error as Error).message ?? error).split('\n')[0]!.replace(/^page threw: (Error: )*/, '').split('. ')[0]!;
            progress(`  ${key} failed: ${this.data.failed[key]}`);
            await this.command({ op: 'establish', name: 'ws', kind: 'websocket' });
            continue;
          }
          const task1 = await this.page.taskDuration();
          const taskMs = task0 === null || task1 === null ? null : task1 - task0;
          got.push([via, { ms: timed.value, mainCpuMs: this.mainCpu() - cpu0, taskMs, longTasks: timed.longTasks }]);
        }
        return got;
      });
      if (r >= 0) for (const [via, rep] of reps) store[via].push(rep);
    }
  }

  async fetch(): Promise<void> {
    const { bytes, warmup, reps } = this.plan.fetch;
    progress(`4 fetch ${bytes / MiB} MiB`);
    for (let r = -warmup; r < reps; r++) {
      const got = await this.round(r >= 0, async () => {
        const out: [FetchVia, FetchResult][] = [];
        for (const via of rotate(FETCH_VIAS, r)) out.push([via, await this.command<FetchResult>({ op: 'fetch', via, path: `bytes?n=${bytes}`, bytes })]);
        return out;
      });
      if (r >= 0) for (const [via, result] of got) this.data.fetch[via].push(result);
    }
  }

  // ---- case 5 ----

  async sessions(): Promise<void> {
    for (const { n, warmup, reps } of this.plan.sessions) {
      progress(`5 session overhead, ${n} handler${n > 1 ? 's' : ''}`);
      const slot: RunData['sessions'][string] = { raw: [], runtime: [], memory: [], library: [], libraryLongTasks: [] };
      this.data.sessions[n] = slot;
      for (let r = -warmup; r < reps; r++) {
        const got = await this.round(r >= 0, async () => {
          const out: Partial<Record<SessionVariant, TaskTimed<number>>> = {};
          for (const which of rotate(SESSION_VARIANTS, r)) {
            out[which] = await (which === 'raw' || which === 'runtime'
              ? this.page.call<TaskTimed<number>>('rawWorkers', n, which)
              : this.page.call<TaskTimed<number>>('emptySession', n, which === 'memory' ? 'memory' : 'indexeddb'));
            // Let terminated workers go before the next variant starts its own.
            await sleep(150);
          }
          return out as Record<SessionVariant, TaskTimed<number>>;
        });
        if (r < 0) continue;
        for (const v of SESSION_VARIANTS) slot[v].push(got[v].value);
        slot.libraryLongTasks.push(...got.library.longTasks);
      }
    }
  }

  // ---- case 6 ----

  async establish(): Promise<void> {
    const { warmup, reps } = this.plan.establish;
    progress('6 establishConnection, first and repeat');
    for (let r = -warmup; r < reps; r++) {
      const got = await this.round(r >= 0, () => this.page.call<{ first: number; repeat: number; repeatWarm: number; rawOpen: number; openSockets: number }>('establishPair'));
      if (r < 0) continue;
      const e = this.data.establish;
      e.first.push(got.first);
      e.repeat.push(got.repeat);
      e.repeatWarm.push(got.repeatWarm);
      e.rawOpen.push(got.rawOpen);
      e.openSockets.push(got.openSockets);
    }
  }

  // ---- case 8 ----

  async flood(): Promise<void> {
    const { handlers, count, warmupCount, reps } = this.plan.flood;
    progress(`8 progress flood, ${handlers} × ${count}`);
    await this.page.call('progressFlood', handlers, warmupCount);
    await this.page.call('rawProgressFlood', handlers, warmupCount);
    for (let r = 0; r < reps; r++) {
      const pair = await this.round(true, async () => {
        const out: Partial<Record<'library' | 'raw', FloodRep>> = {};
        for (const which of rotate(['library', 'raw'] as const, r)) {
          out[which] = await this.page.call<FloodRep>(which === 'library' ? 'progressFlood' : 'rawProgressFlood', handlers, count);
        }
        return out as Record<'library' | 'raw', FloodRep>;
      }, 2);
      this.data.flood.library.push(pair.library);
      this.data.flood.raw.push(pair.raw);
    }
  }

  // ---- case 9 ----

  async leak(): Promise<void> {
    const { warmup, sessions } = this.plan.leak;
    progress(`9 leaks: ${sessions} sessions, each with a WebSocket and a fetch channel`);
    const warm = await this.page.call<{ ms: number; failed: string[] }>('leakSessions', warmup);
    await sleep(1000);
    const heapBefore = await this.page.heapUsed();
    const workerThreadsBefore = this.workerThreads();
    const run = await this.page.call<{ ms: number; failed: string[] }>('leakSessions', sessions);
    // A worker takes the lock it is counted by LIFE_LOCK_DELAY after it starts: one left running has it by now.
    await sleep(LIFE_LOCK_DELAY + 150);
    // Terminated workers release their locks and threads asynchronously.
    let counts = await this.page.call<{ workerLocksHeld: number; workerLocksWaiting: number; serverOpenSockets: number }>('leakCounts');
    for (let i = 0; i < 30 && counts.workerLocksHeld + counts.workerLocksWaiting + counts.serverOpenSockets > 0; i++) {
      await sleep(100);
      counts = await this.page.call('leakCounts');
    }
    await sleep(1000);
    const heapAfter = await this.page.heapUsed();
    this.data.leak = {
      sessions,
      ms: run.ms,
      failed: [...warm.failed, ...run.failed],
      heapBefore,
      heapAfter,
      heapGrowth: heapBefore === null || heapAfter === null ? null : heapAfter - heapBefore,
      workerLocksHeld: counts.workerLocksHeld,
      workerLocksWaiting: counts.workerLocksWaiting,
      serverOpenSockets: counts.serverOpenSockets,
      workerThreadsBefore,
      workerThreadsAfter: this.workerThreads(),
    };
  }
}

// ---------------------------------------------------------------- the table

interface Row {
  case: string;
  what: string;
  unit: string;
  median: number;
  p10: number;
  p90: number;
  /** The median of each run. */
  runs: number[];
  spread: number;
  /** Against the case's baseline, per run, then the median of those. */
  ratio?: { value: number; runs: number[]; spread: number; against: string };
  extra?: string;
  target?: string;
  pass?: boolean;
  /** Why the target cannot be judged in this engine (the verdict is "n/a"). */
  unmeasured?: string;
}

/** A row from per-run samples: the median of the run medians, p10 and p90 (none when each run gives one figure). */
function row(caseName: string, what: string, unit: string, perRun: number[][], extra: Partial<Row> = {}): Row {
  const stats = perRun.map((samples) => summarize(samples));
  const runs = stats.map((s) => s.median);
  const single = perRun.every((samples) => samples.length === 1);
  return {
    case: caseName,
    what,
    unit,
    median: median(runs),
    p10: single ? Number.NaN : median(stats.map((s) => s.p10)),
    p90: single ? Number.NaN : median(stats.map((s) => s.p90)),
    runs,
    spread: spread(runs),
    ...extra,
  };
}

function ratioOf(a: Row, b: Row, against: string, invert = false): Row['ratio'] {
  const runs = a.runs.map((v, i) => (invert ? b.runs[i]! / v : v / b.runs[i]!));
  return { value: median(runs), runs, spread: spread(runs), against };
}

/** "failed in N of M runs: why" when a flow's variant failed a rep in any run. */
function failures(runs: RunData[], key: string): string | null {
  const failed = runs.filter((r) => r.failed[key]);
  return failed.length ? `failed in ${failed.length} of ${runs.length} run${runs.length > 1 ? 's' : ''}: ${failed[0]!.failed[key]}` : null;
}

function buildRows(runs: RunData[], plan: Plan, cases: Set<number>, unavailable: Partial<Record<Metric, string>>): Row[] {
  const rows: Row[] = [];
  const longest = (perRun: number[]) => (unavailable.longTasks ? 'longest task n/a' : `longest task ${perRun.map((v) => v.toFixed(0)).join(' / ')} ms`);
  const label: Record<SocketVia, string> = { direct: 'socket in the worker (baseline)', channel: 'syncmgr channel', relay: 'hand-written relay (reference)', facade: "endpointWebSocket('ws') instance" };
  if (cases.has(1)) {
    const c = '1 WS round trip, 100 B';
    const by = Object.fromEntries(SOCKET_VIAS.map((v) => [v, row(c, label[v], 'µs', runs.map((r) => r.rtt[v].map((ms) => ms * 1000)))])) as Record<SocketVia, Row>;
    const delta = median(by.channel.runs.map((v, i) => v - by.direct.runs[i]!));
    by.channel.ratio = ratioOf(by.channel, by.direct, 'direct');
    by.relay.ratio = ratioOf(by.relay, by.direct, 'direct');
    by.channel.extra = `+${delta.toFixed(0)} µs`;
    by.relay.extra = `+${median(by.relay.runs.map((v, i) => v - by.direct.runs[i]!)).toFixed(0)} µs`;
    by.channel.target = '≤ 1.6× and ≤ +150 µs';
    by.channel.pass = by.channel.ratio!.value <= 1.6 && delta <= 150;
    rows.push(by.direct, by.channel, by.relay);
  }
  const flowCase: Record<Flow, string> = {
    'ws64-down': `2 WS 64 KiB frames, ${(plan.ws64.count * plan.ws64.size) / MiB} MiB, server → worker`,
    'ws64-up': `2 WS 64 KiB frames, ${(plan.ws64.count * plan.ws64.size) / MiB} MiB, worker → server`,
    'small-down': `3 WS ${plan.small.size} B frames ×${plan.small.count}, server → worker`,
    'small-up': `3 WS ${plan.small.size} B frames ×${plan.small.count}, worker → server`,
  };
  for (const flow of FLOWS) {
    if (!cases.has(flow.startsWith('ws64') ? 2 : 3)) continue;
    const p = flow.startsWith('ws64') ? plan.ws64 : plan.small;
    const small = flow.startsWith('small');
    const unit = small ? 'k msg/s' : 'MiB/s';
    const rate = (ms: number) => (small ? p.count / ms : (p.count * p.size) / MiB / (ms / 1000));
    const by = Object.fromEntries(SOCKET_VIAS.map((v) => [v, row(flowCase[flow], label[v], unit, runs.map((r) => r.flows[flow][v].map((rep) => rate(rep.ms))))])) as Record<SocketVia, Row>;
    by.channel.ratio = ratioOf(by.channel, by.direct, 'direct');
    by.relay.ratio = ratioOf(by.relay, by.direct, 'direct');
    by.channel.target = '≥ 0.85×';
    by.channel.pass = by.channel.ratio!.value >= 0.85;
    const failed = failures(runs, `${flow} channel`);
    if (failed) {
      delete by.channel.ratio;
      by.channel.extra = failed;
      by.channel.pass = false;
    }
    rows.push(by.direct, by.channel, by.relay);
  }
  if (cases.has(7)) {
    for (const flow of FLOWS) {
      const p = flow.startsWith('ws64') ? plan.ws64 : plan.small;
      const mib = (p.count * p.size) / MiB;
      for (const via of ['channel', 'relay', 'direct'] as SocketVia[]) {
        const perRun = runs.map((r) => r.flows[flow][via]);
        // CPU per MiB per run: total main-thread CPU over total bytes (10 ms ticks need the sum).
        const cpuPerMiB = perRun.map((reps) => [reps.reduce((s, x) => s + x.mainCpuMs, 0) / (mib * reps.length)]);
        const longestPerRun = perRun.map((reps) => [max(reps.flatMap((x) => x.longTasks))]);
        const taskPerMiB = unavailable.taskTime ? null : median(perRun.map((reps) => reps.reduce((s, x) => s + (x.taskMs ?? 0), 0) / (mib * reps.length)));
        const longCount = perRun.map((reps) => reps.reduce((s, x) => s + x.longTasks.length, 0));
        const r = row(`7 main thread during ${flow}`, `${label[via]}: main-thread CPU`, 'ms/MiB', cpuPerMiB);
        const longestRow = row('', '', 'ms', longestPerRun);
        r.extra = `task time ${taskPerMiB === null ? 'n/a' : `${taskPerMiB.toFixed(1)} ms/MiB`}; ${unavailable.longTasks ? 'long tasks n/a' : `longest task ${longestRow.runs.map((v) => v.toFixed(0)).join(' / ')} ms; long tasks ${longCount.join(' / ')}`}`;
        const failed = failures(runs, `${flow} ${via}`);
        if (failed) r.extra += `; ${failed}`;
        if (via === 'channel') {
          r.target = 'no task > 50 ms';
          if (unavailable.longTasks) r.unmeasured = unavailable.longTasks;
          else r.pass = max(longestRow.runs) <= 50;
        }
        rows.push(r);
      }
    }
  }
  if (cases.has(10)) {
    // Case 10: cases 1 and 2 with the facade in the channel's place (the same targets), the channel in the same rounds as the reference.
    const c = '10 endpointWebSocket round trip, 100 B';
    const by = Object.fromEntries(FACADE_VIAS.map((v) => [v, row(c, v === 'channel' ? 'syncmgr channel (reference)' : label[v], 'µs', runs.map((r) => r.facade.rtt[v].map((ms) => ms * 1000)))])) as Record<SocketVia, Row>;
    const delta = (v: SocketVia) => median(by[v].runs.map((x, i) => x - by.direct.runs[i]!));
    by.facade.ratio = ratioOf(by.facade, by.direct, 'direct');
    by.channel.ratio = ratioOf(by.channel, by.direct, 'direct');
    by.facade.extra = `+${delta('facade').toFixed(0)} µs; ${ratioOf(by.facade, by.channel, 'channel')!.value.toFixed(2)}× the channel`;
    by.channel.extra = `+${delta('channel').toFixed(0)} µs`;
    by.facade.target = '≤ 1.6× and ≤ +150 µs';
    by.facade.pass = by.facade.ratio!.value <= 1.6 && delta('facade') <= 150;
    rows.push(by.direct, by.facade, by.channel);
    for (const flow of FACADE_FLOWS) {
      const p = plan.ws64;
      const rate = (ms: number) => (p.count * p.size) / MiB / (ms / 1000);
      const fc = `10 endpointWebSocket 64 KiB frames, ${(p.count * p.size) / MiB} MiB, ${flow.endsWith('down') ? 'server → worker' : 'worker → server'}`;
      const f = Object.fromEntries(FACADE_VIAS.map((v) => [v, row(fc, v === 'channel' ? 'syncmgr channel (reference)' : label[v], 'MiB/s', runs.map((r) => r.facade.flows[flow][v].map((x) => rate(x.ms))))])) as Record<SocketVia, Row>;
      f.facade.ratio = ratioOf(f.facade, f.direct, 'direct');
      f.channel.ratio = ratioOf(f.channel, f.direct, 'direct');
      f.facade.extra = `${ratioOf(f.facade, f.channel, 'channel')!.value.toFixed(2)}× the channel`;
      f.facade.target = '≥ 0.85×';
      f.facade.pass = f.facade.ratio!.value >= 0.85;
      const failed = failures(runs, `10 endpointWebSocket ${flow} channel`);
      if (failed) {
        delete f.channel.ratio;
        f.channel.extra = failed;
        delete f.facade.extra;
      }
      rows.push(f.direct, f.facade, f.channel);
    }
  }
  if (cases.has(4)) {
    const c = `4 fetch ${plan.fetch.bytes / MiB} MiB into the worker`;
    const names: Record<FetchVia, string> = {
      'direct-whole': 'fetch in the worker, arrayBuffer() (baseline)',
      'channel-auto-whole': 'channel, default responseBody, arrayBuffer()',
      'channel-whole': "channel, responseBody 'whole', arrayBuffer()",
      'direct-chunks': 'fetch in the worker, read chunk by chunk (baseline)',
      'channel-stream-chunks': "channel, responseBody 'stream', chunk by chunk",
    };
    const by = Object.fromEntries(FETCH_VIAS.map((v) => [v, row(c, names[v], 'ms', runs.map((r) => r.fetch[v].map((x) => x.ms)))])) as Record<FetchVia, Row>;
    for (const v of ['channel-auto-whole', 'channel-whole'] as const) {
      by[v].ratio = ratioOf(by[v], by['direct-whole'], 'direct whole');
      by[v].target = '≤ 1.1×';
      by[v].pass = by[v].ratio!.value <= 1.1;
    }
    by['channel-stream-chunks'].ratio = ratioOf(by['channel-stream-chunks'], by['direct-chunks'], 'direct chunks');
    by['channel-stream-chunks'].target = '≤ 1.3×';
    by['channel-stream-chunks'].pass = by['channel-stream-chunks'].ratio!.value <= 1.3;
    rows.push(...FETCH_VIAS.map((v) => by[v]));
  }
  if (cases.has(5)) {
    for (const { n } of plan.sessions) {
      const c = `5 empty session, ${n} handler${n > 1 ? 's' : ''}`;
      const raw = row(c, 'spawn, ping, terminate bare workers by hand (baseline)', 'ms', runs.map((r) => r.sessions[n]!.raw));
      const runtime = row(c, 'the same with workers that load the handler runtime (reference)', 'ms', runs.map((r) => r.sessions[n]!.runtime));
      const memory = row(c, "syncmgr session, storage 'memory'", 'ms', runs.map((r) => r.sessions[n]!.memory));
      const lib = row(c, 'syncmgr session, default storage (IndexedDB)', 'ms', runs.map((r) => r.sessions[n]!.library));
      for (const x of [runtime, memory, lib]) x.ratio = ratioOf(x, raw, 'by hand');
      lib.target = '≤ 1.3×';
      lib.pass = lib.ratio!.value <= 1.3;
      lib.extra = `${ratioOf(lib, runtime, 'runtime')!.value.toFixed(2)}× the runtime workers; ${longest(runs.map((r) => max(r.sessions[n]!.libraryLongTasks)))}`;
      memory.extra = `${ratioOf(memory, runtime, 'runtime')!.value.toFixed(2)}× the runtime workers`;
      rows.push(raw, runtime, memory, lib);
    }
  }
  if (cases.has(6)) {
    const c = '6 establishConnection (WebSocket)';
    const first = row(c, 'first call (opens the socket)', 'ms', runs.map((r) => r.establish.first));
    const repeat = row(c, "repeat of the same name by another handler, as its worker's first call to the manager", 'ms', runs.map((r) => r.establish.repeat));
    const warm = row(c, 'the same handler once more (warm: the call itself)', 'ms', runs.map((r) => r.establish.repeatWarm));
    const raw = row(c, 'new WebSocket() in the worker until open (reference)', 'ms', runs.map((r) => r.establish.rawOpen));
    repeat.ratio = ratioOf(repeat, first, 'first', true);
    warm.ratio = ratioOf(warm, first, 'first', true);
    const sockets = runs.flatMap((r) => r.establish.openSockets);
    repeat.extra = `sockets open on the server: ${[...new Set(sockets)].join(', ')}`;
    repeat.target = '≥ 20× cheaper, one socket';
    repeat.pass = repeat.ratio!.value >= 20 && sockets.every((s) => s === 1);
    rows.push(first, repeat, warm, raw);
  }
  if (cases.has(8)) {
    const { handlers, count } = plan.flood;
    const c = `8 progress flood, ${handlers} handlers × ${count} calls, rendered`;
    const raw = row(c, 'bare Comlink calls, same rendering (baseline)', 'ms', runs.map((r) => r.flood.raw.map((x) => x.ms)));
    const lib = row(c, 'ctx.progress() → progress events', 'ms', runs.map((r) => r.flood.library.map((x) => x.ms)));
    lib.ratio = ratioOf(lib, raw, 'bare Comlink');
    const calls = handlers * count;
    const longestOf = (reps: (r: RunData) => FloodRep[]) => runs.map((r) => max(reps(r).flatMap((x) => x.longTasks)));
    lib.extra = `${(calls / (lib.median / 1000) / 1000).toFixed(0)} k calls/s; ${longest(longestOf((r) => r.flood.library))}`;
    raw.extra = `${(calls / (raw.median / 1000) / 1000).toFixed(0)} k calls/s; ${longest(longestOf((r) => r.flood.raw))}`;
    lib.target = 'no task > 50 ms';
    if (unavailable.longTasks) lib.unmeasured = unavailable.longTasks;
    else lib.pass = max(longestOf((r) => r.flood.library)) <= 50;
    rows.push(raw, lib);
  }
  if (cases.has(9)) {
    const c = `9 leaks after ${plan.leak.sessions} sessions`;
    const leaks = runs.map((r) => r.leak!);
    const heapKnown = !unavailable.heap && leaks.every((l) => l.heapGrowth !== null);
    const growth = row(c, heapKnown ? 'page heap growth (after GC)' : 'page heap growth n/a', 'KiB', leaks.map((l) => [l.heapGrowth === null ? Number.NaN : l.heapGrowth / 1024]));
    const left = leaks.map((l) => l.workerLocksHeld + l.workerLocksWaiting + l.serverOpenSockets + l.failed.length);
    growth.extra = `live workers ${leaks.map((l) => l.workerLocksHeld).join(' / ')}, open sockets (server) ${leaks.map((l) => l.serverOpenSockets).join(' / ')}, failed sessions ${leaks.map((l) => l.failed.length).join(' / ')}, worker threads ${leaks.map((l) => `${l.workerThreadsBefore}→${l.workerThreadsAfter}`).join(' / ')}`;
    growth.target = heapKnown ? '< 1024 KiB, nothing open' : 'nothing open';
    growth.pass = (!heapKnown || max(growth.runs) < 1024) && left.every((n) => n === 0);
    rows.push(growth);
  }
  return rows;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The table, as Markdown (it reads as well in a terminal). */
function table(rows: Row[]): string {
  const out = ['| case | measurement | median | p10 | p90 | run medians | spread | ratio (run ratios) | target | |', '|---|---|---:|---:|---:|---|---:|---|---|---|'];
  let last = '';
  for (const r of rows) {
    const caseCell = r.case === last ? '' : r.case;
    last = r.case;
    const ratio = r.ratio ? `**${r.ratio.value.toFixed(2)}×** (${r.ratio.runs.map((x) => x.toFixed(2)).join(' / ')})` : '';
    const what = r.extra ? `${r.what}; ${r.extra}` : r.what;
    const verdict = r.unmeasured ? 'n/a' : r.pass === undefined ? '' : r.pass ? 'met' : '**missed**';
    const spreadCell = Number.isFinite(r.spread) ? `${(r.spread * 100).toFixed(0)}%` : '–';
    out.push(`| ${caseCell} | ${what} | ${fmt(r.median)} ${r.unit} | ${fmt(r.p10)} | ${fmt(r.p90)} | ${r.runs.map(fmt).join(' / ')} | ${spreadCell} | ${ratio} | ${r.target ?? ''} | ${verdict} |`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- main

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let started = performance.now();
function progress(what: string): void {
  process.stdout.write(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${what}\n`);
}

interface Args {
  engines: Engine[];
  runs: number;
  quick: boolean;
  cases: Set<number>;
  out: string | null;
  /** How long a round waits for the machine to be quiet before it starts anyway, in seconds. */
  quietWait: number;
}

const USAGE = 'usage: npm run bench [-- --engine chromium|firefox|all] [--runs N] [--quick] [--cases 1,2,…] [--quiet-wait S] [--out file]';

function parseArgs(argv: string[]): Args {
  const args: Args = { engines: ['chromium'], runs: 3, quick: false, cases: new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), out: null, quietWait: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--cases') args.cases = new Set(argv[++i]!.split(',').map(Number));
    else if (a === '--out') args.out = argv[++i]!;
    else if (a === '--quiet-wait') args.quietWait = Number(argv[++i]);
    else if (a === '--engine') {
      const e = argv[++i];
      if (e === 'all') args.engines = [...ENGINES];
      else if (ENGINES.includes(e as Engine)) args.engines = [e as Engine];
      else throw new Error(`--engine takes ${ENGINES.join(', ')} or all, not ${e}; ${USAGE}`);
    } else throw new Error(`unknown argument ${a}; ${USAGE}`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs takes a whole number ≥ 1');
  if (!(args.quietWait >= 0)) throw new Error('--quiet-wait takes seconds ≥ 0');
  if (args.out !== null && args.engines.length > 1) throw new Error('--out names one file: give one --engine with it');
  return args;
}

interface PageInfo {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  /** PerformanceObserver.supportedEntryTypes has 'longtask'. */
  longTasks: boolean;
}

export async function openPage<P extends BenchPage>(browser: { open(url: string): Promise<P> }, url: string): Promise<P> {
  const page = await browser.open(url);
  const deadline = Date.now() + 30_000;
  while ((await page.evaluate<string>('typeof window.bench').catch(() => 'undefined')) !== 'object') {
    if (Date.now() > deadline) throw new Error(`the bench page at ${url} did not load`);
    await sleep(100);
  }
  const info = await page.call<PageInfo>('info');
  if (!info.crossOriginIsolated) throw new Error('the bench page is not crossOriginIsolated: COOP/COEP headers are missing, timers would be 100 µs coarse');
  await page.prepare();
  await page.call('load');
  return page;
}

interface EngineSetup {
  name: string;
  executable: string;
  packageVersion: string;
  launch(): Promise<BenchBrowser>;
  driver: string;
}

function setup(engine: Engine): EngineSetup {
  if (engine === 'chromium') {
    const executable = chromiumPath();
    return {
      name: 'Chromium',
      executable,
      packageVersion: chromiumVersion(executable),
      launch: () => launchChromium(executable),
      driver: 'headless Chromium started by hand, page driven over a bare DevTools connection (Target, Runtime; Performance for TaskDuration, HeapProfiler for GC); no Network domain',
    };
  }
  const executable = firefoxPath();
  return {
    name: 'Firefox',
    executable,
    packageVersion: firefoxVersion(executable),
    launch: () => launchFirefox(executable),
    driver: 'headless Firefox started by hand with a fresh profile, page driven over a bare WebDriver BiDi connection (session, browsingContext, script; no network module subscribed); the heap from the memory reporter of the page\'s content process in the chrome realm (--remote-allow-system-access) after TestUtils.gc() in the page',
  };
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const plan = args.quick ? QUICK : FULL;
  started = performance.now();
  progress('building the bench page');
  await build({ configFile: CONFIG_FILE, logLevel: 'warn' });
  const server: PreviewServer = await preview({ configFile: CONFIG_FILE, logLevel: 'warn' });
  const origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
  if (!origin) throw new Error('vite preview did not report its URL');
  try {
    for (const engine of args.engines) await runEngine(engine, args, plan, origin);
  } finally {
    await server.close();
  }
}

async function runEngine(engine: Engine, args: Args, plan: Plan, origin: string): Promise<void> {
  const s = setup(engine);
  const runs: RunData[] = [];
  let browserInfo: { product: string; details: Record<string, unknown> } | null = null;
  let unavailable: Partial<Record<Metric, string>> = {};
  let hardwareConcurrency = 0;
  const engineStarted = performance.now();
  for (let run = 1; run <= args.runs; run++) {
    progress(`run ${run} of ${args.runs}: starting ${s.name}`);
    const browser = await s.launch();
    browserInfo = { product: browser.product, details: browser.details };
    // Ours: this process (driver and server) and the browser's whole tree; everything else is outside load.
    const load = new OutsideLoad(() => [process.pid, ...processTree(browser.pid)]);
    try {
      const page = await openPage(browser, `${origin}/bench/index.html`);
      const info = await page.call<PageInfo>('info');
      hardwareConcurrency = info.hardwareConcurrency;
      unavailable = {
        ...browser.unavailable,
        ...(info.longTasks ? {} : { longTasks: "the engine reports no 'longtask' entries (PerformanceObserver.supportedEntryTypes lacks it)" }),
      };
      const r = new Run(browser, page, plan, load, run, args.quietWait * 1000);
      await r.findRenderer();
      if ([1, 2, 3, 4, 7, 10].some((c) => args.cases.has(c))) await r.socketAndFetchCases(args.cases);
      if (args.cases.has(6)) await r.establish();
      if (args.cases.has(5)) await r.sessions();
      if (args.cases.has(8)) await r.flood();
      if (args.cases.has(9)) await r.leak();
      runs.push(r.data);
      const g = r.data.guard;
      progress(`run ${run} done: ${g.rounds} rounds, ${g.retried} redone for outside load; outside load median ${(median(g.outside) * 100).toFixed(1)} %, max ${(max(g.outside) * 100).toFixed(1)} % of a core`);
    } finally {
      await browser.close();
    }
    // Every run's figures are kept as it ends (in <out>.partial.json): a suite stopped later still leaves them.
    if (run < args.runs) writeResults(engine, s, args, plan, runs, browserInfo, unavailable, hardwareConcurrency, (performance.now() - engineStarted) / 60_000, false);
  }
  writeResults(engine, s, args, plan, runs, browserInfo, unavailable, hardwareConcurrency, (performance.now() - engineStarted) / 60_000, true);
}

function writeResults(
  engine: Engine,
  s: EngineSetup,
  args: Args,
  plan: Plan,
  runs: RunData[],
  browserInfo: { product: string; details: Record<string, unknown> } | null,
  unavailable: Partial<Record<Metric, string>>,
  hardwareConcurrency: number,
  minutes: number,
  final: boolean,
): void {
  const rows = buildRows(runs, plan, args.cases, unavailable);
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const machine = {
    cpus: os.cpus().length,
    cpuModel,
    hardwareConcurrency,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
  const browserName = browserInfo ? `${browserInfo.product} (${s.packageVersion})` : 'unknown';
  const header = `${runs.length} run${runs.length > 1 ? 's' : ''}${args.quick ? ' (quick plan)' : ''}, ${new Date().toISOString().slice(0, 10)}; ${browserName} headless; ${machine.cpus} × ${cpuModel}, ${machine.kernel}, Node ${machine.node}`;
  const markdown = table(rows);
  const out = args.out ?? DEFAULT_OUT[engine];
  const partial = out.replace(/(\.json)?$/, '.partial.json');
  if (!final) {
    writeFileSync(partial, `${JSON.stringify({ complete: false, engine, header, plan, unavailable, minutes, runs, rows, table: markdown }, null, 1)}\n`);
    process.stdout.write(`wrote ${partial} (${runs.length} of ${args.runs} runs)\n`);
    return;
  }
  rmSync(partial, { force: true });
  process.stdout.write(`\n${header}\n\n${markdown}\n`);
  const failed = rows.filter((r) => r.pass === false);
  const notJudged = rows.filter((r) => r.unmeasured);
  process.stdout.write(`\n${rows.filter((r) => r.pass !== undefined).length - failed.length} targets met, ${failed.length} missed${failed.length ? `: ${failed.map((r) => `${r.case} (${r.what})`).join('; ')}` : ''}${notJudged.length ? `; ${notJudged.length} n/a` : ''}\n`);
  for (const [metric, why] of Object.entries(unavailable)) process.stdout.write(`n/a in ${s.name}: ${metric}: ${why}\n`);
  process.stdout.write(`${s.name}: ${runs.length} run${runs.length > 1 ? 's' : ''} in ${minutes.toFixed(1)} min\n`);

  const results = {
    date: new Date().toISOString(),
    engine,
    browser: { ...browserInfo?.details, product: browserInfo?.product, executable: s.executable, packageVersion: s.packageVersion, headless: true },
    machine,
    quick: args.quick,
    quietWaitS: args.quietWait,
    plan,
    unavailable,
    minutes,
    method: {
      driver: s.driver,
      page: 'bench/index.html built by vite and served by vite preview with COOP/COEP (crossOriginIsolated checked), demo endpoint server in the same process',
      alternation: 'variants alternate within each round in rotating order, after warm-up; a round starts when outside load < 10 % of a core and is redone (up to 3 tries, least loaded kept) when it exceeded 15 %',
      ratios: 'per run, from the run medians of the alternated variants; the table gives the median of the run ratios',
    },
    rows,
    runs,
    table: markdown,
    header,
  };
  // Figures to 4 decimals (0.1 µs for times in ms) keep the file readable.
  const rounded = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1e4) / 1e4 : value);
  writeFileSync(out, `${JSON.stringify(results, rounded, 1)}\n`);
  process.stdout.write(`\nwrote ${out}\n`);
}

function chromiumVersion(executable: string): string {
  try {
    return execFileSync(executable, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
