// y-websocket's own server (@y/websocket-server), unmodified, for the Yjs
// interop tests: a WebSocket at `/interop/yjs/<room>` is handed to its
// `setupWSConnection`, which keeps one Y.Doc per room in this process. Tests
// use a fresh room each. `POST /interop/yjs/<room>/drop` cuts every socket of
// the room without a close frame (a server-side drop), answering how many;
// `GET /interop/yjs/<room>/state` answers what the server holds and saw of
// the room: its document's text `t`, how many sockets connected, and the
// close code of each that closed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { docs, setupWSConnection } from '@y/websocket-server/utils';

const PREFIX = '/interop/yjs/';
/** A room: a name, or two joined by `/` (a test's own prefix, then the document). */
const ROOM = /^[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64})?$/;

export interface YjsServer {
  /** Takes an upgrade under the prefix; answers false for any other path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Answers `POST <prefix><room>/drop` and `GET <prefix><room>/state`; answers false for any other request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

export interface YjsRoomState {
  text: string;
  connected: number;
  closeCodes: number[];
}

export function createYjsServer(): YjsServer {
  const wss = new WebSocketServer({ noServer: true });
  const rooms = new Map<string, Set<WebSocket>>();
  const seen = new Map<string, { connected: number; closeCodes: number[] }>();
  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?', 1)[0]!;
      if (!path.startsWith(PREFIX)) return false;
      const room = path.slice(PREFIX.length);
      if (!ROOM.test(room)) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const sockets = rooms.get(room) ?? new Set();
        rooms.set(room, sockets);
        sockets.add(ws);
        const stats = seen.get(room) ?? { connected: 0, closeCodes: [] };
        seen.set(room, stats);
        stats.connected += 1;
        ws.on('close', (code) => {
          sockets.delete(ws);
          stats.closeCodes.push(code);
        });
        setupWSConnection(ws, req, { docName: room });
      });
      return true;
    },
    handleRequest(req, res) {
      const state = /^\/interop\/yjs\/(.+)\/state$/.exec(req.url ?? '');
      if (state && req.method === 'GET') {
        const room = state[1]!;
        const answer: YjsRoomState = { text: docs.get(room)?.getText('t').toString() ?? '', connected: 0, closeCodes: [], ...seen.get(room) };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer));
        return true;
      }
      const m = /^\/interop\/yjs\/(.+)\/drop$/.exec(req.url ?? '');
      if (!m || req.method !== 'POST') return false;
      const sockets = [...(rooms.get(m[1]!) ?? [])];
      for (const ws of sockets) ws.terminate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ dropped: sockets.length }));
      return true;
    },
    close() {
      for (const sockets of rooms.values()) for (const ws of sockets) ws.terminate();
      wss.close();
      // The server keeps every room's document (and its awareness timer) for good; destroyed, they let the process exit.
      for (const doc of docs.values()) doc.destroy();
      docs.clear();
    },
  };
}
