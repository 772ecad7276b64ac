// The framework-free core of the demo's endpoint server: a request handler
// and an upgrade handler that any `node:http` server (Vite's, or a plain one
// in unit tests) can call. It binds nothing itself. State (tenants, records,
// sockets) is process-wide (see registry.ts); what an instance owns is the
// connections it accepted, which `close()` ends.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { routeApi } from './api-routes.ts';
import { isChaosPath, serveChaos } from './chaos-routes.ts';
import { routeControl } from './control-routes.ts';
import { type InjectedFailure, takeApiFailure, takeApiReset } from './faults.ts';
import { BodyTooLarge, type Reply, errorReply, headersOf, readBody, writeReply } from './http-io.ts';
import { tenantFor } from './registry.ts';
import { type HttpRoute, matchHttp, matchUpgrade } from './routes.ts';
import { sleep } from './sleep.ts';
import { startSession } from './socket-session.ts';

/** Largest API request body (the echo endpoint must take tens of MiB). */
export const MAX_API_BODY_BYTES = 256 * 1024 * 1024;
/** Largest control request body. */
export const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

export interface EndpointServer {
  /** Connect-style middleware: serves our paths, calls `next()` for every other one. */
  handleRequest(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** Takes over an upgrade on our paths and returns true; returns false (touching nothing) for any other path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends every connection this instance accepted (sockets, held upgrades, pending requests) and its timers. Idempotent. */
  close(): void;
}

export function createEndpointServer(): EndpointServer {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    // The first subprotocol the client offers (ws only asks when it offered some).
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  /** Aborts every pending delay at once when the instance closes. */
  const lifetime = new AbortController();
  /** How to end each connection this instance owns; entries remove themselves when the connection ends. */
  const owned = new Set<() => void>();
  let closed = false;

  function own(emitter: { once(event: 'close', listener: () => void): unknown }, end: () => void): void {
    owned.add(end);
    emitter.once('close', () => owned.delete(end));
  }

  async function serveHttp(route: HttpRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (route.kind === 'invalid') return writeReply(res, errorReply(400, route.error));
    if (route.kind === 'control') {
      let body: Buffer;
      try {
        body = await readBody(req, MAX_CONTROL_BODY_BYTES, () => {});
      } catch (err) {
        return bodyFailed(res, err);
      }
      return writeReply(res, routeControl({ tenant: tenantFor(route.tenant), verb: route.verb, method: req.method ?? 'GET', body }));
    }
    return serveApi(route, req, res);
  }

  async function serveApi(route: Extract<HttpRoute, { kind: 'api' }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tenant = tenantFor(route.tenant);
    const method = req.method ?? 'GET';
    const headers = headersOf(req);
    const record = tenant.recordRequest({ method, path: route.path, query: route.query, headers });
    const gone = new AbortController();
    const signal = AbortSignal.any([gone.signal, lifetime.signal]);
    res.once('finish', () => {
      record.finished = true;
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      record.aborted = true;
      gone.abort();
    });

    let body: Buffer;
    try {
      body = await readBody(req, MAX_API_BODY_BYTES, (bytes) => {
        record.bodyBytes = bytes;
      });
    } catch (err) {
      if (err instanceof BodyTooLarge) record.status = 413;
      return bodyFailed(res, err);
    }

    // Faults apply before routing, to every API path (health included).
    if (takeApiReset(tenant.faults, route.path)) {
      // A network error for the client: a response every engine refuses, then
      // the connection ends. Two different Content-Lengths make Chromium and
      // Firefox refuse it, a NUL in a header WebKit (libsoup). With no bytes at
      // all, browsers resend the request by themselves on a reused connection,
      // so one fault would cost a varying number of requests; a refused answer
      // is never resent. Bytes that are no HTTP at all will not do: Firefox
      // reads them as an HTTP/0.9 response, status 200.
      res.socket?.end('HTTP/1.1 200 OK\r\nX-Fault: a\0b\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx');
      res.destroy();
      return;
    }
    const failure = takeApiFailure(tenant.faults, route.path);
    if (!(await sleep(tenant.faults.apiDelayMs, signal))) return;
    if (!failure && isChaosPath(route.path)) return serveChaos({ tenant, path: route.path, params: new URLSearchParams(route.query), record, res });
    const reply = failure
      ? failureReply(failure)
      : await routeApi({
          tenant,
          method,
          path: route.path,
          params: new URLSearchParams(route.query),
          body,
          contentType: req.headers['content-type'],
          headers,
          signal,
        });
    if (reply === null || signal.aborted) return;
    record.status = reply.status;
    // Lets a client tell which request a response answers (e.g. the last of several retries).
    reply.headers['x-request-id'] = String(record.id);
    await writeReply(res, reply);
  }

  return {
    handleRequest(req, res, next) {
      const route = closed || req.url === undefined ? null : matchHttp(req.url);
      if (route === null) {
        next();
        return;
      }
      own(res, () => res.destroy());
      serveHttp(route, req, res).catch((err: unknown) => {
        if (!res.headersSent) void writeReply(res, errorReply(500, `endpoint server error: ${(err as Error).message}`));
        else res.destroy();
      });
    },

    handleUpgrade(req, socket, head) {
      const route = req.url === undefined ? null : matchUpgrade(req.url);
      if (route === null) return false;
      // Node removes its own error listener from upgraded sockets: a reset would otherwise crash the process.
      socket.on('error', () => {});
      if (closed) {
        socket.destroy();
        return true;
      }
      if (route.kind === 'invalid') {
        rejectUpgrade(socket, '400 Bad Request');
        return true;
      }
      const tenant = tenantFor(route.tenant);
      if (tenant.faults.refuse.includes(route.channel)) {
        rejectUpgrade(socket, '503 Service Unavailable');
        return true;
      }
      if (tenant.faults.hang.includes(route.channel)) {
        own(socket, () => socket.destroy());
        tenant.holdHanging(socket);
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (closed) {
          ws.terminate();
          return;
        }
        const live = startSession(tenant, ws, route.channel, req);
        own(ws, () => tenant.dropSocket(live));
      });
      return true;
    },

    close() {
      if (closed) return;
      closed = true;
      lifetime.abort();
      for (const end of [...owned]) end();
      owned.clear();
      wss.close();
    },
  };
}

function failureReply(failure: InjectedFailure): Reply {
  const headers: Record<string, string> = failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) };
  return errorReply(failure.status, `injected failure: status ${failure.status}`, headers);
}

/** After a failed body read: answer 413 if the body was too large, else the client is gone and there is nothing to do. */
async function bodyFailed(res: ServerResponse, err: unknown): Promise<void> {
  if (!(err instanceof BodyTooLarge)) return;
  // The rest of the body is not read: close the connection instead of draining it.
  await writeReply(res, errorReply(413, err.message, { connection: 'close' }));
}

/** Answers an upgrade with an HTTP error and destroys the TCP socket (what a refusing proxy or server does). */
function rejectUpgrade(socket: Duplex, status: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
