/**
 * `npm run bench:flood`: how much the browser's memory grows while the server
 * floods a WebSocket toward a handler whose worker is busy with a synchronous
 * loop. Not part of `npm test`.
 *
 * Each case compares a syncmgr channel (the socket in the manager, frames
 * posted on to the worker) with a WebSocket the worker opened itself (the
 * baseline: the browser's own backpressure). One rep is one fresh Chromium:
 * the bench page opens a serve session of h0, which establishes the socket,
 * floods itself once without the busy loop (warm-up), and then, after a
 * garbage collection and a pause, the driver reads the memory ("before"),
 * h0 asks for `--count` frames of the case's size and, once the first one
 * arrived, blocks its event loop for `--busy` ms. Meanwhile the driver samples
 * the page's renderer (the process that hosts the page and its workers):
 * private and resident memory from /proc/<pid>/smaps_rollup, and the main
 * thread's JS heap (DevTools Runtime.getHeapUsage: the heap in use, and the
 * ArrayBuffer backing stores). The figure of a rep is the last sample taken
 * before the busy loop ended, less "before"; the table gives the median of
 * the reps (`--runs`, in rotating case order), and the highest reading while
 * the loop ran.
 *
 * To compare two commits, run it in each tree with the same bench/ files:
 *
 *   npm run bench:flood [-- --runs 3] [--busy 6000] [--count 100000] [--label after] [--out file]
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import { chromiumPath } from '../scripts/chromium-path.ts';
import { launchChromium, type CdpPage } from './cdp.ts';
import { openPage } from './driver.ts';
import { OutsideLoad, countThreads, processMemory, processTree, rendererPids } from './proc.ts';
import { median } from './stats.ts';
import type { Command, FloodResult } from './shared/protocol.ts';

const MiB = 1024 * 1024;
const CONFIG_FILE = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const SOCKET_PATH = '/t/bench/ws/bench';
const SAMPLE_MS = 200;
const WARMUP_FRAMES = 2000;

type Via = 'channel' | 'direct';
interface Case {
  size: number;
  via: Via;
}
const CASES: Case[] = [
  { size: 1024, via: 'channel' },
  { size: 1024, via: 'direct' },
  { size: 100, via: 'channel' },
  { size: 100, via: 'direct' },
];
const label = (c: Case) => `${c.size} B frames, ${c.via === 'channel' ? 'syncmgr channel' : 'socket in the worker (baseline)'}`;

interface Sample {
  /** Date.now() when /proc was read. */
  at: number;
  rendererPrivate: number;
  rendererRss: number;
  /** Private memory of the browser's whole process tree. */
  treePrivate: number;
  heapUsed: number;
  backingStorage: number;
}

interface Rep {
  case: string;
  run: number;
  before: Sample;
  /** The last sample before the busy loop ended, and how long before its end it was taken. */
  end: Sample;
  endLeadMs: number;
  /** The highest reading of each counter during the busy loop. */
  peak: Omit<Sample, 'at'>;
  flood: FloodResult;
  /** Every sample from the start of the flood until the handler drained, less "before" (at: ms since busyStart). */
  series: Sample[];
  outsideLoad: number;
  session: string;
}

async function sample(page: CdpPage, browserPid: number, renderer: number): Promise<Sample> {
  const at = Date.now();
  const r = processMemory(renderer);
  if (!r) throw new Error(`the renderer ${renderer} is gone`);
  const treePrivate = processTree(browserPid).reduce((sum, p) => sum + (processMemory(p)?.privateKiB ?? 0), 0);
  const heap = await page.send<{ usedSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage');
  return { at, rendererPrivate: r.privateKiB * 1024, rendererRss: r.rssKiB * 1024, treePrivate: treePrivate * 1024, heapUsed: heap.usedSize, backingStorage: heap.backingStorageSize ?? Number.NaN };
}

async function collectGarbage(page: CdpPage): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await page.send('HeapProfiler.collectGarbage');
    await sleep(100);
  }
}

/** The renderer that hosts the page's workers (dedicated workers run in their page's process). */
function pageRenderer(browserPid: number): number {
  const hosts = rendererPids(browserPid).filter((p) => countThreads(p, 'DedicatedWorker') > 0);
  if (hosts.length !== 1) throw new Error(`expected one renderer with worker threads, found ${hosts.length}`);
  return hosts[0]!;
}

async function rep(origin: string, c: Case, run: number, count: number, busyMs: number): Promise<Rep> {
  const browser = await launchChromium(chromiumPath());
  const load = new OutsideLoad(() => [process.pid, ...processTree(browser.pid)]);
  try {
    const page = await openPage(browser, `${origin}/bench/index.html`);
    const command = <T>(cmd: Command<never>) => page.call<T>('command', 'h0', cmd);
    await page.call('openServe', ['h0']);
    if (c.via === 'channel') await command({ op: 'establish', name: 'ws', kind: 'websocket' });
    else await command({ op: 'open-direct', url: SOCKET_PATH });
    const warm = await command<FloodResult>({ op: 'flood', via: c.via, count: WARMUP_FRAMES, size: c.size, busyMs: 0 });
    if (warm.received !== WARMUP_FRAMES) throw new Error(`warm-up: ${warm.received} of ${WARMUP_FRAMES} frames`);
    const renderer = pageRenderer(browser.pid);
    await collectGarbage(page);
    await sleep(1000);
    const before = await sample(page, browser.pid, renderer);
    const samples: Sample[] = [];
    let stop = false;
    const sampling = (async () => {
      while (!stop) {
        const s = await sample(page, browser.pid, renderer);
        samples.push(s);
        await sleep(Math.max(0, SAMPLE_MS - (Date.now() - s.at)));
      }
    })();
    const load0 = load.sample();
    const flood = await command<FloodResult>({ op: 'flood', via: c.via, count, size: c.size, busyMs });
    const load1 = load.sample();
    stop = true;
    await sampling;
    const end = samples.filter((s) => s.at <= flood.busyEnd).at(-1);
    if (!end || end.at < flood.busyStart) throw new Error('no sample was taken during the busy loop');
    const during = samples.filter((s) => s.at >= flood.busyStart && s.at <= flood.busyEnd);
    const peakOf = (k: keyof Omit<Sample, 'at'>) => Math.max(...during.map((s) => s[k]));
    const peak = { rendererPrivate: peakOf('rendererPrivate'), rendererRss: peakOf('rendererRss'), treePrivate: peakOf('treePrivate'), heapUsed: peakOf('heapUsed'), backingStorage: peakOf('backingStorage') };
    const session = await page.call<{ described: string }>('closeServe', false);
    const series = samples.map((s) => ({
      at: s.at - flood.busyStart,
      rendererPrivate: s.rendererPrivate - before.rendererPrivate,
      rendererRss: s.rendererRss - before.rendererRss,
      treePrivate: s.treePrivate - before.treePrivate,
      heapUsed: s.heapUsed - before.heapUsed,
      backingStorage: s.backingStorage - before.backingStorage,
    }));
    return { case: label(c), run, before, end, endLeadMs: flood.busyEnd - end.at, peak, flood, series, outsideLoad: OutsideLoad.between(load0, load1), session: session.described };
  } finally {
    await browser.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Args {
  runs: number;
  busy: number;
  count: number;
  label: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, busy: 6000, count: 100_000, label: 'this tree', out: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--busy') args.busy = Number(argv[++i]);
    else if (a === '--count') args.count = Number(argv[++i]);
    else if (a === '--label') args.label = argv[++i]!;
    else if (a === '--out') args.out = argv[++i]!;
    else throw new Error(`unknown argument ${a}; usage: npm run bench:flood [-- --runs N] [--busy ms] [--count frames] [--label text] [--out file]`);
  }
  for (const k of ['runs', 'busy', 'count'] as const) if (!Number.isInteger(args[k]) || args[k] < 1) throw new Error(`--${k} takes a whole number ≥ 1`);
  args.out ||= fileURLToPath(new URL(`./results-flood-${args.label.replace(/\W+/g, '-')}.json`, import.meta.url));
  return args;
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  await build({ configFile: CONFIG_FILE, logLevel: 'warn' });
  const server = await preview({ configFile: CONFIG_FILE, logLevel: 'warn' });
  const origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
  if (!origin) throw new Error('vite preview did not report its URL');
  const reps: Rep[] = [];
  try {
    for (let run = 1; run <= args.runs; run++) {
      const order = [...CASES.slice((run - 1) % CASES.length), ...CASES.slice(0, (run - 1) % CASES.length)];
      for (const c of order) {
        const r = await rep(origin, c, run, args.count, args.busy);
        reps.push(r);
        const f = r.flood;
        process.stdout.write(`  run ${run} ${r.case}: renderer private +${mib(r.end.rendererPrivate - r.before.rendererPrivate)} MiB, heap +${mib(r.end.heapUsed - r.before.heapUsed)} MiB; handler got ${f.receivedBeforeBusy} before, ${f.received} in all${f.closeCode === null ? '' : `, channel closed ${f.closeCode}`}; outside load ${(r.outsideLoad * 100).toFixed(0)} % of a core\n`);
      }
    }
  } finally {
    await server.close();
  }
  const growth = (rs: Rep[], k: keyof Omit<Sample, 'at'>) => median(rs.map((r) => r.end[k] - r.before[k]));
  const lines = [
    `${args.count} frames toward a handler busy for ${args.busy} ms, ${args.label}: growth at the end of the busy loop, median of ${args.runs} (MiB)`,
    '',
    '| case | renderer private | renderer RSS | main JS heap used | main ArrayBuffer stores | browser tree private | renderer private, peak while busy | handler got (before busy / in all) | channel close |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const c of CASES) {
    const rs = reps.filter((r) => r.case === label(c));
    const per = (k: keyof Omit<Sample, 'at'>) => `${mib(growth(rs, k))} (${rs.map((r) => mib(r.end[k] - r.before[k])).join(' / ')})`;
    const peak = median(rs.map((r) => r.peak.rendererPrivate - r.before.rendererPrivate));
    lines.push(`| ${label(c)} | ${per('rendererPrivate')} | ${per('rendererRss')} | ${per('heapUsed')} | ${per('backingStorage')} | ${per('treePrivate')} | ${mib(peak)} | ${rs.map((r) => `${r.flood.receivedBeforeBusy}/${r.flood.received}`).join(', ')} | ${rs.map((r) => r.flood.closeCode ?? '–').join(', ')} |`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  writeFileSync(args.out, `${JSON.stringify({ date: new Date().toISOString(), args, table: lines.join('\n'), reps }, null, 1)}\n`);
  process.stdout.write(`\nwrote ${args.out}\n`);
}
