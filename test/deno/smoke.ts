/**
 * Runs under Deno (not Node, not a browser): the manager, a handler in a real
 * Deno module worker, a WebSocket and a fetch endpoint served by Deno itself.
 * Prints one JSON line with what happened; test/unit/deno.test.ts runs it and
 * checks that line. No IndexedDB here: the manager must cope on its own.
 */
import { SyncManager } from '../../src/index.ts';
import type { Report } from '../../workers/fixtures/script.ts';

declare const Deno: {
  serve(options: { port: number; hostname: string; onListen(): void }, handler: (req: Request) => Response): { addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket(req: Request): { socket: WebSocket; response: Response };
};

const closes: number[] = [];
const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, (req) => {
  const url = new URL(req.url);
  if (url.pathname === '/ws') {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    socket.onclose = (e) => closes.push(e.code);
    return response;
  }
  if (url.pathname === '/api/health') return Response.json({ ok: true, authorization: req.headers.get('authorization') });
  return new Response('not found', { status: 404 });
});
const origin = `http://127.0.0.1:${server.addr.port}`;
const manager = new SyncManager({
  name: 'deno-smoke',
  endpoints: {
    api: { kind: 'fetch', url: `${origin}/api/`, headers: { authorization: 'Bearer deno' } },
    live: { kind: 'websocket', url: `${origin}/ws` },
  },
  defaultEndpoint: 'api',
  handlers: [{ id: 'h', worker: () => new Worker(new URL('../../workers/fixtures/scripted-handler.ts', import.meta.url), { type: 'module' }) }],
});
const reports: Report[] = [];
const bus = new BroadcastChannel('syncmgr-fixture');
bus.onmessage = (e: MessageEvent<Report>) => reports.push(e.data);
const session = manager.synchronize({
  cookie: {
    scripts: {
      h: {
        steps: [
          { op: 'establish', name: 'live' },
          { op: 'send', on: 'live', data: 'hello from deno' },
          { op: 'expect', on: 'live', count: 1 },
          { op: 'establish', name: null, as: 'api' },
          { op: 'fetch', on: 'api', path: 'health', read: 'json' },
          { op: 'progress', item: 'a', update: { status: 'succeeded' } },
        ],
      },
    },
  },
});
const result = await session.done;
// Reports travel on their own channel: give the last ones a moment.
const deadline = Date.now() + 2000;
while (!reports.some((r) => r.phase === 'returned') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
await manager.close();
bus.close();
await server.shutdown();
console.log(JSON.stringify({
  outcome: result.handlers[0]?.outcome,
  error: result.handlers[0]?.error?.message ?? null,
  items: result.handlers[0]?.items.map((i) => i.status),
  connections: result.connections.map((c) => [c.name, c.closeCode]),
  serverCloses: closes,
  steps: reports.filter((r) => r.phase === 'step').map((r) => [r.op, r.ok, r.ok ? r.value : r.error?.message]),
}));
