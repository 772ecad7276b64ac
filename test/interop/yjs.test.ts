/**
 * Yjs through syncmgr (README "Using Yjs"): the example handler
 * (workers/examples/yjs-handler.ts) runs y-websocket unmodified over
 * `endpointWebSocket('yjs')` against y-websocket's own server
 * (@y/websocket-server, test/interop/servers/yjs.ts). Edits made in two
 * handlers' local documents and by a client on the page converge.
 */
import { expect, test } from 'vitest';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence, fetchUpdates } from 'y-indexeddb';
import { noLiveWorkers, testBed } from '../fixtures/harness.ts';

const bed = testBed();
const yjsWorker = () => new Worker(new URL('../../workers/examples/yjs-handler.ts', import.meta.url), { type: 'module' });
const DOCUMENT = 'doc-1';
/** Bound of a wait for the documents to converge: they do within a few round trips, a busy machine is slower. */
const CONVERGE_MS = 30_000;

/** Opens the local document of `handlerId` (as its handler names it), runs `fn` on its text, and waits for what it wrote to be stored. */
async function local<T>(handlerId: string, fn: (text: Y.Text) => T): Promise<T> {
  const doc = new Y.Doc();
  const persistence = new IndexeddbPersistence(`yjs:${handlerId}:${DOCUMENT}`, doc);
  await persistence.whenSynced;
  const value = fn(doc.getText('t'));
  await fetchUpdates(persistence);
  await persistence.destroy();
  doc.destroy();
  return value;
}

test('two handlers and a client on the page converge through y-websocket\'s own server, over sockets the manager opens', { timeout: 90_000 }, async () => {
  const room = crypto.randomUUID();
  const serverUrl = `${location.origin.replace(/^http/, 'ws')}/interop/yjs/${room}`;
  const [a, b] = [`yjs-a-${room}`, `yjs-b-${room}`];
  await local(a, (t) => t.insert(0, 'from A;'));
  await local(b, (t) => t.insert(0, 'from B;'));

  // A client on the page, with the browser's own WebSocket.
  const pageDoc = new Y.Doc();
  const page = new WebsocketProvider(serverUrl, DOCUMENT, pageDoc, { disableBc: true });
  bed.cleanup(() => page.destroy());
  await new Promise<void>((resolve) => page.on('sync', (synced: boolean) => synced && resolve()));
  pageDoc.getText('t').insert(0, 'from page;');

  const m = bed.manager({
    endpoints: { yjs: { kind: 'websocket', url: serverUrl } },
    handlers: [{ id: a, name: 'Yjs A', worker: yjsWorker }, { id: b, name: 'Yjs B', worker: yjsWorker }],
  });
  const first = await m.synchronize().done;
  expect(first.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  // Each handler's y-websocket had a socket of its own, closed when it was done.
  const sockets = first.connections.map((c) => [c.name, c.dedicated, c.handlers.join(), c.closedAt !== null]);
  expect(sockets).toHaveLength(2);
  expect(sockets).toEqual(expect.arrayContaining([['yjs', true, a, true], ['yjs', true, b, true]]));

  const parts = ['from A;', 'from B;', 'from page;'];
  const has = (text: string) => parts.every((p) => text.includes(p));
  await expect.poll(() => pageDoc.getText('t').toString(), { timeout: CONVERGE_MS }).toSatisfy(has);

  // A second session brings each handler's local document what the other one sent.
  const second = await m.synchronize().done;
  expect(second.handlers.map((h) => h.outcome)).toEqual(['succeeded', 'succeeded']);
  const texts = [await local(a, (t) => t.toString()), await local(b, (t) => t.toString())];
  expect(texts.every(has)).toBe(true);
  expect(texts).toEqual([pageDoc.getText('t').toString(), pageDoc.getText('t').toString()]);
  await noLiveWorkers();
});
