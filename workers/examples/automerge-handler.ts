/**
 * Using Automerge Repo: a handler that syncs Automerge documents with an
 * Automerge Repo sync server, with automerge-repo and its WebSocket adapter
 * unmodified, over sockets of the endpoint `automerge`. The documents are
 * the session cookie's `documents` (Automerge URLs), one item each; the
 * cookie's `edit`, when given, is this handler's change to each
 * (`edits[<handler id>]`), a stand-in for an app's own. Each session waits
 * until the server's copy and this one have the same heads, then shuts its
 * repo down (which closes the socket) and reports the document's `edits` as
 * the item's progress text. The repo keeps nothing across sessions: give it
 * a storage adapter for that. In an app, import from `syncmgr/handler`.
 */
import { Repo, initializeWasm, type AutomergeUrl, type DocHandle } from '@automerge/automerge-repo/slim';
// The WebAssembly module as a file Vite serves; `/slim` leaves loading it to us.
import automergeWasm from '@automerge/automerge/automerge.wasm?url';
import { defineHandler, endpointWebSocket } from '../../src/handler.ts';

const AutomergeSocket = endpointWebSocket('automerge');

export interface AutomergeCookie {
  documents?: AutomergeUrl[];
  edit?: string;
}

export interface Edits {
  edits: Record<string, string>;
}

let cookie: AutomergeCookie = {};

defineHandler({
  initialize(info) {
    cookie = (info.cookie ?? {}) as AutomergeCookie;
  },
  items: () => (cookie.documents ?? []).map((url) => ({ id: url, name: url })),
  async synchronize(itemIds, ctx) {
    // The WebSocket adapter constructs the `WebSocket` of isomorphic-ws, which reads
    // globalThis.WebSocket once, when it is first imported, and has no option to pass one:
    // set the global first, import after.
    globalThis.WebSocket = AutomergeSocket;
    const [{ WebSocketClientAdapter }] = await Promise.all([
      import('@automerge/automerge-repo-network-websocket'),
      initializeWasm(automergeWasm),
    ]);
    // The origin is ignored: 'ws://automerge/' is the endpoint's own URL.
    const adapter = new WebSocketClientAdapter('ws://automerge/');
    const repo = new Repo({ network: [adapter] });
    try {
      await serverPeer(repo, ctx.signal);
      for (const id of itemIds) {
        if ((await ctx.progress(id, { status: 'updating' })) !== 'continue') continue;
        const handle = await repo.find<Edits>(id as AutomergeUrl, { signal: ctx.signal });
        const edit = cookie.edit;
        if (edit !== undefined) handle.change((doc) => void (doc.edits[ctx.handlerId] = edit));
        await sameHeadsAsServer(repo, handle, ctx.signal);
        await ctx.progress(id, { status: 'succeeded', text: JSON.stringify(handle.doc().edits) });
      }
    } finally {
      const socket = adapter.socket;
      // Disconnects the adapter (it closes its socket and stops reconnecting).
      await repo.shutdown();
      // Returning before the socket's close event races the session's end, which closes a socket the
      // manager still has open with 1000: the adapter's own close (1005) would not be the one the server sees.
      if (socket && socket.readyState !== AutomergeSocket.CLOSED) await new Promise((resolve) => socket.addEventListener('close', resolve, { once: true }));
    }
  },
});

/**
 * Waits for the server to answer the adapter's join: `find()` before it would
 * give up on a document after the adapter's one-second grace.
 */
function serverPeer(repo: Repo, signal: AbortSignal): Promise<void> {
  if (repo.peers.length > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    repo.networkSubsystem.once('peer', () => resolve());
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Waits until the server reports the heads this copy has: what it lacked has
 * arrived there, and what it had has arrived here. (Servers with a storage
 * report their heads under their storage id.)
 */
function sameHeadsAsServer(repo: Repo, handle: DocHandle<Edits>, signal: AbortSignal): Promise<void> {
  const same = (a: readonly string[] = [], b: readonly string[] = []) => a.length === b.length && a.every((h) => b.includes(h));
  return new Promise((resolve, reject) => {
    const check = () => {
      const ours = handle.heads();
      for (const peer of repo.peers) {
        const storageId = repo.getStorageIdOfPeer(peer);
        if (storageId && same(handle.getSyncInfo(storageId)?.lastHeads, ours)) {
          handle.off('remote-heads', check);
          handle.off('heads-changed', check);
          resolve();
          return;
        }
      }
    };
    handle.on('remote-heads', check);
    handle.on('heads-changed', check);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    check();
  });
}
