/**
 * `endpointFetch(name)` (README "Sync libraries"): the conformance probes
 * (workers/fixtures/fetch-probes.ts) run on the engine's own fetch in a
 * worker and on the facade in a handler, and must agree; then what only the
 * facade has: URLs below the endpoint, the endpoint's headers never in the
 * worker, redirects kept inside the base, retries off unless asked for, the
 * SyncMgr rules.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, noUnhandledRejections, testBed } from '../fixtures/harness.ts';

noUnhandledRejections();
const bed = testBed();

/** Bound of the probe runs: they wait on answers, never on time. */
const PROBE_TIMEOUT_MS = 120_000;

function rawProbes(server: TestServer): Promise<Record<string, unknown>> {
  const worker = new Worker(new URL('../../workers/fixtures/raw-fetch-probes.ts', import.meta.url), { type: 'module' });
  bed.cleanup(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as Record<string, unknown>);
    worker.onerror = (event) => reject(new Error(`the raw probe worker failed: ${event.message}`));
    worker.postMessage({ tenant: server.tenant });
  });
}

test('the facade answers every conformance probe as the engine\'s own fetch does', async () => {
  const rawServer = TestServer.create();
  const raw = await rawProbes(rawServer);
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { probe: { kind: 'fetch', url: server.apiUrl } },
    handlers: [{ id: 'probes', worker: () => new Worker(new URL('../../workers/fixtures/facade-fetch-probes.ts', import.meta.url), { type: 'module' }) }],
  });
  const session = m.synchronize({ cookie: { tenant: server.tenant } });
  const facade = (await bed.reports.phase(session.id, 'probes', 'probes', PROBE_TIMEOUT_MS)).value as Record<string, unknown>;
  const result = await session.done;
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // The reference behaves as the standard says, so agreeing with it means something.
  expect(raw.get).toMatchObject({ status: 200, ok: true, type: 'basic', redirected: false, url: 'notes', isResponse: true, bodyUsed: true });
  expect(raw.query).toEqual({ status: 200, url: 'notes?folder=inbox' });
  expect(raw.redirectFollowed).toMatchObject({ status: 200, redirected: true, url: 'health', text: '{"ok":true}' });
  expect(raw.redirectManual).toMatchObject({ status: 0, ok: false, type: 'opaqueredirect', redirected: false, headers: 0, text: '' });
  expect(raw.redirectError).toBe('TypeError:TypeError');
  expect(raw.networkError).toBe('TypeError:TypeError');
  expect(raw.invalidInit).toEqual({ bodyOnGet: 'TypeError:TypeError', badMethod: 'TypeError:TypeError', badHeader: 'TypeError:TypeError', badRedirect: 'TypeError:TypeError' });
  expect(raw.abortedBefore).toEqual({ plain: 'DOMException:AbortError', reason: 'reason: my reason' });
  expect(raw.abortedWhileWaiting).toBe('DOMException:AbortError');
  expect(raw.abortedWhileReading).toBe('DOMException:AbortError');
  for (const [name, value] of Object.entries(raw)) expect(value, `raw probe ${name}`).not.toHaveProperty('threw');

  // A HEAD or 204 answer and an opaque redirect have a null body in the facade, as the standard
  // says; some engines' own fetch gives an empty stream instead (so reading it marks it used).
  for (const name of ['head', 'noContent', 'redirectManual']) {
    const [own, ours] = [raw[name] as Record<string, unknown>, facade[name] as Record<string, unknown>];
    expect(ours).toMatchObject({ bodyIsNull: true, bodyUsed: false, text: '' });
    if (own.bodyIsNull === false) Object.assign(own, { bodyIsNull: true, bodyUsed: false });
  }
  for (const name of Object.keys(raw)) expect.soft(facade[name], `probe ${name}`).toEqual(raw[name]);
  await noLiveWorkers();
}, PROBE_TIMEOUT_MS + 30_000);
