// A CouchDB-style server for the PouchDB interop tests: express-pouchdb,
// unmodified, over PouchDB with its in-memory adapter, at
// `/interop/pouchdb/<tenant>/<db>/…` (database `<tenant>_<db>` of the
// server, so tests never share one). Every request must carry
// `Authorization: Bearer <tenant's token>` (`GET /interop/pouchdb/<tenant>/_token`
// makes one, without authorization); any other is answered 401. `GET
// /interop/pouchdb/<tenant>/_seen` answers, without authorization, what the
// server saw of the tenant's requests (method, path, whether authorized).

import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);

type Plugged = { plugin(p: unknown): Plugged; defaults(o: unknown): unknown };
/** The process's in-memory PouchDB, built once: plugins change pouchdb-core's class for good, and Vite may load this file twice. */
const ONCE = Symbol.for('syncmgr.interop.memory-pouchdb');

function memoryPouchDB(): unknown {
  const cache = globalThis as { [ONCE]?: unknown };
  // CommonJS packages without types: their shapes are used as documented.
  cache[ONCE] ??= (require('pouchdb-core') as Plugged)
    .plugin(require('pouchdb-adapter-memory'))
    .plugin(require('pouchdb-adapter-http'))
    .plugin(require('pouchdb-mapreduce'))
    .plugin(require('pouchdb-replication'))
    .defaults({ adapter: 'memory' });
  return cache[ONCE];
}

const expressPouchDB = require('express-pouchdb') as (pouch: unknown, options: unknown) => (req: IncomingMessage, res: ServerResponse) => void;

const PREFIX = '/interop/pouchdb/';
const TENANT = /^[a-z][a-z0-9]{0,63}$/;

export interface SeenRequest {
  method: string;
  /** The path below the tenant (`notes/_bulk_get`), without the query. */
  path: string;
  authorized: boolean;
}

export interface PouchdbServer {
  /** Answers a request under the prefix; answers false for any other. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** No WebSockets here. */
  handleUpgrade(): boolean;
  close(): void;
}

export function createPouchdbServer(): PouchdbServer {
  // 'minimumForPouchDB': the routes PouchDB's replication uses, no admin pages or config files.
  const app = expressPouchDB(memoryPouchDB(), { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: '/dev/null' });
  const tokens = new Map<string, string>();
  const seen = new Map<string, SeenRequest[]>();
  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(value));
  };
  return {
    handleRequest(req, res) {
      const url = req.url ?? '';
      if (!url.startsWith(PREFIX)) return false;
      const [tenant = '', ...rest] = url.slice(PREFIX.length).split('/');
      if (!TENANT.test(tenant)) {
        json(res, 400, { error: 'bad_request', reason: 'the tenant must be lowercase letters and digits, starting with a letter' });
        return true;
      }
      const below = rest.join('/');
      const path = below.split('?', 1)[0]!;
      if (path === '_token' && req.method === 'GET') {
        const token = tokens.get(tenant) ?? `pouch-${crypto.randomUUID()}`;
        tokens.set(tenant, token);
        json(res, 200, { token });
        return true;
      }
      if (path === '_seen' && req.method === 'GET') {
        json(res, 200, seen.get(tenant) ?? []);
        return true;
      }
      const token = tokens.get(tenant);
      const authorized = token !== undefined && req.headers.authorization === `Bearer ${token}`;
      const list = seen.get(tenant) ?? [];
      seen.set(tenant, list);
      list.push({ method: req.method ?? '', path, authorized });
      if (!authorized) {
        json(res, 401, { error: 'unauthorized', reason: 'Authorization: Bearer <token> is required' });
        return true;
      }
      // The tenant's databases are the server's `<tenant>_<db>`.
      req.url = `/${rest.length > 0 && rest[0] !== '' ? `${tenant}_${below}` : ''}`;
      app(req, res);
      return true;
    },
    handleUpgrade: () => false,
    close() {
      tokens.clear();
      seen.clear();
    },
  };
}
