// The demo's own handlers (workers/notes-handler.ts and workers/live-handler.ts)
// run under Deno against the demo's endpoint server, registered as
// demo/main.ts registers them, with absolute URLs (Deno has no `location`):
// both succeed over one shared `api` connection (one probe, the token on
// every request) and the `live` socket, which the server sees closed with
// 1000; the notes handler's ctx.store, kept in memory, makes a second session
// see no changes in a folder nobody wrote to.
import assert from 'node:assert/strict';
import type { SyncManager, SessionResult } from '../../src/index.ts';
import type { NotesList } from '../../demo/server/types.ts';
import { test, type Bed } from './bed.ts';

/** The manager of demo/main.ts, over the bed's tenant. */
function demoManager(bed: Bed): SyncManager {
  const { server } = bed;
  return bed.manager({
    endpoints: {
      api: { kind: 'fetch', url: server.apiUrl, headers: async () => ({ authorization: 'Bearer demo-token' }), probe: 'health' },
      live: { kind: 'websocket', url: server.wsUrl('live'), protocols: ['notes.v1'] },
    },
    defaultEndpoint: 'api',
    handlers: [
      { id: 'notes', name: 'Notes', endpoints: ['api'], worker: () => new Worker(new URL('../../workers/notes-handler.ts', import.meta.url), { type: 'module' }) },
      { id: 'live', name: 'Live changes', endpoints: ['api', 'live'], worker: () => new Worker(new URL('../../workers/live-handler.ts', import.meta.url), { type: 'module' }) },
    ],
  });
}

test('the demo handlers sync both folders and the live changes over shared connections, and the server sees them close', async (bed) => {
  const { server } = bed;
  const m = demoManager(bed);
  const result = await m.synchronize({ trigger: 'manual' }).done;

  assert.equal(result.outcome, 'succeeded');
  assert.deepEqual(result.handlers.map((h) => [h.id, h.outcome, h.items.map((i) => [i.id, i.status])]), [
    ['notes', 'succeeded', [['inbox', 'succeeded'], ['archive', 'succeeded']]],
    ['live', 'succeeded', [['changes', 'succeeded']]],
  ]);
  // One `api` connection for both handlers (which asked first is a race), one `live` socket.
  const connections = Object.fromEntries(result.connections.map((c) => [c.name, [[...c.handlers].sort(), c.closeCode]]));
  assert.deepEqual(connections, { api: [['live', 'notes'], null], live: [['live'], 1000] });

  const state = await server.waitFor((s) => s.sockets.every((x) => !x.open) && s, 2000);
  assert.deepEqual(state.sockets.map((s) => [s.channel, s.protocol, s.closeCode, s.closedBy]), [['live', 'notes.v1', 1000, 'client']]);
  const requests = state.requests.map((r) => [r.method, r.path, r.query, r.status, r.headers.authorization]);
  // The probe ran once, for the one shared connection; the token was on every request.
  assert.deepEqual(requests.filter(([, path]) => path === 'health'), [['GET', 'health', '', 200, 'Bearer demo-token']]);
  assert.deepEqual(requests.filter(([, path]) => path !== 'health').sort(), [
    ['GET', 'notes', 'folder=archive', 200, 'Bearer demo-token'],
    ['GET', 'notes', 'folder=inbox', 200, 'Bearer demo-token'],
    ['PUT', 'notes/live-demo', '', 200, 'Bearer demo-token'],
  ]);
  // The live handler heard the change its own write made, on the socket.
  const summary = m.log().find((e) => e.errorId === 'live-summary');
  assert.match(summary?.text ?? '', /^Live: [1-9]\d* change\(s\) seen in 1500 ms\.$/);
});

test("the notes handler's ctx.store lives in the manager's memory: a second session sees no change in a folder nobody wrote to", async (bed) => {
  const { server } = bed;
  const archive = ((await (await fetch(`${server.apiUrl}notes?folder=archive`)).json()) as NotesList).notes.length;
  assert.ok(archive > 0);
  const m = demoManager(bed);
  assert.equal(m.storage, 'memory');
  const text = (r: SessionResult) => r.handlers.find((h) => h.id === 'notes')!.items.find((i) => i.id === 'archive')!.text;

  const first = await m.synchronize({ trigger: 'manual' }).done;
  assert.equal(text(first), `${archive} notes, ${archive} changed`);
  const second = await m.synchronize({ trigger: 'manual' }).done;
  assert.equal(second.outcome, 'succeeded');
  assert.equal(text(second), `${archive} notes, 0 changed`);
  // The user's choice of the demo (Ideas unchecked) is kept: it was never synced.
  assert.deepEqual(m.items('notes').map((r) => [r.id, r.checked, r.status]), [['inbox', true, 'succeeded'], ['archive', true, 'succeeded'], ['ideas', false, null]]);
});
