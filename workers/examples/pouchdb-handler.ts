/**
 * Using PouchDB: a handler that replicates a PouchDB database both ways
 * with a CouchDB-style server, with PouchDB unmodified. The local database
 * lives in IndexedDB (`_pouch_pouch:<handler id>:<item id>`), where the page
 * reads and writes it, online or not; each session replicates once in each
 * direction through `endpointFetch('couch')`, so the endpoint's
 * `Authorization` is added on the main thread and never enters the worker.
 * In an app, import from `syncmgr/handler`.
 */
import PouchDB from 'pouchdb-browser';
import { defineHandler, endpointFetch, type HandlerContext } from '../../src/handler.ts';

const couchFetch = endpointFetch('couch');

/** The databases this handler offers; the item id is the server's database. */
export const DATABASES = [{ id: 'notes', name: 'Notes' }];

defineHandler({
  items: () => DATABASES,
  async synchronize(itemIds, ctx) {
    for (const id of itemIds) {
      if ((await ctx.progress(id, { status: 'updating' })) !== 'continue') continue;
      const { pushed, pulled } = await replicate(id, ctx);
      await ctx.progress(id, { status: 'succeeded', text: `${pushed} sent, ${pulled} received` });
    }
  },
});

async function replicate(id: string, ctx: HandlerContext): Promise<{ pushed: number; pulled: number }> {
  const local = new PouchDB(`pouch:${ctx.handlerId}:${id}`);
  // The origin is ignored: 'http://couch/' means the endpoint's own URL, and the database goes below it.
  const remote = new PouchDB(`http://couch/${id}`, { fetch: couchFetch, skip_setup: true });
  try {
    // One pass each way (not `live`): the session ends when both are done.
    const replication = local.sync(remote);
    const cancel = () => replication.cancel();
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      const result = await replication;
      ctx.signal.throwIfAborted();
      return { pushed: result.push?.docs_written ?? 0, pulled: result.pull?.docs_written ?? 0 };
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
    }
  } finally {
    await Promise.all([local.close(), remote.close()]);
  }
}
