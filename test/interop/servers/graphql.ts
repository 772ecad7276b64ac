// graphql-ws's own server (`useServer` from graphql-ws/use/ws), unmodified,
// for the graphql-ws interop tests, at `/interop/graphql/<tenant>`: a query
// `hello(name)` and a subscription `countdown(from)` that yields from..0.
// `GET /interop/graphql/<tenant>/stats` answers what the server saw of the
// tenant's sockets: how many connected (initialised), and the close code of
// each that closed, so a test sees that every client had a socket of its own.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';

const PREFIX = '/interop/graphql/';
const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, args: { name: { type: GraphQLString } }, resolve: (_root, args: { name?: string }) => `hello ${args.name ?? 'world'}` },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      countdown: {
        type: GraphQLInt,
        args: { from: { type: GraphQLInt } },
        async *subscribe(_root, args: { from?: number }) {
          for (let i = args.from ?? 3; i >= 0; i--) yield { countdown: i };
        },
      },
    },
  }),
});

export interface GraphqlStats {
  connected: number;
  closeCodes: number[];
}

export interface GraphqlServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

export function createGraphqlServer(): GraphqlServer {
  const wss = new WebSocketServer({ noServer: true });
  const stats = new Map<string, GraphqlStats>();
  const statsOf = (tenant: string) => {
    let s = stats.get(tenant);
    if (!s) stats.set(tenant, (s = { connected: 0, closeCodes: [] }));
    return s;
  };
  const tenantOf = (req: IncomingMessage) => (req.url ?? '').split('?', 1)[0]!.slice(PREFIX.length);
  const server = useServer({
    schema,
    onConnect: (ctx) => {
      statsOf(tenantOf(ctx.extra.request)).connected += 1;
    },
    onClose: (ctx, code) => {
      statsOf(tenantOf(ctx.extra.request)).closeCodes.push(code ?? 1005);
    },
  }, wss);
  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?', 1)[0]!;
      if (!path.startsWith(PREFIX)) return false;
      const tenant = path.slice(PREFIX.length);
      if (!TENANT.test(tenant)) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    handleRequest(req, res) {
      const m = /^\/interop\/graphql\/([^/]+)\/stats$/.exec(req.url ?? '');
      if (!m || req.method !== 'GET') return false;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(statsOf(m[1]!)));
      return true;
    },
    close() {
      void server.dispose();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
