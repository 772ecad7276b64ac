// The interop tests' servers, mounted on the server vitest's browser tests
// are served from (one origin for the page, its workers and every server):
// each library's own server, unmodified, under `/interop/<library>/`.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Plugin } from 'vite';
import { createAutomergeServer } from './automerge.ts';
import { createGraphqlServer } from './graphql.ts';
import { createPouchdbServer } from './pouchdb.ts';
import { createYjsServer } from './yjs.ts';

export function interopServers(): Plugin {
  const servers = [createYjsServer(), createGraphqlServer(), createPouchdbServer(), createAutomergeServer()];
  return {
    name: 'syncmgr-interop-servers',
    // Vite closes its plugins when its server closes; an open socket would hold a server's timers (and the
    // process) until the server's own HTTP 'close', which open upgrades delay.
    closeBundle() {
      for (const s of servers) s.close();
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!servers.some((s) => s.handleRequest(req, res))) next();
      });
      if (!server.httpServer) return;
      const http: EventEmitter = server.httpServer;
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        for (const s of servers) if (s.handleUpgrade(req, socket, head)) return;
      });
    },
  };
}
