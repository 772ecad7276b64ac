// The Vite plugin that serves the demo's endpoints on Vite's own server: the
// dev server (`vite`), the preview server (`vite preview`) and the server that
// serves vitest's browser tests (which runs `configureServer` too). One origin
// for the page, its workers and the endpoints: no CORS, and tests build every
// URL from `location.origin`.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Connect, HttpServer, Plugin } from 'vite';
import { createEndpointServer } from './endpoint-server.ts';

/** The part of Vite's dev and preview servers the plugin uses. */
interface HostServer {
  middlewares: Connect.Server;
  httpServer: HttpServer | null;
}

export function endpointServer(): Plugin {
  return {
    name: 'syncmgr-endpoint-server',
    // Hooks return nothing, so the middleware runs before Vite's own (transforms,
    // static files, SPA fallback), which would otherwise answer our paths with HTML.
    configureServer(server) {
      attach(server);
    },
    configurePreviewServer(server) {
      attach(server);
    },
  };
}

function attach(server: HostServer): void {
  const core = createEndpointServer();
  server.middlewares.use((req, res, next) => core.handleRequest(req, res, next));

  // Middleware mode: the embedding app owns the HTTP server and its upgrades;
  // the HTTP endpoints still work, WebSockets do not.
  if (!server.httpServer) return;
  // Typed as a plain emitter: Vite's HttpServer is a union (http / http2) whose `on` overloads do not unify.
  const http: EventEmitter = server.httpServer;
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Paths that are not ours (Vite's HMR socket, vitest's channel) are left to their own listeners.
    core.handleUpgrade(req, socket, head);
  });
  http.once('close', () => core.close());
}
