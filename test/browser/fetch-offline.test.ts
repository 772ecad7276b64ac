/// <reference types="@vitest/browser-playwright" />
// Issue 3, offline: when the browser says it is offline, establishing a fetch
// endpoint rejects at once with E_OFFLINE instead of waiting for the probe's
// connect timeout; a request whose network fails while offline rejects with
// E_OFFLINE at once instead of being retried.
//
// Two ways to be offline. Chromium is told so over CDP:
// Network.overrideNetworkState sets navigator.onLine (and fires `offline`)
// without cutting the test runner's own connection, and
// Network.emulateNetworkConditionsByRule cuts the tenant's API URLs only.
// Other engines offer their drivers no such switch (WebDriver classic has
// none), so the tests that run everywhere override navigator.onLine in the
// page (firing `offline` and `online` as the engine would) and have the
// network really fail at the server (the connection cut).
import { afterEach, expect, test } from 'vitest';
import { cdp } from 'vitest/browser';
import { TestServer } from '../fixtures/server.ts';
import { HAS_CDP } from '../fixtures/cdp.ts';
import { noLiveWorkers, scripted, testBed, type Report } from '../fixtures/harness.ts';
import type { ConnectionEvent } from '../../src/index.ts';

const bed = testBed();
// Registered after the bed's, so it runs before it (after-hooks run in reverse order): back online before the managers close.
afterEach(async () => {
  overrideOnLine(null);
  if (!HAS_CDP) return;
  await setOffline(false);
  await cdp().send('Network.emulateNetworkConditionsByRule', { matchedNetworkConditions: [] });
});

/** Sets what navigator.onLine says over CDP (the network itself keeps working) and waits until the page sees it. */
async function setOffline(offline: boolean): Promise<void> {
  await cdp().send('Network.overrideNetworkState', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const end = performance.now() + 2000;
  while (navigator.onLine === offline) {
    if (performance.now() > end) throw new Error(`navigator.onLine did not become ${!offline}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let overridden = false;
/** Makes navigator.onLine say `onLine` in this page and fires the event the engine would; `null` ends the override. */
function overrideOnLine(onLine: boolean | null): void {
  if (onLine === null) {
    if (!overridden) return;
    overridden = false;
    delete (navigator as { onLine?: boolean }).onLine;
    window.dispatchEvent(new Event('online'));
    return;
  }
  overridden = true;
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => onLine });
  window.dispatchEvent(new Event(onLine ? 'online' : 'offline'));
}

/**
 * The step's report, within 15 s. The endpoints' connect timeouts and retry
 * delays below are WAIT_WOULD_SHOW_MS, so an answer within this bound is one
 * that did not wait for the network or a retry: "at once" is checked that way,
 * not by timing the answer (a busy machine can delay any answer by seconds).
 */
function step(sessionId: string, index: number): Promise<Report> {
  return bed.reports.stepOf(sessionId, 'offline-h', index, 15_000);
}

const WAIT_WOULD_SHOW_MS = 120_000;

test.runIf(HAS_CDP)('establishing a fetch endpoint while the browser is offline rejects at once with E_OFFLINE, well under the connect timeout (Chromium only: offline through CDP)', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // With a probe and a 2-minute connect timeout, a wait for the network would outlast step()'s bound.
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, probe: 'health', connectTimeout: WAIT_WOULD_SHOW_MS } }, handlers: [scripted('offline-h')] });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e: ConnectionEvent) => errors.push(e));
  // The worker starts while online (its module is fetched), then waits for the release.
  const session = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [{ op: 'wait' }, { op: 'establish', name: 'api' }] } } } });
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');

  await setOffline(true);
  reports.release(session.id, 'offline-h');
  const r = await step(session.id, 1);

  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_OFFLINE');
  expect(r.error?.message).toContain("'api'");
  expect(r.error?.message).toContain('offline');
  expect(errors.map((e) => [e.name, e.handlerId, (e.error as { code?: string } | null)?.code])).toEqual([['api', 'offline-h', 'E_OFFLINE']]);
  const result = await session.done;
  expect(result.connections).toEqual([]);
  // Nothing was sent: not even the probe.
  expect((await server.state()).requests).toEqual([]);

  // Back online, the next session establishes it (the probe is sent).
  await setOffline(false);
  const again = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [{ op: 'establish', name: 'api' }] } } } });
  expect((await step(again.id, 0)).value).toMatchObject({ name: 'api', kind: 'fetch' });
  await again.done;
  expect((await server.state()).requests.map((x) => [x.path, x.status])).toEqual([['health', 200]]);
  await noLiveWorkers();
});

test.runIf(HAS_CDP)('a request whose network fails while the browser is offline rejects at once with E_OFFLINE and is not retried (Chromium only: offline through CDP)', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // A retry would wait 2 minutes, outlasting step()'s bound.
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: { minDelay: WAIT_WOULD_SHOW_MS, maxDelay: WAIT_WOULD_SHOW_MS } } }, handlers: [scripted('offline-h')] });
  const session = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [
    { op: 'establish', name: 'api' }, // 0
    { op: 'fetch', on: 'api', path: 'health', read: 'json' }, // 1
    { op: 'wait' }, // 2
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' }, // 3
  ] } } } });
  expect((await step(session.id, 1)).value).toMatchObject({ status: 200 });

  // Offline for real for the tenant's API, and navigator says so.
  await cdp().send('Network.emulateNetworkConditionsByRule', {
    matchedNetworkConditions: [{ urlPattern: `${location.origin}/t/${server.tenant}/*`, offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }],
  });
  await setOffline(true);
  reports.release(session.id, 'offline-h');
  const r = await step(session.id, 3);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_OFFLINE');
  expect(r.error?.message).toMatch(/'api': GET "notes" \(at [^)]*\) failed: the browser is offline/);
  await session.done;
  expect((await server.state()).requests.map((x) => x.path)).toEqual(['health']);
  await noLiveWorkers();
});

test('establishing a fetch endpoint while the browser says it is offline rejects at once with E_OFFLINE, well under the connect timeout (every engine: navigator.onLine overridden in the page)', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // With a probe and a 2-minute connect timeout, a wait for the network would outlast step()'s bound.
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, probe: 'health', connectTimeout: WAIT_WOULD_SHOW_MS } }, handlers: [scripted('offline-h')] });
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e: ConnectionEvent) => errors.push(e));
  const session = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [{ op: 'wait' }, { op: 'establish', name: 'api' }] } } } });
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');

  overrideOnLine(false);
  reports.release(session.id, 'offline-h');
  const r = await step(session.id, 1);

  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_OFFLINE');
  expect(r.error?.message).toContain("'api'");
  expect(r.error?.message).toContain('offline');
  expect(errors.map((e) => [e.name, e.handlerId, (e.error as { code?: string } | null)?.code])).toEqual([['api', 'offline-h', 'E_OFFLINE']]);
  const result = await session.done;
  expect(result.connections).toEqual([]);
  // Nothing was sent: not even the probe.
  expect((await server.state()).requests).toEqual([]);

  // Back online, the next session establishes it (the probe is sent).
  overrideOnLine(null);
  const again = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [{ op: 'establish', name: 'api' }] } } } });
  expect((await step(again.id, 0)).value).toMatchObject({ name: 'api', kind: 'fetch' });
  await again.done;
  expect((await server.state()).requests.map((x) => [x.path, x.status])).toEqual([['health', 200]]);
  await noLiveWorkers();
});

test('a request whose network fails while the browser says it is offline rejects at once with E_OFFLINE and is not retried (every engine: navigator.onLine overridden in the page, the connection cut by the server)', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  // A retry would wait 2 minutes, outlasting step()'s bound.
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: { minDelay: WAIT_WOULD_SHOW_MS, maxDelay: WAIT_WOULD_SHOW_MS } } }, handlers: [scripted('offline-h')] });
  const session = m.synchronize({ cookie: { scripts: { 'offline-h': { steps: [
    { op: 'establish', name: 'api' }, // 0
    { op: 'fetch', on: 'api', path: 'health', read: 'json' }, // 1
    { op: 'wait' }, // 2
    { op: 'fetch', on: 'api', path: 'notes', read: 'json' }, // 3
  ] } } } });
  expect((await step(session.id, 1)).value).toMatchObject({ status: 200 });

  // The network really fails (the server cuts the connection), and navigator says the browser is offline.
  await server.faults({ apiReset: { paths: ['notes'] } });
  overrideOnLine(false);
  reports.release(session.id, 'offline-h');
  const r = await step(session.id, 3);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_OFFLINE');
  expect(r.error?.message).toMatch(/'api': GET "notes" \(at [^)]*\) failed: the browser is offline/);
  await session.done;
  // One attempt of notes reached the server and was cut; none was retried.
  expect((await server.state()).requests.map((x) => x.path)).toEqual(['health', 'notes']);
  await noLiveWorkers();
});
