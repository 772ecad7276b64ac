/**
 * The bench page. It owns one SyncManager (as an app would) and the raw
 * baselines next to it, and exposes `window.bench`, which the driver
 * (bench/driver.ts) calls over a bare DevTools or WebDriver BiDi connection, one rep at a time.
 * Workers time their own loops; the page times what starts on the page.
 */
import * as Comlink from 'comlink';
import { SyncManager, type ItemEvent, type ItemSnapshot, type SessionResult } from '../../src/index.ts';
import { isWorkerLock } from '../../src/protocol/locks.ts';
import type { BenchCookie, Command, CommandMessage, RawProgressMessage, WorkerMessage } from '../shared/protocol.ts';

/** Handlers `h0`…`h31` (all the same bench worker) and `leak`. */
export const MAX_HANDLERS = 32;
export const SOCKET_PATH = '/t/bench/ws/bench';
const EST_TENANT = 'benchest';
const LEAK_TENANT = 'benchleak';

// ---- workers the manager spawns: the page keeps the latest worker of each handler to talk to it ----

const workers = new Map<string, Worker>();
const serving = new Map<string, () => void>();
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextCommand = 1;

function onWorkerMessage(event: MessageEvent<WorkerMessage>): void {
  const m = event.data;
  if (m?.type === 'bench:serving') {
    serving.get(m.handlerId)?.();
    serving.delete(m.handlerId);
  } else if (m?.type === 'bench:reply') {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(m.error));
  }
}

function benchWorker(handlerId: string): Worker {
  const worker = new Worker(new URL('../workers/bench-handler.ts', import.meta.url), { type: 'module', name: `bench ${handlerId}` });
  worker.addEventListener('message', onWorkerMessage);
  workers.set(handlerId, worker);
  return worker;
}

const handlerIds = Array.from({ length: MAX_HANDLERS }, (_, i) => `h${i}`);

const manager = new SyncManager({
  name: 'syncmgr-bench',
  endpoints: {
    ws: { kind: 'websocket', url: SOCKET_PATH },
    api: { kind: 'fetch', url: '/t/bench/api/' },
    est: { kind: 'websocket', url: `/t/${EST_TENANT}/ws/est` },
    leakws: { kind: 'websocket', url: `/t/${LEAK_TENANT}/ws/leak` },
    leakapi: { kind: 'fetch', url: `/t/${LEAK_TENANT}/api/` },
  },
  handlers: [...handlerIds, 'leak'].map((id) => ({ id, worker: () => benchWorker(id) })),
  // Serve sessions span many reps.
  timeouts: { handler: 3_600_000 },
});

/** The same handlers with `storage: 'memory'`: separates the cost of persisting state from the rest of a session. */
const memoryManager = new SyncManager({
  name: 'syncmgr-bench-memory',
  storage: 'memory',
  handlers: handlerIds.map((id) => ({ id, worker: () => benchWorker(id) })),
});

// ---- what the page renders: the progress flood's listener ----

const rows = new Map<string, { text: HTMLTableCellElement; bar: HTMLProgressElement }>();

function render(handlerId: string, item: Pick<ItemSnapshot, 'status' | 'value' | 'max'>): void {
  let row = rows.get(handlerId);
  if (!row) {
    const tr = document.createElement('tr');
    const name = tr.insertCell();
    name.textContent = handlerId;
    const text = tr.insertCell();
    const bar = document.createElement('progress');
    tr.insertCell().append(bar);
    document.getElementById('rows')!.append(tr);
    row = { text, bar };
    rows.set(handlerId, row);
  }
  row.text.textContent = `${item.status} ${item.value}/${item.max}`;
  row.bar.max = item.max || 1;
  row.bar.value = item.value;
}

/** The flood's listener; only during case 8, so that no other case pays for rendering that its baseline does not do. */
const renderProgress = (event: ItemEvent) => render(event.handlerId, event.item);

// ---- long tasks ----

const longTasks: { start: number; duration: number }[] = [];
/** Feature test: an engine without 'longtask' entries (Firefox) reports none; the driver then says "n/a", not "no long task". */
const longTasksSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
if (longTasksSupported) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
}

/** Runs `fn` and answers its value with the long tasks that started meanwhile (entries arrive after their task: wait a little). */
async function withTasks<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; longTasks: number[] }> {
  const t0 = performance.now();
  const value = await fn();
  const t1 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 30));
  return { value, wallMs: t1 - t0, longTasks: longTasks.filter((t) => t.start >= t0 && t.start <= t1).map((t) => t.duration) };
}

// ---- sessions in serve mode ----

let serveSession: { ids: string[]; done: Promise<SessionResult> } | null = null;

async function openServe(ids: string[]): Promise<void> {
  if (serveSession) throw new Error('a serve session is open');
  const ready = ids.map((id) => new Promise<void>((resolve) => serving.set(id, resolve)));
  const session = manager.synchronize({ handlers: ids, cookie: { mode: 'serve' } satisfies BenchCookie });
  serveSession = { ids, done: session.done };
  await Promise.race([Promise.all(ready), session.done.then((r) => Promise.reject(new Error(`the serve session ended early: ${describe(r)}`)))]);
}

function command(handlerId: string, cmd: Command<MessagePort>, transfer: Transferable[] = []): Promise<unknown> {
  const worker = workers.get(handlerId);
  if (!worker) throw new Error(`no worker for ${handlerId}`);
  const id = nextCommand++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ type: 'bench:command', id, command: cmd } satisfies CommandMessage<MessagePort>, transfer);
  });
}

/** Ends the serve session; unless `strict` is false, one that did not succeed throws. */
async function closeServe(strict = true): Promise<{ outcome: string; described: string; connections: { name: string; closeCode: number | null }[] }> {
  const s = serveSession;
  if (!s) throw new Error('no serve session');
  await Promise.all(s.ids.map((id) => command(id, { op: 'finish' })));
  const result = await s.done;
  serveSession = null;
  if (strict && result.outcome !== 'succeeded') throw new Error(`serve session ${describe(result)}`);
  return { outcome: result.outcome, described: describe(result), connections: result.connections.map((c) => ({ name: c.name, closeCode: c.closeCode })) };
}

function describe(result: SessionResult): string {
  return `${result.outcome}: ${result.handlers.map((h) => `${h.id} ${h.outcome}${h.error ? ` (${h.error.message})` : ''}`).join(', ')}`;
}

// ---- the hand-written relay (the bare platform's way to own a socket on the main thread) ----

let relaySocket: WebSocket | null = null;

async function attachRelay(handlerId: string, path: string): Promise<void> {
  const ws = new WebSocket(new URL(path, location.href).href.replace(/^http/, 'ws'));
  ws.binaryType = 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onclose = () => reject(new Error('relay socket closed before it opened'));
  });
  const { port1, port2 } = new MessageChannel();
  ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
    const data = event.data;
    port1.postMessage(data, typeof data === 'string' ? [] : [data]);
  };
  port1.onmessage = (event: MessageEvent<string | ArrayBuffer>) => ws.send(event.data);
  relaySocket = ws;
  await command(handlerId, { op: 'attach-relay', port: port2 }, [port2]);
}

// ---- case 5: session overhead, and its raw baseline ----

async function emptySession(n: number, storage: 'indexeddb' | 'memory' = 'indexeddb'): Promise<number> {
  const t0 = performance.now();
  const owner = storage === 'memory' ? memoryManager : manager;
  const result = await owner.synchronize({ handlers: handlerIds.slice(0, n), cookie: { mode: 'empty' } satisfies BenchCookie }).done;
  const ms = performance.now() - t0;
  if (result.outcome !== 'succeeded' || result.handlers.some((h) => h.outcome !== 'succeeded')) throw new Error(`empty session ${describe(result)}`);
  return ms;
}

/** Spawns `n` workers, waits for each one's ready message, pings each, terminates them: by hand, without the library. */
async function rawWorkers(n: number, module: 'raw' | 'runtime' = 'raw'): Promise<number> {
  const t0 = performance.now();
  const started: Worker[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const worker = module === 'runtime'
      ? new Worker(new URL('../workers/runtime-worker.ts', import.meta.url), { type: 'module' })
      : new Worker(new URL('../workers/raw-worker.ts', import.meta.url), { type: 'module' });
    ready.push(new Promise((resolve) => (worker.onmessage = () => resolve())));
    started.push(worker);
  }
  await Promise.all(ready);
  await Promise.all(started.map((worker) => new Promise<void>((resolve) => {
    worker.onmessage = () => resolve();
    worker.postMessage('ping');
  })));
  for (const worker of started) worker.terminate();
  return performance.now() - t0;
}

// ---- case 6: establish, first and repeat ----

async function serverState(tenant: string): Promise<{ sockets: { channel: string; open: boolean }[] }> {
  const response = await fetch(`/__syncmgr/t/${tenant}/state`);
  return (await response.json()) as { sockets: { channel: string; open: boolean }[] };
}

/**
 * h0 establishes `est` first (the socket opens); h1 repeats it (its worker's
 * first call to the manager: that code is still cold in a new worker), then
 * once more (warm: what the call itself costs). The server then counts the
 * sockets of `est`.
 */
async function establishPair(): Promise<{ first: number; repeat: number; repeatWarm: number; rawOpen: number; openSockets: number }> {
  await openServe(['h0', 'h1']);
  try {
    const first = (await command('h0', { op: 'establish', name: 'est', kind: 'websocket' })) as number;
    const repeat = (await command('h1', { op: 'establish', name: 'est', kind: 'websocket' })) as number;
    const repeatWarm = (await command('h1', { op: 'establish', name: 'est', kind: 'websocket' })) as number;
    const rawOpen = (await command('h0', { op: 'open-direct', url: `/t/${EST_TENANT}/ws/raw` })) as number;
    const state = await serverState(EST_TENANT);
    const openSockets = state.sockets.filter((s) => s.open && s.channel === 'est').length;
    return { first, repeat, repeatWarm, rawOpen, openSockets };
  } finally {
    await closeServe();
  }
}

// ---- case 8: progress flood, and its raw baseline ----

interface FloodResult {
  ms: number;
  calls: number;
  /** Long tasks (ms) that started during the flood. */
  longTasks: number[];
}

async function progressFlood(handlers: number, count: number): Promise<FloodResult> {
  const ids = handlerIds.slice(0, handlers);
  manager.addEventListener('progress', renderProgress);
  await openServe(ids);
  try {
    const flood = await withTasks(() => Promise.all(ids.map((id) => command(id, { op: 'progress', count }))));
    return { ms: flood.wallMs, calls: handlers * count, longTasks: flood.longTasks };
  } finally {
    await closeServe();
    manager.removeEventListener('progress', renderProgress);
  }
}

async function rawProgressFlood(handlers: number, count: number): Promise<FloodResult> {
  const started: Worker[] = [];
  await Promise.all(Array.from({ length: handlers }, () => new Promise<void>((resolve) => {
    const worker = new Worker(new URL('../workers/raw-progress.ts', import.meta.url), { type: 'module' });
    worker.onmessage = () => resolve();
    started.push(worker);
  })));
  const flood = await withTasks(() => Promise.all(started.map((worker, i) => new Promise<void>((resolve) => {
    const { port1, port2 } = new MessageChannel();
    const handlerId = `raw${i}`;
    Comlink.expose({
      progress(_itemId: string, update: { status: string; value: number; max: number }) {
        render(handlerId, { status: update.status as ItemSnapshot['status'], value: update.value, max: update.max });
        return 'continue';
      },
    }, port1);
    worker.onmessage = (event: MessageEvent<RawProgressMessage<MessagePort>>) => {
      if (event.data.type === 'done') {
        port1.close();
        resolve();
      }
    };
    worker.postMessage({ type: 'go', port: port2, count } satisfies RawProgressMessage<MessagePort>, [port2]);
  }))));
  for (const worker of started) worker.terminate();
  return { ms: flood.wallMs, calls: handlers * count, longTasks: flood.longTasks };
}

// ---- case 9: leaks ----

async function leakSessions(n: number): Promise<{ ms: number; failed: string[] }> {
  const failed: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const result = await manager.synchronize({ handlers: ['leak'], cookie: { mode: 'leak', socket: 'leakws', api: 'leakapi' } satisfies BenchCookie }).done;
    if (result.outcome !== 'succeeded') failed.push(describe(result));
  }
  return { ms: performance.now() - t0, failed: failed.slice(0, 5) };
}

async function leakCounts(): Promise<{ workerLocksHeld: number; workerLocksWaiting: number; serverOpenSockets: number; activeSession: boolean }> {
  const locks = await navigator.locks.query();
  const mine = (l: LockInfo) => isWorkerLock(l.name);
  const state = await serverState(LEAK_TENANT);
  return {
    workerLocksHeld: (locks.held ?? []).filter(mine).length,
    workerLocksWaiting: (locks.pending ?? []).filter(mine).length,
    serverOpenSockets: state.sockets.filter((s) => s.open).length,
    activeSession: manager.activeSession !== null,
  };
}

// ---- for the driver ----

function busy(ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}

const bench = {
  info: () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    longTasks: longTasksSupported,
  }),
  busy,
  /** Loads the managers' stored state (IndexedDB) before anything is timed. */
  load: () => Promise.all([manager.load(), memoryManager.load()]),
  openServe,
  closeServe,
  command: (handlerId: string, cmd: Command<MessagePort>) => command(handlerId, cmd),
  /** One command, with the long tasks it caused. */
  rep: (handlerId: string, cmd: Command<MessagePort>) => withTasks(() => command(handlerId, cmd)),
  attachRelay,
  closeRelay: () => {
    relaySocket?.close(1000);
    relaySocket = null;
  },
  emptySession: (n: number, storage?: 'indexeddb' | 'memory') => withTasks(() => emptySession(n, storage)),
  rawWorkers: (n: number, module?: 'raw' | 'runtime') => withTasks(() => rawWorkers(n, module)),
  establishPair,
  progressFlood,
  rawProgressFlood,
  leakSessions,
  leakCounts,
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}
window.bench = bench;
