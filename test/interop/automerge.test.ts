/**
 * Automerge Repo through syncmgr (README "Using Automerge Repo"): the example
 * handler (workers/examples/automerge-handler.ts) runs automerge-repo and its
 * WebSocket adapter unmodified over `endpointWebSocket('automerge')` against
 * the package's own server adapter with a server-side Repo
 * (test/interop/servers/automerge.ts). A document made on the server and
 * edited by two handlers at once converges: the server's copy holds every
 * edit, and a second session brings each handler all of them.
 */
import { expect, test } from 'vitest';
import { noLiveWorkers, testBed } from '../fixtures/harness.ts';
/** The document's shape (as in the handler). */
interface Edits {
  edits: Record<string, string>;
}

const bed = testBed();
const automergeWorker = () => new Worker(new URL('../../workers/examples/automerge-handler.ts', import.meta.url), { type: 'module' });

interface Stats {
  connected: number;
  open: number;
  closeCodes: number[];
}

async function stats(tenant: string): Promise<Stats> {
  const res = await fetch(`/interop/automerge/${tenant}/stats`, { cache: 'no-store' });
  return (await res.json()) as Stats;
}

/** The server's copy of the document at `url`. */
async function serverCopy(tenant: string, url: string): Promise<Edits> {
  const res = await fetch(`/interop/automerge/${tenant}/doc/${url.slice('automerge:'.length)}`, { cache: 'no-store' });
  return (await res.json()) as Edits;
}

/** How long a handler worker may take to call defineHandler(). */
const READY_MS = 45_000;

test('two handlers and the server converge on a document through automerge-repo\'s own sync server, over sockets the manager opens', { timeout: 150_000 }, async () => {
  const tenant = crypto.randomUUID();
  const created = await fetch(`/interop/automerge/${tenant}/create`, { method: 'POST', body: 'from server' });
  const { url } = (await created.json()) as { url: string };
  const [a, b] = [`am-a-${tenant}`, `am-b-${tenant}`];
  const m = bed.manager({
    endpoints: { automerge: { kind: 'websocket', url: `${location.origin.replace(/^http/, 'ws')}/interop/automerge/${tenant}` } },
    // The first worker loads automerge-repo and Automerge's WebAssembly through Vite, which on a busy
    // machine has taken Firefox more than the default ready time (10 s); the test's own bound stays above this.
    handlers: [
      { id: a, name: 'Automerge A', worker: automergeWorker, timeouts: { ready: READY_MS } },
      { id: b, name: 'Automerge B', worker: automergeWorker, timeouts: { ready: READY_MS } },
    ],
  });

  // Both handlers edit the document at once; each waits until the server has what it has.
  const first = await m.synchronize({ cookie: { documents: [url], edit: 'edited' } }).done;
  expect(first.handlers.map((h) => [h.outcome, h.items[0]?.status ?? h.error?.message])).toEqual([['succeeded', 'succeeded'], ['succeeded', 'succeeded']]);
  // Each handler's adapter had a socket of its own, closed when it was done.
  const sockets = first.connections.map((c) => [c.name, c.dedicated, c.handlers.join(), c.closedAt !== null]);
  expect(sockets).toHaveLength(2);
  expect(sockets).toEqual(expect.arrayContaining([['automerge', true, a, true], ['automerge', true, b, true]]));
  const all = { server: 'from server', [a]: 'edited', [b]: 'edited' };
  expect((await serverCopy(tenant, url)).edits).toEqual(all);

  // A second session brings each handler (whose repo kept nothing) the server's copy, every edit in it.
  const second = await m.synchronize({ cookie: { documents: [url] } }).done;
  expect(second.handlers.map((h) => [h.outcome, h.items[0]?.status])).toEqual([['succeeded', 'succeeded'], ['succeeded', 'succeeded']]);
  expect(second.handlers.map((h) => JSON.parse(h.items[0]?.text ?? 'null'))).toEqual([all, all]);

  // Every socket the server saw was closed by the adapter itself (its close() gives no code: 1005), none by
  // the manager at the session's end (1000), and none is open.
  expect(second.connections).toHaveLength(2);
  await expect.poll(async () => (await stats(tenant)).open).toBe(0);
  const seen = await stats(tenant);
  expect(seen.connected).toBe(first.connections.length + second.connections.length);
  expect(seen.closeCodes).toEqual([1005, 1005, 1005, 1005]);
  await noLiveWorkers();
});
