/**
 * Linux /proc readers for the driver: CPU time of a thread or a process tree
 * (clock ticks of 10 ms), Chromium's renderer processes, and the load that
 * processes other than the benchmark's put on the machine.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in ticks of 1/100 s on Linux. */
const TICK_MS = 10;

function readStat(path: string): string[] | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  return [text.slice(0, text.indexOf(' ')), text.slice(text.indexOf('(') + 1, close), ...text.slice(close + 2).trim().split(' ')];
}

/** utime + stime of one thread, in ms (10 ms resolution); null when it is gone. */
export function threadCpuMs(pid: number, tid: number): number | null {
  const f = readStat(`/proc/${pid}/task/${tid}/stat`);
  return f ? (Number(f[13]) + Number(f[14])) * TICK_MS : null;
}

/** utime + stime of a process (all its threads), in ms. */
export function processCpuMs(pid: number): number {
  const f = readStat(`/proc/${pid}/stat`);
  return f ? (Number(f[13]) + Number(f[14])) * TICK_MS : 0;
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** `pid` and every process below it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const f = readStat(`/proc/${p}/stat`);
    if (!f) continue;
    const parent = Number(f[3]);
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(p);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Renderer processes under the browser. */
export function rendererPids(browserPid: number): number[] {
  return processTree(browserPid).filter((p) => cmdline(p).includes('--type=renderer'));
}

/** Threads of a process whose name starts with `prefix` (e.g. `DedicatedWorker`). */
export function countThreads(pid: number, prefix: string): number {
  let n = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith(prefix)) n += 1;
    } catch { /* gone */ }
  }
  return n;
}

/** Busy ticks of the whole machine (all CPUs), from /proc/stat. */
function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

export interface LoadSample {
  at: number;
  busyMs: number;
  ownMs: number;
}

/**
 * The CPU that processes other than ours (this Node process, which also runs
 * the server, and the browser's whole tree) use: other engineers' test runs on
 * the shared machine. In cores (1 = one core fully busy).
 */
export class OutsideLoad {
  readonly #own: () => number[];

  constructor(ownPids: () => number[]) {
    this.#own = ownPids;
  }

  sample(): LoadSample {
    const ownMs = this.#own().reduce((sum, p) => sum + processCpuMs(p), 0);
    return { at: performance.now(), busyMs: machineBusyTicks() * TICK_MS, ownMs };
  }

  /** Outside load between two samples, in cores. */
  static between(a: LoadSample, b: LoadSample): number {
    const wall = b.at - a.at;
    if (wall <= 0) return 0;
    return Math.max(0, (b.busyMs - a.busyMs - (b.ownMs - a.ownMs)) / wall);
  }

  /** Waits until the outside load over `windowMs` is below `limit` cores, at most `maxWaitMs`; answers the last reading. */
  async waitQuiet(limit: number, windowMs = 500, maxWaitMs = 30_000): Promise<number> {
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      const a = this.sample();
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const load = OutsideLoad.between(a, this.sample());
      if (load < limit || performance.now() > deadline) return load;
    }
  }
}

export interface ProcessMemory {
  /** Resident set (shared pages counted in full). */
  rssKiB: number;
  /** Private_Clean + Private_Dirty: pages only this process maps. */
  privateKiB: number;
}

/** Resident and private memory of a process, from /proc/<pid>/smaps_rollup (kB); null when it is gone. */
export function processMemory(pid: number): ProcessMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssKiB: field('Rss'), privateKiB: field('Private_Clean') + field('Private_Dirty') };
}
