/**
 * Endpoints are resolved once, when the manager is built, by the row of
 * their kind: every option the connection needs is there, checked, with its
 * default filled in, so connections never read the app's config again.
 */
import { describe, expect, test } from 'vitest';
import { validateEndpoints } from '../../src/connections/endpoint-config.ts';
import { DEFAULT_CONNECT_TIMEOUT } from '../../src/connections/endpoint-common.ts';
import { DEFAULT_RECEIVE_BUFFER, DEFAULT_RECONNECT, DEFAULT_SEND_BUFFER } from '../../src/connections/websocket-options.ts';
import { DEFAULT_REDIRECT, DEFAULT_WHOLE_BODY_LIMIT } from '../../src/connections/fetch-options.ts';
import { DEFAULT_FETCH_RETRY } from '../../src/connections/retry-policy.ts';

describe('endpoints resolved by the row of their kind', () => {
  test('a WebSocket endpoint: url and protocols kept (computed at each connect), every other option filled in', () => {
    const url = () => 'ws://x/live';
    const live = validateEndpoints({ live: { kind: 'websocket', url, protocols: ['v1'] } }).get('live');
    expect(live).toEqual({
      kind: 'websocket', name: 'live', url, protocols: ['v1'], connectTimeout: DEFAULT_CONNECT_TIMEOUT,
      reconnect: DEFAULT_RECONNECT, heartbeat: null, sendBuffer: DEFAULT_SEND_BUFFER, receiveBuffer: DEFAULT_RECEIVE_BUFFER, route: null,
    });
  });

  test('a fetch endpoint: headers and probe kept, none given means null; every other option filled in', () => {
    const headers = async () => ({ authorization: 'Bearer t' });
    const endpoints = validateEndpoints({ api: { kind: 'fetch', url: '/api/', headers, probe: 'health' }, bare: { kind: 'fetch', url: '/b/', connectTimeout: 50 } });
    expect(endpoints.get('api')).toEqual({
      kind: 'fetch', name: 'api', url: '/api/', headers, probe: 'health', connectTimeout: DEFAULT_CONNECT_TIMEOUT,
      retry: DEFAULT_FETCH_RETRY, onUnauthorized: null, wholeBodyLimit: DEFAULT_WHOLE_BODY_LIMIT, redirect: DEFAULT_REDIRECT,
    });
    expect(endpoints.get('bare')).toMatchObject({ headers: null, probe: null, connectTimeout: 50 });
  });

  test("a kind's options are its own: each row refuses the other's, naming the ones it knows", () => {
    expect(() => validateEndpoints({ a: { kind: 'websocket', url: '/x', probe: 'health' } })).toThrow(/unknown option 'probe' for a websocket endpoint; known: kind, url, protocols/);
    expect(() => validateEndpoints({ a: { kind: 'fetch', url: '/x', heartbeat: true } })).toThrow(/unknown option 'heartbeat' for a fetch endpoint; known: kind, url, headers/);
    expect(() => validateEndpoints({ a: { kind: 'sse', url: '/x' } })).toThrow(/kind must be 'websocket' or 'fetch', not "sse"/);
  });
});
