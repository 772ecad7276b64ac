/**
 * The demo's endpoint server (demo/server/endpoint-server.ts, the one the
 * browser tests reach through Vite), started in the Deno test's own process
 * on a plain node:http server: Deno runs node:http and the `ws` package from
 * node_modules. One per test, on an ephemeral loopback port, closed with
 * every connection it accepted before the test ends, so Deno's resource and
 * op sanitizers see all of it opened and closed within the test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEndpointServer } from '../../demo/server/endpoint-server.ts';

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Ends every socket, request and timer of the server, and stops listening. Idempotent. */
  close(): Promise<void>;
}

export async function startEndpointServer(): Promise<RunningServer> {
  const core = createEndpointServer();
  const http = createServer((req, res) => core.handleRequest(req, res, () => res.writeHead(404).end('not an endpoint path')));
  http.on('upgrade', (req, socket, head) => {
    if (!core.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => (closing ??= new Promise<void>((resolve) => {
      core.close();
      http.closeAllConnections();
      http.close(() => resolve());
    })),
  };
}
