// `endpointFetch` under Deno: the browser suite's conformance probes
// (workers/fixtures/fetch-probes.ts) on Deno's own fetch in a worker and on
// the facade in a handler, against the demo's endpoint server
// (test/browser/endpoint-fetch.test.ts in the browsers). They agree, except
// where Deno's own fetch departs from the standard and the facade follows
// it: `redirect: 'manual'` shows Deno the 3xx itself, the standard an opaque
// redirect (status 0, no headers, a null body).
import assert from 'node:assert/strict';
import { test } from './bed.ts';

test('the facade answers the fetch conformance probes as Deno\'s own fetch does', async ({ server, origin, reports, manager }) => {
  const worker = new Worker(new URL('../../workers/fixtures/raw-fetch-probes.ts', import.meta.url), { type: 'module' });
  let raw: Record<string, unknown>;
  try {
    raw = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data as Record<string, unknown>);
      worker.onerror = (event) => reject(new Error(`the raw probe worker failed: ${event.message}`));
      worker.postMessage({ tenant: server.tenant, origin });
    });
  } finally {
    worker.terminate();
  }
  const m = manager({
    endpoints: { probe: { kind: 'fetch', url: server.apiUrl } },
    handlers: [{ id: 'probes', worker: () => new Worker(new URL('../../workers/fixtures/facade-fetch-probes.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize({ cookie: { tenant: server.tenant, origin } });
  const facade = (await reports.wait((r) => r.sessionId === session.id && r.phase === 'probes', 60_000)).value as Record<string, unknown>;
  const result = await session.done;
  assert.equal(result.handlers[0]!.outcome, 'succeeded');
  for (const [name, value] of Object.entries(raw)) assert.ok(!(value as { threw?: string }).threw, `raw probe ${name}: ${JSON.stringify(value)}`);
  assert.equal((raw.redirectManual as { status: number }).status, 302);
  assert.deepEqual(facade.redirectManual, {
    status: 0, ok: false, statusText: '', type: 'opaqueredirect', redirected: false, url: 'redirect?status=302&to=health', isResponse: true,
    contentType: null, bodyIsNull: true, text: '', bodyUsed: false, headers: 0,
  });
  delete raw.redirectManual;
  const differences: string[] = [];
  for (const name of Object.keys(raw)) {
    try {
      assert.deepEqual(facade[name], raw[name]);
    } catch {
      differences.push(`${name}: raw ${JSON.stringify(raw[name])} facade ${JSON.stringify(facade[name])}`);
    }
  }
  assert.deepEqual(differences, []);
}, { timeout: 120_000 });
