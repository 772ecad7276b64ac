// `endpointWebSocket` under Deno: the browser suite's conformance probes
// (workers/fixtures/socket-probes.ts) on Deno's own WebSocket in a worker and
// on the facade in a handler, against the demo's endpoint server; the two
// agree (test/browser/endpoint-websocket.test.ts in the browsers), except
// where Deno's own WebSocket departs from the WHATWG standard and the facade
// follows the standard (README "Deno").
import assert from 'node:assert/strict';
import { test } from './bed.ts';

/**
 * What a probe of Deno's own WebSocket would have seen under the standard:
 * Deno reports a connection closed without a close frame with code 0 (the
 * standard: 1006), fires `ErrorEvent`s (the standard: a plain `Event`),
 * gives messages an `origin` other than the socket's, still dispatches
 * messages that arrive after `close()` was called (the standard drops them
 * once the socket is no longer OPEN), does not count what `send()` is
 * given after the close in `bufferedAmount`, and keeps an event handler
 * attribute set to null and set again in its first place (the standard adds
 * it anew, after the listeners added meanwhile).
 */
function standard(probe: string, value: unknown): unknown {
  const text = JSON.stringify(value, (key, v) => {
    if (key === 'code' && v === 0) return 1006;
    if (key === 'originMatches') return true;
    if (typeof v === 'string' && v.startsWith('error:ErrorEvent@')) return v.replace('ErrorEvent', 'Event');
    return v;
  });
  const fixed = JSON.parse(text) as Record<string, unknown>;
  if (probe === 'serverCloses') fixed.sendAfterClose = 'after close'.length;
  if (probe === 'handlerAttributes') fixed.order = ['message: listener', 'message: handler set again', 'close: replacing handler', 'close: listener'];
  if (probe === 'closeWithCode') fixed.seen = (fixed.seen as string[]).filter((e) => !e.startsWith('message:MessageEvent@'));
  return fixed;
}

test('the facade answers the conformance probes as Deno\'s own WebSocket does, and as the standard says where Deno departs from it', async ({ server, origin, reports, manager }) => {
  const worker = new Worker(new URL('../../workers/fixtures/raw-socket-probes.ts', import.meta.url), { type: 'module' });
  let raw: Record<string, unknown>;
  try {
    raw = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data as Record<string, unknown>);
      worker.onerror = (event) => reject(new Error(`the raw probe worker failed: ${event.message}`));
      worker.postMessage({ tenant: server.tenant, base: `${server.wsUrl('probe')}/`, origin });
    });
  } finally {
    worker.terminate();
  }
  const m = manager({
    endpoints: { probe: { kind: 'websocket', url: server.wsUrl('probe') } },
    handlers: [{ id: 'probes', worker: () => new Worker(new URL('../../workers/fixtures/facade-socket-probes.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize({ cookie: { tenant: server.tenant, origin } });
  const facade = (await reports.wait((r) => r.sessionId === session.id && r.phase === 'probes', 60_000)).value as Record<string, unknown>;
  const result = await session.done;
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  for (const [name, value] of Object.entries(raw)) assert.ok(!(value as { threw?: string }).threw, `raw probe ${name}: ${JSON.stringify(value)}`);
  for (const name of Object.keys(raw)) assert.deepEqual(facade[name], standard(name, raw[name]), `probe ${name}`);
  await server.waitFor((s) => s.sockets.every((k) => !k.open) && s);
}, { timeout: 120_000 });
