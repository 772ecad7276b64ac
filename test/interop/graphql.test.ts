/**
 * graphql-ws through syncmgr (README "Using graphql-ws"): the example
 * handler (workers/examples/graphql-handler.ts) runs graphql-ws unmodified
 * over `endpointWebSocket('graphql')` against graphql-ws's own server
 * (test/interop/servers/graphql.ts). Two handlers on one endpoint at once,
 * lazy and not: each client has sockets of its own, so the server never
 * sees a second `connection_init` on a socket (it would close it with 4429).
 */
import { expect, test } from 'vitest';
import { noLiveWorkers, testBed } from '../fixtures/harness.ts';

const bed = testBed();
const graphqlWorker = () => new Worker(new URL('../../workers/examples/graphql-handler.ts', import.meta.url), { type: 'module' });

interface Stats {
  connected: number;
  closeCodes: number[];
}

async function stats(tenant: string): Promise<Stats> {
  const res = await fetch(`/interop/graphql/${tenant}/stats`, { cache: 'no-store' });
  return (await res.json()) as Stats;
}

test.for([
  { lazy: true, what: 'lazy (graphql-ws\'s default: a socket per operation burst)' },
  { lazy: false, what: 'not lazy (one socket per client for its whole life)' },
])('two handlers on one endpoint at once, $what: a query and a subscription each, every socket its own', async ({ lazy }) => {
  const tenant = crypto.randomUUID();
  const m = bed.manager({
    endpoints: { graphql: { kind: 'websocket', url: `${location.origin.replace(/^http/, 'ws')}/interop/graphql/${tenant}` } },
    handlers: [{ id: 'gql-a', worker: graphqlWorker }, { id: 'gql-b', worker: graphqlWorker }],
  });
  const result = await m.synchronize({ cookie: { lazy } }).done;
  expect(result.handlers.map((h) => [h.id, h.outcome, h.items[0]?.status ?? h.error?.message, h.items[0]?.text])).toEqual([
    ['gql-a', 'succeeded', 'succeeded', 'hello world; 3,2,1,0'],
    ['gql-b', 'succeeded', 'succeeded', 'hello world; 3,2,1,0'],
  ]);
  expect(result.connections.every((c) => c.dedicated && c.name === 'graphql' && c.closedAt !== null)).toBe(true);
  // The server closes a socket whose client initialises twice with 4429; here every socket ended with a normal close.
  const seen = await stats(tenant);
  expect(seen.connected).toBe(result.connections.length);
  if (lazy) expect(seen.connected).toBeGreaterThanOrEqual(2);
  else expect(seen.connected).toBe(2);
  await expect.poll(async () => (await stats(tenant)).closeCodes.length).toBe(seen.connected);
  expect((await stats(tenant)).closeCodes.every((code) => code === 1000)).toBe(true);
  for (const handlerId of ['gql-a', 'gql-b']) expect(result.connections.filter((c) => c.handlers[0] === handlerId).length).toBeGreaterThanOrEqual(1);
  await noLiveWorkers();
});
