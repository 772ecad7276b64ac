/**
 * Yjs through syncmgr (README "Using Yjs"): the example handler
 * (workers/examples/yjs-handler.ts) runs y-websocket unmodified over
 * `endpointWebSocket('yjs')` against y-websocket's own server
 * (@y/websocket-server, test/interop/servers/yjs.ts). Edits made in two
 * handlers' local documents and by a client on the page converge; edits
 * made while the server drops y-websocket's socket reach the server when
 * y-websocket reconnects (workers/fixtures/yjs-drop-handler.ts).
 */
import { expect, test } from 'vitest';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence, fetchUpdates } from 'y-indexeddb';
import { noLiveWorkers, testBed } from '../fixtures/harness.ts';
// Types only: the fixture's module, run on the page, would define a handler there.
import type { DropCookie, DropMessage } from '../../workers/fixtures/yjs-drop-handler.ts';

const bed = testBed();
const yjsWorker = () => new Worker(new URL('../../workers/examples/yjs-handler.ts', import.meta.url), { type: 'module' });
const yjsDropWorker = () => new Worker(new URL('../../workers/fixtures/yjs-drop-handler.ts', import.meta.url), { type: 'module' });
const DOCUMENT = 'doc-1';

/** What the server holds and saw of a room (`GET /interop/yjs/<room>/state`). */
interface RoomState {
  text: string;
  connected: number;
  closeCodes: number[];
}
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

test('edits made offline while the server drops y-websocket\'s socket converge when it reconnects, on a new socket, in one session', { timeout: 90_000 }, async () => {
  const room = crypto.randomUUID();
  const channel = `yjs-drop-${room}`;
  const bus = new BroadcastChannel(channel);
  bed.cleanup(() => bus.close());
  const heard: DropMessage[] = [];
  bus.onmessage = (e: MessageEvent<DropMessage>) => void heard.push(e.data);
  const next = async (phase: DropMessage['phase']) => {
    await expect.poll(() => heard.some((h) => h.phase === phase), { timeout: CONVERGE_MS }).toBe(true);
    return heard.find((h) => h.phase === phase);
  };
  const m = bed.manager({
    endpoints: { yjs: { kind: 'websocket', url: `${location.origin.replace(/^http/, 'ws')}/interop/yjs/${room}` } },
    handlers: [{ id: 'yjs-drop', worker: yjsDropWorker }],
  });
  const [before, offline] = ['before drop;', ['offline 1;', 'offline 2;']];
  const session = m.synchronize({ cookie: { channel, before, offline } satisfies DropCookie });

  await next('synced');
  const cut = await fetch(`/interop/yjs/${room}/${DOCUMENT}/drop`, { method: 'POST' });
  expect(await cut.json()).toEqual({ dropped: 1 });
  // y-websocket saw the drop as a socket's close without a close frame.
  expect(await next('offline')).toEqual({ phase: 'offline', code: 1006 });

  const result = await session.done;
  const handler = result.handlers[0]!;
  expect([handler.outcome, handler.items[0]?.status ?? handler.error?.message]).toEqual(['succeeded', 'succeeded']);
  const everything = before + offline.join('');
  expect(handler.items[0]?.text).toBe(everything);
  // The reconnect was a new instance, so a second socket of its own; both in the result, both closed.
  expect(result.connections.map((c) => [c.name, c.dedicated, c.closedAt !== null])).toEqual([['yjs', true, true], ['yjs', true, true]]);
  // The server's document holds every edit; it saw two sockets: the one it cut (1006) and the one
  // y-websocket's destroy() closed (no code: 1005).
  const state = async () => (await (await fetch(`/interop/yjs/${room}/${DOCUMENT}/state`, { cache: 'no-store' })).json()) as RoomState;
  await expect.poll(async () => (await state()).closeCodes.length).toBe(2);
  expect(await state()).toEqual({ text: everything, connected: 2, closeCodes: [1006, 1005] });
  await noLiveWorkers();
});
