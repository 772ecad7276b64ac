// API routes that behave as a careless or hostile server would, for the tests
// of the fetch channel's security rules (the handler must never profit):
//
//   redirect?status=302&to=<url>   answers a redirect (301, 302, 303, 307 or 308) to any URL
//   secret                         a body that must never reach a handler ("SECRET outside the base")
//   seen                           a target for cross-origin redirects: answers CORS (also its
//                                  preflight), so a browser completes the request; what arrived
//                                  is in the tenant's request records like every API request
//   reflect                        echoes every request header as a response header `x-seen-<name>`;
//                                  `?statusFrom=<name>`: that header's value as the reason phrase too
//
// Each is also served under `zone/` (`zone/redirect`, ...), so a test can give
// an endpoint the base `…/api/zone/` and have `secret` lie outside it.

import { type Reply, errorReply, jsonReply, textReply } from './http-io.ts';

/** The body of `GET secret`. */
export const SECRET_BODY = 'SECRET outside the base';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface HostileRequest {
  method: string;
  /** The API path after `zone/` when there is one. */
  path: string;
  params: URLSearchParams;
  /** Lowercased names. */
  headers: Record<string, string>;
}

/** The reply of a hostile route, or null when `path` is not one. */
export function routeHostile(req: HostileRequest): Reply | null {
  const path = req.path.startsWith('zone/') ? req.path.slice('zone/'.length) : req.path;
  switch (path) {
    case 'redirect':
      return redirect(req.params);
    case 'secret':
      return req.method === 'GET' || req.method === 'HEAD' ? textReply(200, SECRET_BODY) : null;
    case 'seen':
      return seen(req);
    case 'reflect': {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[`x-seen-${name}`] = value;
      const reply: Reply = { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: 'reflected' };
      const from = req.params.get('statusFrom');
      if (from !== null && req.headers[from.toLowerCase()] !== undefined) reply.statusText = req.headers[from.toLowerCase()];
      return reply;
    }
    default:
      return null;
  }
}

function redirect(params: URLSearchParams): Reply {
  const status = Number(params.get('status') ?? '302');
  if (!REDIRECT_STATUSES.has(status)) return errorReply(400, 'status must be 301, 302, 303, 307 or 308');
  const to = params.get('to');
  if (to === null || to === '') return errorReply(400, 'query parameter to (the Location) is required');
  return { status, headers: { location: to, 'content-type': 'text/plain; charset=utf-8' }, body: `redirect to ${to}` };
}

function seen(req: HostileRequest): Reply {
  // After a cross-origin redirect the browser sends `Origin: null`; `*` admits it (no credentials are sent).
  const cors: Record<string, string> = { 'access-control-allow-origin': '*' };
  if (req.method === 'OPTIONS') {
    return {
      status: 204,
      headers: {
        ...cors,
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, PATCH',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
        'access-control-max-age': '0',
      },
      body: '',
    };
  }
  return jsonReply(200, { seen: true, method: req.method }, cors);
}
