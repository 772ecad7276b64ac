/**
 * PouchDB through syncmgr (README "Using PouchDB"): the example handler
 * (workers/examples/pouchdb-handler.ts) runs PouchDB unmodified over
 * `endpointFetch('couch')` against express-pouchdb on an in-memory PouchDB
 * (test/interop/servers/pouchdb.ts), which answers 401 without the
 * endpoint's token. Documents and large attachments written on the server
 * and in the handler's local database end up, byte for byte, on both sides.
 */
import { expect, test } from 'vitest';
import PouchDB from 'pouchdb-browser';
import { noLiveWorkers, testBed } from '../fixtures/harness.ts';

const bed = testBed();
const pouchWorker = () => new Worker(new URL('../../workers/examples/pouchdb-handler.ts', import.meta.url), { type: 'module' });

/** `n` random bytes. */
function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65_536)));
  return bytes;
}

const hex = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
/**
 * Whether this engine's IndexedDB stores a Blob. WebKitGTK's fails the
 * transaction, and PouchDB's IndexedDB adapter then waits forever on its
 * own check of that: PouchDB cannot run there at all, with syncmgr or without.
 */
async function indexedDbTakesBlobs(): Promise<boolean> {
  const name = `blob-check-${crypto.randomUUID()}`;
  const open = indexedDB.open(name);
  open.onupgradeneeded = () => open.result.createObjectStore('s');
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction('s', 'readwrite');
  tx.objectStore('s').put(new Blob(['x']), 'k');
  const stored = await new Promise<boolean>((resolve) => {
    tx.oncomplete = () => resolve(true);
    tx.onerror = tx.onabort = () => resolve(false);
  });
  db.close();
  indexedDB.deleteDatabase(name);
  return stored;
}

const BLOBS_IN_INDEXEDDB = await indexedDbTakesBlobs();

const digest = async (data: ArrayBuffer | Blob) => hex(await crypto.subtle.digest('SHA-256', data instanceof Blob ? await data.arrayBuffer() : data));

test.runIf(BLOBS_IN_INDEXEDDB)('PouchDB replicates both ways with a CouchDB-style server: hundreds of documents and MiB attachments, byte for byte, the token added by the manager (needs an IndexedDB that stores Blobs: not WebKitGTK\'s)', { timeout: 120_000 }, async () => {
  const tenant = `p${crypto.randomUUID().replaceAll('-', '')}`.slice(0, 24);
  const base = `${location.origin}/interop/pouchdb/${tenant}/`;
  const { token } = (await (await fetch(`${base}_token`)).json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const handlerId = `pouch-${tenant}`;

  // On the server: 300 documents and one with a 1.5 MiB attachment.
  const serverAttachment = randomBytes(1_572_864);
  expect((await fetch(`${base}notes`, { method: 'PUT', headers: auth })).status).toBe(201);
  const docs = Array.from({ length: 300 }, (_, i) => ({ _id: `server-${String(i).padStart(3, '0')}`, text: `written on the server, ${i}` }));
  expect((await fetch(`${base}notes/_bulk_docs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ docs }) })).status).toBe(201);
  expect((await fetch(`${base}notes/server-att/blob`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: serverAttachment })).status).toBe(201);

  // In the handler's local database (IndexedDB, which the page shares): 200 documents and a 1.25 MiB attachment.
  const localAttachment = randomBytes(1_310_720);
  bed.cleanup(() => new PouchDB(`pouch:${handlerId}:notes`).destroy());
  const before = new PouchDB(`pouch:${handlerId}:notes`);
  await before.bulkDocs(Array.from({ length: 200 }, (_, i) => ({ _id: `local-${String(i).padStart(3, '0')}`, text: `written offline, ${i}` })));
  await before.putAttachment('local-att', 'blob', new Blob([localAttachment], { type: 'application/octet-stream' }), 'application/octet-stream');
  // Closed while the handler writes: an open PouchDB keeps counts of its own that another instance's writes do not update.
  await before.close();

  const m = bed.manager({
    endpoints: { couch: { kind: 'fetch', url: base, headers: async () => auth } },
    handlers: [{ id: handlerId, name: 'Notes (PouchDB)', worker: pouchWorker }],
  });
  const result = await m.synchronize().done;
  expect(result.handlers[0]).toMatchObject({ outcome: 'succeeded' });
  expect(result.connections).toEqual([expect.objectContaining({ name: 'couch', kind: 'fetch', handlers: [handlerId], closedAt: expect.any(Number) })]);

  // The server has every document, and the handler's attachment byte for byte.
  const all = (await (await fetch(`${base}notes/_all_docs`, { headers: auth })).json()) as { total_rows: number; rows: { id: string }[] };
  expect(all.total_rows).toBe(502);
  const pushed = await (await fetch(`${base}notes/local-att/blob`, { headers: auth })).arrayBuffer();
  expect(await digest(pushed)).toBe(await digest(localAttachment.buffer));

  // The local database has every document, and the server's attachment byte for byte.
  const local = new PouchDB(`pouch:${handlerId}:notes`);
  const ids = (await local.allDocs()).rows.map((r) => r.id);
  expect(ids.filter((id) => !all.rows.some((r) => r.id === id))).toEqual([]);
  expect(ids).toHaveLength(502);
  expect(await digest((await local.getAttachment('server-att', 'blob')) as Blob)).toBe(await digest(serverAttachment.buffer));

  // Every request the handler's PouchDB made carried the endpoint's token (the server answers 401 without it).
  const seen = (await (await fetch(`${base}_seen`)).json()) as { method: string; path: string; authorized: boolean }[];
  const replication = seen.filter((s) => !['PUT notes', 'POST notes/_bulk_docs', 'PUT notes/server-att/blob', 'GET notes/_all_docs', 'GET notes/local-att/blob'].includes(`${s.method} ${s.path}`));
  expect(replication.length).toBeGreaterThan(5);
  expect(seen.filter((s) => !s.authorized)).toEqual([]);

  // A second session finds nothing new either way, and still succeeds.
  const seenBefore = seen.length;
  await local.close();
  const second = await m.synchronize().done;
  expect(second.handlers[0]).toMatchObject({ outcome: 'succeeded' });
  const after = new PouchDB(`pouch:${handlerId}:notes`);
  expect((await after.allDocs()).rows).toHaveLength(502);
  await after.close();
  const again = (await (await fetch(`${base}_seen`)).json()) as unknown[];
  expect(again.length).toBeGreaterThan(seenBefore);
  await noLiveWorkers();
});
