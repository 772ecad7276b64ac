// Issue 10, finding 8: an endpoint's url function (WebSocket or fetch) or
// headers function (fetch, with a probe or on a request) that never resolves
// must not hang anything. connectTimeout bounds evaluating it (E_TIMEOUT
// naming what hung); the handler's time limit, or its own abort, ends the
// wait; session.done resolves and manager.close() does not hang.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../fixtures/harness.ts';
import type { Step } from '../../workers/fixtures/script.ts';
import type { EndpointConfig } from '../../src/index.ts';

const bed = testBed();

/** Never settles. */
const never = () => new Promise<never>(() => {});

/** Resolves with `promise`'s value, or rejects when it has not settled within `ms` (a hang). */
function settles<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

interface Case {
  label: string;
  endpoint: (server: TestServer, connectTimeout: number) => EndpointConfig;
  /** The steps after which the handler waits on the hung function. */
  steps: Step[];
  /** What the E_TIMEOUT names. */
  hung: RegExp;
}

const CASES: Case[] = [
  {
    label: 'a WebSocket url function',
    endpoint: (_s, connectTimeout) => ({ kind: 'websocket', url: never, connectTimeout }),
    steps: [{ op: 'establish', name: 'e' }],
    hung: /Endpoint 'e': its url function did not answer within \d+ ms \(connectTimeout\)/,
  },
  {
    label: 'a fetch url function',
    endpoint: (_s, connectTimeout) => ({ kind: 'fetch', url: never, connectTimeout }),
    steps: [{ op: 'establish', name: 'e' }],
    hung: /Endpoint 'e': its url function did not answer/,
  },
  {
    label: 'a fetch headers function, with a probe',
    endpoint: (s, connectTimeout) => ({ kind: 'fetch', url: s.apiUrl, probe: 'health', headers: never, connectTimeout }),
    steps: [{ op: 'establish', name: 'e' }],
    hung: /Endpoint 'e': its headers function did not answer/,
  },
  {
    label: 'a fetch headers function, on a request',
    endpoint: (s, connectTimeout) => ({ kind: 'fetch', url: s.apiUrl, headers: never, connectTimeout, retry: false }),
    steps: [{ op: 'establish', name: 'e' }, { op: 'fetch', on: 'e', path: 'health', read: 'text' }],
    hung: /Endpoint 'e': its headers function did not answer/,
  },
];

test.each(CASES)('$label that never resolves: connectTimeout ends the wait with E_TIMEOUT naming it', async (c) => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({ endpoints: { e: c.endpoint(server, 300) }, handlers: [scripted('h')] });
  const session = m.synchronize({ cookie: { scripts: { h: { steps: c.steps } } } });
  const result = await settles(session.done, 15_000, 'session.done');
  const failures = await reports.failures(session.id, 'h');
  expect(failures.map((f) => [f.index, f.error?.code])).toEqual([[c.steps.length - 1, 'E_TIMEOUT']]);
  expect(failures[0]!.error!.message).toMatch(c.hung);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  await settles(m.close(), 15_000, 'manager.close()');
  // Nothing was sent: the request (or probe) waited for its headers.
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});

test.each(CASES)("$label that never resolves: the handler's time limit ends the session, and manager.close() settles", async (c) => {
  void bed.reports;
  const server = TestServer.create();
  const m = bed.manager({ endpoints: { e: c.endpoint(server, 600_000) }, handlers: [scripted('h', { timeouts: { handler: 1500 } })] });
  const session = m.synchronize({ cookie: { scripts: { h: { steps: c.steps } } } });
  const result = await settles(session.done, 15_000, 'session.done');
  expect(result.handlers[0]!.outcome).toBe('timed-out');
  expect(result.handlers[0]!.error).toMatchObject({ code: 'E_TIMEOUT' });
  await settles(m.close(), 15_000, 'manager.close()');
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});

test("a request waiting on a headers function that never resolves ends when the handler aborts it, with the signal's reason", async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({ endpoints: { e: { kind: 'fetch', url: server.apiUrl, headers: never, connectTimeout: 600_000 } }, handlers: [scripted('h')] });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [{ op: 'establish', name: 'e' }, { op: 'fetch', on: 'e', path: 'health', abortAfterMs: 200 }] } } },
  });
  const result = await settles(session.done, 15_000, 'session.done');
  const failures = await reports.failures(session.id, 'h');
  expect(failures.map((f) => [f.index, f.error?.message])).toEqual([[1, 'fixture: aborted after 200 ms']]);
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(result.connections).toMatchObject([{ name: 'e', abortedRequests: 0 }]);
  await settles(m.close(), 15_000, 'manager.close()');
  expect((await server.state()).requests).toEqual([]);
  await noLiveWorkers();
});
