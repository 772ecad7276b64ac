/**
 * Using Yjs: a handler that syncs Yjs documents with a y-websocket server,
 * with y-websocket unmodified. The documents live in IndexedDB
 * (y-indexeddb, database `yjs:<handler id>:<document id>`), where the page
 * edits them, online or not; each session loads them, lets y-websocket
 * exchange what either side lacks over a socket of the endpoint `yjs`,
 * and stores what arrived. In an app, import from `syncmgr/handler`.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence, fetchUpdates } from 'y-indexeddb';
import { defineHandler, endpointWebSocket, type HandlerContext } from '../../src/handler.ts';

const YjsSocket = endpointWebSocket('yjs');

/** The documents this handler offers; the item id is the y-websocket room. */
export const DOCUMENTS = [{ id: 'doc-1', name: 'Shared document' }];

defineHandler({
  items: () => DOCUMENTS,
  async synchronize(itemIds, ctx) {
    for (const id of itemIds) {
      if ((await ctx.progress(id, { status: 'updating' })) !== 'continue') continue;
      await syncDocument(id, ctx);
      await ctx.progress(id, { status: 'succeeded' });
    }
  },
});

async function syncDocument(id: string, ctx: HandlerContext): Promise<void> {
  const doc = new Y.Doc();
  const local = new IndexeddbPersistence(`yjs:${ctx.handlerId}:${id}`, doc);
  await local.whenSynced;
  // The origin is ignored: 'ws://yjs/' means the endpoint's own URL, and the room goes below it.
  const provider = new WebsocketProvider('ws://yjs/', id, doc, { WebSocketPolyfill: YjsSocket, disableBc: true });
  try {
    await new Promise<void>((resolve, reject) => {
      // `synced`: the server's state has arrived, and ours went out before it (y-websocket answers
      // the server's state vector first).
      provider.on('sync', (synced: boolean) => synced && resolve());
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
  } finally {
    // Closes the socket (after what was sent before) and stops y-websocket's reconnecting.
    provider.destroy();
  }
  // A read after the writes of what arrived: it runs once they are committed.
  await fetchUpdates(local);
  await local.destroy();
  doc.destroy();
}
