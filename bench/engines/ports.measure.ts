/**
 * What control messages cost in this engine: Comlink over a worker's own port
 * against a transferred MessagePort, task ticks by every means, and the
 * library's own control paths (progress calls, session start, small socket
 * sends). Prints one `[ports]` JSON line; asserts nothing. Run per engine:
 * `ENGINE=webkit npx vitest run --config bench/engines/measure.config.ts`.
 */
import { test } from 'vitest';
import * as Comlink from 'comlink';
import { SyncManager, type HandlerStateEvent } from '../../src/index.ts';
import { TestServer } from '../../test/fixtures/server.ts';
import { tickKinds, timeTicks } from './ticks.ts';
import { PORTS_CHANNEL, type PortsCookie, type PortsReport, type ProbeApi } from './ports-protocol.ts';

/** Reps of each figure; each figure is their median. */
const REPS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 1000) / 1000;

/** `fn` REPS times; the median and the spread of the reps. */
async function reps(fn: () => Promise<number>): Promise<{ median: number; min: number; max: number }> {
  const xs: number[] = [];
  for (let i = 0; i < REPS; i++) xs.push(await fn());
  return { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) };
}

async function probe(): Promise<{ worker: Worker; overSelf: Comlink.Remote<ProbeApi>; overPort: Comlink.Remote<ProbeApi>; close(): void }> {
  const worker = new Worker(new URL('./workers/ports-probe.ts', import.meta.url), { type: 'module' });
  await new Promise<void>((resolve) => worker.addEventListener('message', function ready(e) {
    if ((e.data as { type?: string })?.type !== 'probe:ready') return;
    worker.removeEventListener('message', ready);
    resolve();
  }));
  const pageApi = { progress: () => 'continue' };
  Comlink.expose(pageApi, worker);
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(pageApi, port1);
  worker.postMessage({ type: 'probe:port', port: port2 }, [port2]);
  return { worker, overSelf: Comlink.wrap<ProbeApi>(worker), overPort: Comlink.wrap<ProbeApi>(port1), close: () => { port1.close(); worker.terminate(); } };
}

async function callsPerMs(remote: Comlink.Remote<ProbeApi>, n: number): Promise<number> {
  for (let i = 0; i < 20; i++) await remote.echo(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await remote.echo(i);
  return (performance.now() - t0) / n;
}

/** Resolves with the reports of `count` handlers of `sessionId`. */
function reportsOf(bus: BroadcastChannel, count: number, sessionId: () => string): Promise<PortsReport[]> {
  const got: PortsReport[] = [];
  return new Promise((resolve) => {
    bus.addEventListener('message', function on(e: MessageEvent<PortsReport>) {
      if (e.data.sessionId !== sessionId()) return;
      got.push(e.data);
      if (got.length === count) {
        bus.removeEventListener('message', on);
        resolve(got);
      }
    });
  });
}

/** The smallest step of performance.now() seen: the resolution of every single-sample figure. */
function timerStep(): number {
  let step = Infinity;
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    step = Math.min(step, t1 - t0);
  }
  return round(step);
}

test('control-message costs', async () => {
  const out: Record<string, unknown> = { reps: REPS, timerStepMs: timerStep() };
  const p = await probe();
  const N = 300;

  // (a) Comlink round trips
  out.comlink = {
    'page→worker, Worker object': await reps(() => callsPerMs(p.overSelf, N)),
    'page→worker, transferred port': await reps(() => callsPerMs(p.overPort, N)),
    'worker→page, worker global': await reps(() => p.overSelf.callPage('self', N)),
    'worker→page, transferred port': await reps(() => p.overPort.callPage('port', N)),
  };

  // (b) ticks, on the page and in the worker
  const ticks: Record<string, unknown> = {};
  for (const kind of tickKinds()) ticks[`page ${kind}`] = await reps(() => timeTicks(kind, kind === 'setTimeout-nested' ? 30 : 200));
  for (const kind of await p.overSelf.kinds()) ticks[`worker ${kind}`] = await reps(() => p.overSelf.ticks(kind, kind === 'setTimeout-nested' ? 30 : 200));
  out.ticks = ticks;
  p.close();

  // (c) the library's own control paths
  const server = TestServer.create();
  const handlers = Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, worker: () => new Worker(new URL('./workers/ports-handler.ts', import.meta.url), { type: 'module' }) }));
  const m = new SyncManager({
    name: `ports-${Date.now()}`, storage: 'memory', handlers, timeouts: { ready: 60_000 },
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } },
  });
  const bus = new BroadcastChannel(PORTS_CHANNEL);
  /** One session of `n` handlers; answers its wall time and the handlers' reports. */
  let afterReady = 0;
  /** Per phase a handler entered in the last session: ms from the previous phase (of the last handler to enter it). */
  let phases: Record<string, number> = {};
  const session = async (n: number, cookie: PortsCookie) => {
    let id = '';
    const reports = cookie.mode === 'empty' ? Promise.resolve([]) : reportsOf(bus, n, () => id);
    let lastReady = 0;
    const entered: Record<string, number> = {};
    const onState = (e: Event) => {
      const { sessionId, phase } = e as HandlerStateEvent;
      if (sessionId !== id) return;
      entered[phase] = performance.now();
      if (phase === 'initializing') lastReady = performance.now();
    };
    m.addEventListener('handlerstate', onState);
    const t0 = performance.now();
    const s = m.synchronize({ handlers: handlers.slice(0, n).map((h) => h.id), cookie });
    id = s.id;
    const result = await s.done;
    const ms = performance.now() - t0;
    m.removeEventListener('handlerstate', onState);
    afterReady = performance.now() - lastReady;
    entered.done = performance.now();
    phases = {};
    let previous = t0;
    for (const [phase, at] of Object.entries(entered)) {
      phases[phase] = at - previous;
      previous = at;
    }
    if (result.outcome !== 'succeeded') throw new Error(`session ${result.outcome}: ${result.handlers.map((h) => h.error?.message).join('; ')}`);
    return { ms, reports: await reports };
  };
  await session(1, { mode: 'empty' });
  await session(8, { mode: 'empty' });
  const library: Record<string, unknown> = {};
  for (const n of [1, 8]) {
    const ready: number[] = [];
    const steps: Record<string, number[]> = {};
    library[`session start→done, ${n} handler(s) (ms)`] = await reps(async () => {
      const { ms } = await session(n, { mode: 'empty' });
      ready.push(afterReady);
      for (const [phase, d] of Object.entries(phases)) (steps[phase] ??= []).push(d);
      return ms;
    });
    library[`session steps, ${n} handler(s): ms until the last handler entered each phase, medians`] = Object.fromEntries(Object.entries(steps).map(([k, xs]) => [k, round(median(xs))]));
    library[`session, last worker ready→done, ${n} handler(s) (ms)`] = { median: round(median(ready)), min: round(Math.min(...ready)), max: round(Math.max(...ready)) };
  }
  library['2000 awaited ctx.progress (ms)'] = await reps(async () => (await session(1, { mode: 'progress', count: 2000 })).reports[0]!.value.ms!);
  const sends = { send: [] as number[], echo: [] as number[] };
  for (let i = 0; i < REPS; i++) {
    const r = (await session(1, { mode: 'sends', count: 1000, size: 100 })).reports[0]!.value;
    sends.send.push(r.sendMs!);
    sends.echo.push(r.echoMs!);
  }
  library['1000 awaited send() of 100 B (ms)'] = { median: round(median(sends.send)), min: round(Math.min(...sends.send)), max: round(Math.max(...sends.send)) };
  library['1000 sends, until all echoed (ms)'] = { median: round(median(sends.echo)), min: round(Math.min(...sends.echo)), max: round(Math.max(...sends.echo)) };
  {
    const rtt = { channel: [] as number[], direct: [] as number[] };
    for (let i = 0; i < REPS; i++) {
      const r = (await session(1, { mode: 'rtt', count: 100, size: 100, url: server.wsUrl('live') })).reports[0]!.value;
      rtt.channel.push(r.channelMs!);
      rtt.direct.push(r.directMs!);
    }
    library['WS echo round trip, 100 B, syncmgr channel (ms)'] = { median: round(median(rtt.channel)), min: round(Math.min(...rtt.channel)), max: round(Math.max(...rtt.channel)) };
    library['WS echo round trip, 100 B, socket in the worker (ms)'] = { median: round(median(rtt.direct)), min: round(Math.min(...rtt.direct)), max: round(Math.max(...rtt.direct)) };
  }
  out.library = library;
  bus.close();
  await m.close();
  console.info(`[ports] ${JSON.stringify(out)}`);
});
