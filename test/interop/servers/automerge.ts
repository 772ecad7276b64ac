// Automerge Repo's own sync server, unmodified, for the Automerge interop
// tests: a WebSocket at `/interop/automerge/<tenant>` is handed to the
// package's `WebSocketServerAdapter` (`NodeWSServerAdapter`) on a `ws` server,
// with a server-side `Repo` that keeps its documents in memory (a storage
// adapter over a Map: a storage is what gives the server a storage id, under
// which clients learn the heads the server holds). Tests use a fresh tenant
// each.
// `POST /interop/automerge/<tenant>/create` makes a document on the server,
// `{ edits: { server: <body> } }`, and answers its URL;
// `GET /interop/automerge/<tenant>/doc/<document id>` answers the server's
// copy of a document as JSON; `GET /interop/automerge/<tenant>/stats` answers
// what the server saw of the tenant's sockets: how many connected, how many
// are open, and the close code of each that closed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { Repo, isValidDocumentId, type AutomergeUrl, type Chunk, type DocumentId, type StorageAdapterInterface, type StorageKey } from '@automerge/automerge-repo';
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';

const PREFIX = '/interop/automerge/';
const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

export interface AutomergeStats {
  connected: number;
  open: number;
  closeCodes: number[];
}

export interface AutomergeServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

/** A storage adapter over a Map (the package's own in-memory one, a test helper, ships broken types). */
function memoryStorage(): StorageAdapterInterface {
  const data = new Map<string, Uint8Array>();
  const keyOf = (key: StorageKey) => key.join('\0');
  const inRange = (prefix: StorageKey) => [...data.keys()].filter((k) => k === keyOf(prefix) || k.startsWith(keyOf(prefix) + '\0'));
  return {
    load: async (key) => data.get(keyOf(key)),
    save: async (key, bytes) => void data.set(keyOf(key), bytes),
    remove: async (key) => void data.delete(keyOf(key)),
    loadRange: async (prefix): Promise<Chunk[]> => inRange(prefix).map((k) => ({ key: k.split('\0'), data: data.get(k) })),
    removeRange: async (prefix) => inRange(prefix).forEach((k) => data.delete(k)),
  };
}

export function createAutomergeServer(): AutomergeServer {
  const wss = new WebSocketServer({ noServer: true });
  // Made at first use: the adapter's keep-alive timer, which only the ws server's close stops, would keep
  // alive a process whose Vite config made this plugin without serving it (its closeBundle never runs).
  let repo: Repo | undefined;
  const repoOf = () =>
    (repo ??= new Repo({
      // The adapter's parameter is typed through isomorphic-ws, whose `export =` of ws's types does not match ws's own.
      network: [new WebSocketServerAdapter(wss as unknown as ConstructorParameters<typeof WebSocketServerAdapter>[0])],
      storage: memoryStorage(),
      // A sync server answers what clients ask for and announces nothing of its own.
      sharePolicy: async () => false,
    }));
  const stats = new Map<string, AutomergeStats>();
  const statsOf = (tenant: string) => {
    let s = stats.get(tenant);
    if (!s) stats.set(tenant, (s = { connected: 0, open: 0, closeCodes: [] }));
    return s;
  };
  const json = (res: ServerResponse, value: unknown, status = 200) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(value));
  };
  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?', 1)[0]!;
      if (!path.startsWith(PREFIX)) return false;
      const tenant = path.slice(PREFIX.length);
      if (!TENANT.test(tenant)) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return true;
      }
      repoOf();
      wss.handleUpgrade(req, socket, head, (ws) => {
        const s = statsOf(tenant);
        s.connected += 1;
        s.open += 1;
        ws.on('close', (code) => {
          s.open -= 1;
          s.closeCodes.push(code);
        });
        wss.emit('connection', ws, req);
      });
      return true;
    },
    handleRequest(req, res) {
      const m = /^\/interop\/automerge\/([A-Za-z0-9_-]{1,64})\/(create|stats|doc\/([A-Za-z0-9]+))$/.exec(req.url ?? '');
      if (!m) return false;
      const [, tenant, what, documentId] = m;
      if (what === 'stats' && req.method === 'GET') json(res, statsOf(tenant!));
      else if (what === 'create' && req.method === 'POST') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => json(res, { url: repoOf().create({ edits: { server: body } }).url }));
      } else if (documentId && req.method === 'GET') {
        if (!isValidDocumentId(documentId)) json(res, { error: 'not a document id' }, 400);
        else {
          repoOf().find(`automerge:${documentId as DocumentId}` as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] }).then(
            (handle) => json(res, handle.doc() ?? null),
            (error: unknown) => json(res, { error: String(error) }, 404),
          );
        }
      } else return false;
      return true;
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      void repo?.shutdown();
    },
  };
}
