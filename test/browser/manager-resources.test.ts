/**
 * `close()` leaves nothing behind (README, `manager.close()`): with every
 * trigger in use, a session run, a debounced request and one waiting for the
 * network still queued, no timer, listener on the page, BroadcastChannel or
 * Web Lock of syncmgr is left once it resolved. The counter patches the
 * platform's functions for this test only.
 */
import { expect, test } from 'vitest';
import { cookie, noLiveWorkers, scripted, testBed } from '../fixtures/harness.ts';
import { pageEnvironment } from '../fixtures/page-environment.ts';
import { countResources } from '../fixtures/resources.ts';
import { TRIGGERS } from '../../src/index.ts';

const bed = testBed();
const page = pageEnvironment();

test('after close(): no timer, listener, BroadcastChannel or lock of the manager is left', async () => {
  const count = countResources();
  bed.cleanup(() => count.stop());
  const m = bed.manager({
    endpoints: { api: { kind: 'fetch', url: '/t/resources/api/' } },
    triggers: { idle: { after: 60_000 }, interval: { every: 60_000 }, startup: { delay: 60_000 } },
    handlers: [scripted('a', { triggers: [...TRIGGERS] }), scripted('b', { triggers: ['interval'], interval: 120_000 })],
  });
  const before = await count.leftovers();
  // Every trigger listens or waits now: the count sees them, so it would see them left behind.
  expect(before.listeners.length).toBeGreaterThan(0);
  expect(before.timers.length).toBeGreaterThan(0);
  await m.synchronize({ cookie: cookie({ a: {} }) }).done;
  m.invoke({ handlers: ['a'], cookie: cookie({ a: {} }) });
  page.setOnline(false);
  m.synchronize({ trigger: 'online', handlers: ['b'] });
  expect(m.pending().map((p) => p.waitingFor)).toEqual(['debounce', 'network']);
  await m.close();
  await noLiveWorkers();
  expect(await count.leftovers()).toEqual({ timers: [], listeners: [], channels: [], locks: [] });
});
