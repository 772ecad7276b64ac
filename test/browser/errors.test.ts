/**
 * Errors cross the worker boundary as data (DESIGN.md §3, last paragraph):
 * a SyncError keeps its code, message and cause from worker to main and from
 * main to worker, and any other error keeps its name and message.
 */
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { cookie, noLiveWorkers, scripted, inlineHandler, testBed } from '../fixtures/harness.ts';
import { SyncError, type ConnectionEvent, type HandlerStateEvent, type SyncManager } from '../../src/index.ts';

const bed = testBed();

/** The finished handlerstate events' errors, by handler. */
function finishedErrors(target: SyncManager): Map<string, Error | null> {
  const errors = new Map<string, Error | null>();
  target.addEventListener('handlerstate', (e: HandlerStateEvent) => {
    if (e.phase === 'finished') errors.set(e.handlerId, e.error);
  });
  return errors;
}

// ---- worker → main ----

test('a SyncError thrown by a handler reaches the result as a SyncError with its code, message and cause', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const fromEvents = finishedErrors(m);
  const session = m.synchronize({
    cookie: cookie({
      h1: { steps: [{ op: 'throw', code: 'E_OFFLINE', message: 'The notes server is unreachable; try again later.', cause: { code: 'E_TIMEOUT', message: 'no answer in 30 s' } }] },
    }),
  });
  const result = await session.done;
  const handler = result.handlers[0]!;
  expect([handler.outcome, handler.endedIn, result.outcome]).toEqual(['failed', 'synchronizing', 'failed']);
  const error = handler.error;
  expect(SyncError.is(error, 'E_OFFLINE')).toBe(true);
  expect(error).toBeInstanceOf(SyncError);
  expect(error!.name).toBe('SyncError');
  expect(error!.message).toBe('The notes server is unreachable; try again later.');
  const cause = error!.cause;
  expect(SyncError.is(cause, 'E_TIMEOUT')).toBe(true);
  expect((cause as Error).message).toBe('no answer in 30 s');
  expect(fromEvents.get('h1')).toBe(error);
  await noLiveWorkers();
});

test('the throw-handler fixture: its SyncError and the cause survive, and the items it finished keep their status', async () => {
  const m = bed.manager({ handlers: [{ id: 'thrower', worker: () => new Worker(new URL('../../workers/fixtures/throw-handler.ts', import.meta.url), { type: 'module' }) }] });
  const result = await m.synchronize().done;
  const handler = result.handlers[0]!;
  expect(handler.outcome).toBe('failed');
  expect(handler.items.map((i) => `${i.id}:${i.status}`)).toEqual(['a:succeeded', 'b:failed']);
  expect(SyncError.is(handler.error, 'E_FAIL')).toBe(true);
  expect(handler.error!.message).toBe('throw-handler: the server rejected item b; retry later.');
  expect(SyncError.is(handler.error!.cause, 'E_ACCESSDENIED')).toBe(true);
  expect((handler.error!.cause as Error).message).toBe('token expired');
  await noLiveWorkers();
});

test('a plain Error thrown by a handler keeps its name and message, and its cause, and is not a SyncError', async () => {
  void bed.reports; // listening before the session starts
  const m = bed.manager({ handlers: [scripted('h1')] });
  const session = m.synchronize({
    cookie: cookie({ h1: { steps: [{ op: 'throw', message: 'merge conflict in note 7', cause: { message: 'version 3 ≠ 4' } }] } }),
  });
  const error = (await session.done).handlers[0]!.error!;
  expect(SyncError.is(error)).toBe(false);
  expect(error.name).toBe('Error');
  expect(error.message).toBe('merge conflict in note 7');
  expect(SyncError.is(error.cause, 'E_FAIL')).toBe(true);
  expect((error.cause as Error).message).toBe('version 3 ≠ 4');
});

test('an error of another class thrown by a handler keeps its class name, message and cause name', async () => {
  const m = bed.manager({
    handlers: [inlineHandler('h1', `
      class QuotaExceededError extends Error { name = 'QuotaExceededError'; }
      defineHandler({
        items: () => [{ id: 'a', name: 'A' }],
        async synchronize() {
          throw new QuotaExceededError('the local store is full; free some space', { cause: new RangeError('12 MB > 10 MB') });
        },
      });
    `)],
  });
  const result = await m.synchronize().done;
  const error = result.handlers[0]!.error!;
  expect(result.handlers[0]!.outcome).toBe('failed');
  expect(SyncError.is(error)).toBe(false);
  expect([error.name, error.message]).toEqual(['QuotaExceededError', 'the local store is full; free some space']);
  expect([(error.cause as Error).name, (error.cause as Error).message]).toEqual(['RangeError', '12 MB > 10 MB']);
});

// ---- main → worker ----

/** Runs one handler whose only step establishes `name`; answers the step's report and the manager's connectionerror events. */
async function establishFails(name: string, options: Parameters<typeof bed.manager>[0]) {
  const reports = bed.reports;
  const m = bed.manager(options);
  const errors: ConnectionEvent[] = [];
  m.addEventListener('connectionerror', (e) => errors.push(e));
  const session = m.synchronize({ cookie: cookie({ h1: { steps: [{ op: 'establish', name }] } }) });
  const result = await session.done;
  const report = await reports.waitStep('h1', 0);
  expect(report.ok, JSON.stringify(report)).toBe(false);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  return { error: report.error!, events: errors };
}

test('an unknown endpoint name reaches the handler as a SyncError E_INVALIDARG naming the handler and the name', async () => {
  const server = TestServer.create();
  const { error } = await establishFails('nope', {
    endpoints: { api: { kind: 'fetch', url: server.apiUrl } },
    handlers: [scripted('h1')],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_INVALIDARG' });
  expect(error.message).toContain("'h1'");
  expect(error.message).toContain("'nope'");
  expect(error.message).toContain('api'); // what is configured
});

test('an endpoint the registration does not allow reaches the handler as a SyncError E_ACCESSDENIED', async () => {
  const server = TestServer.create();
  const { error } = await establishFails('live', {
    endpoints: { api: { kind: 'fetch', url: server.apiUrl }, live: { kind: 'websocket', url: server.wsUrl('live') } },
    handlers: [scripted('h1', { endpoints: ['api'] })],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_ACCESSDENIED' });
  expect(error.message).toContain("'h1'");
  expect(error.message).toContain("'live'");
});

test('a refused WebSocket reaches the handler as a SyncError E_FAIL naming the endpoint, as the manager saw it', async () => {
  const server = TestServer.create();
  await server.faults({ refuse: ['live'] });
  const { error, events } = await establishFails('live', {
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') } },
    handlers: [scripted('h1')],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_FAIL' });
  expect(error.message).toContain("'live'");
  expect(error.message).toMatch(/close code \d+/);
  expect(events).toHaveLength(1);
  expect(SyncError.is(events[0]!.error, 'E_FAIL')).toBe(true);
  expect(error.message).toContain(events[0]!.error!.message);
});

test('a failed probe reaches the handler as a SyncError E_FAIL whose cause is the network error', async () => {
  // Chromium refuses this port outright; the probe's fetch rejects with a TypeError.
  const { error, events } = await establishFails('api', {
    endpoints: { api: { kind: 'fetch', url: 'http://127.0.0.1:9/', probe: 'health' } },
    handlers: [scripted('h1')],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_FAIL' });
  expect(error.message).toContain("'api'");
  const managerSide = events[0]!.error!;
  expect(managerSide.cause).toBeInstanceOf(TypeError);
  expect(error.cause).toMatchObject({ name: 'TypeError', message: (managerSide.cause as Error).message });
});

test('a url function that throws reaches the handler as a SyncError E_FAIL whose cause keeps its name and message', async () => {
  const { error } = await establishFails('live', {
    endpoints: {
      live: { kind: 'websocket', url: () => { throw new RangeError('no token yet; sign in first'); } },
    },
    handlers: [scripted('h1')],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_FAIL' });
  expect(error.message).toContain("'live'");
  expect(error.cause).toMatchObject({ name: 'RangeError', message: 'no token yet; sign in first' });
});

test('a SyncError cause with its own code reaches the handler with that code', async () => {
  const { error } = await establishFails('live', {
    endpoints: {
      live: { kind: 'websocket', url: async () => { throw new SyncError('E_ACCESSDENIED', 'the token service said no', { cause: new Error('HTTP 401') }); } },
    },
    handlers: [scripted('h1')],
  });
  expect(error).toMatchObject({ name: 'SyncError', code: 'E_FAIL' });
  expect(error.cause).toMatchObject({ name: 'SyncError', code: 'E_ACCESSDENIED', message: 'the token service said no' });
  expect(error.cause!.cause).toMatchObject({ name: 'Error', message: 'HTTP 401' });
});
