// Skip and cancel under Deno (progress.test.ts, session-edges.test.ts and
// the cancelled cases of establish-lifetime.test.ts in the browser): a
// skipped item's next progress answer is `cancel-item` while the others go
// on; `session.cancel()` makes every answer `cancel-all`, aborts the
// handler's signal, ends a handler that ignores it after `timeouts.cancel`,
// and closes the session's connections at the server.
import assert from 'node:assert/strict';
import { scripted } from '../fixtures/scripted.ts';
import type { Script } from '../../workers/fixtures/script.ts';
import { test } from './bed.ts';

test('skip makes one item skipped while the others go on; cancel then answers cancel-all, and the socket and the fetch in flight close at the server', async (bed) => {
  const { server, reports } = bed;
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, api: { kind: 'fetch', url: server.apiUrl } },
    handlers: [scripted('h')],
  });
  const script: Script = {
    items: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'establish', name: 'api' },
      { op: 'fetch', on: 'api', path: 'slow?ms=60000', noAwait: true },
      // Asks for both items every 20 ms until an answer is cancel-all.
      { op: 'poll-progress', items: ['a', 'b'], ms: 20, rounds: 10_000 },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { h: script } } });
  const poll = (match: (row: Record<string, string>) => boolean) =>
    reports.wait((r) => r.sessionId === session.id && r.phase === 'poll' && match(r.value as Record<string, string>), 10_000);

  await poll((row) => row.a === 'continue' && row.b === 'continue');
  await server.waitFor((s) => s.requests.some((r) => r.path === 'slow'));
  assert.equal(session.skip('h', 'a'), true);
  await poll((row) => row.a === 'cancel-item' && row.b === 'continue');
  const during = await server.state();
  assert.deepEqual(during.sockets.map((s) => [s.open, s.closeCode]), [[true, null]]);
  assert.equal(m.items('h').length, 2);

  session.cancel();
  await poll((row) => row.b === 'cancel-all');
  const result = await session.done;
  assert.equal(result.outcome, 'cancelled');
  assert.equal(result.handlers[0]!.outcome, 'cancelled');
  assert.deepEqual(result.handlers[0]!.items.map((i) => [i.id, i.status]), [['a', 'skipped'], ['b', 'cancelled']]);
  const state = await server.waitFor((s) => s.sockets.every((x) => !x.open) && s.requests.find((r) => r.path === 'slow')?.aborted && s, 2000);
  assert.deepEqual(state.sockets.map((s) => [s.closeCode, s.closedBy]), [[1000, 'client']]);
  // The fetch runs on the handler's signal, which the cancel aborted: the end of the session found nothing left to abort.
  assert.deepEqual(result.connections.map((c) => [c.name, c.closeCode, c.abortedRequests]), [['live', 1000, 0], ['api', null, 0]]);
});

test('cancel: a handler that stops on its signal sees E_ABORT; one that ignores it is ended after timeouts.cancel; both are cancelled', async (bed) => {
  const { server, reports } = bed;
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } },
    handlers: [scripted('polite'), scripted('stubborn', { timeouts: { cancel: 1000 } })],
  });
  const session = m.synchronize({
    cookie: {
      scripts: {
        polite: { steps: [{ op: 'establish', name: 'live' }, { op: 'wait-abort' }] },
        stubborn: { steps: [{ op: 'establish', name: 'live' }, { op: 'hang' }] },
      },
    },
  });
  await Promise.all(['polite', 'stubborn'].map((h) => reports.stepOf(session.id, h, 0)));
  assert.deepEqual((await server.state()).sockets.map((s) => s.open), [true]);
  const cancelledAt = performance.now();
  session.cancel();

  const aborted = await reports.stepOf(session.id, 'polite', 1);
  assert.deepEqual([aborted.ok, (aborted.value as { code?: string }).code], [true, 'E_ABORT']);
  const result = await session.done;
  const waited = performance.now() - cancelledAt;
  assert.ok(waited >= 900, `done ${waited} ms after cancel, before timeouts.cancel`);
  assert.deepEqual(result.handlers.map((h) => [h.id, h.outcome, (h.error as { code?: string } | null)?.code]), [['polite', 'cancelled', 'E_ABORT'], ['stubborn', 'cancelled', 'E_ABORT']]);
  const state = await server.waitFor((s) => s.sockets.every((x) => !x.open) && s, 2000);
  assert.deepEqual(state.sockets.map((s) => s.closeCode), [1000]);
});

test('aborting the signal given to synchronize() cancels the session', async (bed) => {
  const m = bed.manager({ handlers: [scripted('h')] });
  const controller = new AbortController();
  const session = m.synchronize({ signal: controller.signal, cookie: { scripts: { h: { steps: [{ op: 'wait-abort' }] } } } });
  await bed.reports.wait((r) => r.sessionId === session.id && r.phase === 'synchronize');
  controller.abort();
  const result = await session.done;
  assert.deepEqual([result.outcome, result.handlers[0]!.outcome], ['cancelled', 'cancelled']);
});
