// DESIGN.md §2 rule 2, the refusals: an unknown or non-string name gives
// E_INVALIDARG, a call outside the handler's synchronize phase E_UNEXPECTED,
// a name the handler's registration does not allow E_ACCESSDENIED. Every
// message names the endpoint and the handler, and nothing is opened.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed, type Report, type Script } from '../fixtures/harness.ts';
import type { SyncManager } from '../../src/index.ts';

const bed = testBed();

function report(sessionId: string, handlerId: string, index: number, phase = 'step'): Promise<Report> {
  return bed.reports.wait((r) => r.sessionId === sessionId && r.handlerId === handlerId && r.phase === phase && r.index === index);
}

/** A word boundary match, so `'live'` is not found inside another word. */
const word = (w: string) => new RegExp(`\\b${w}\\b`);

const misuseWorker = () => new Worker(new URL('../../workers/fixtures/misuse-handler.ts', import.meta.url), { type: 'module' });

/** A manager over the tenant with a websocket `live` (also the default) and a fetch `api`. */
function managerFor(server: TestServer, ...handlers: Parameters<typeof bed.manager>[0]['handlers']): SyncManager {
  return bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, api: { kind: 'fetch', url: server.apiUrl } },
    defaultEndpoint: 'live',
    handlers,
  });
}

test('an unknown endpoint name rejects with E_INVALIDARG naming the endpoint and the handler, and opens nothing', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const m = managerFor(server, scripted('unknown-h'));
  // `constructor` is no endpoint even though every object has one; `''` is not the default endpoint.
  const names = ['nope', 'constructor', ''];
  const session = m.synchronize({ cookie: { scripts: { 'unknown-h': { steps: names.map((name) => ({ op: 'establish', name })) } } } });
  const result = await session.done;

  for (const [i, name] of names.entries()) {
    const r = await report(session.id, 'unknown-h', i);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('E_INVALIDARG');
    expect(r.error?.message).toContain(`'${name}'`);
    expect(r.error?.message).toContain('unknown-h');
  }
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('a non-string endpoint name rejects with E_INVALIDARG naming the value and the handler, and never means the default', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const m = managerFor(server, scripted('type-h'));
  const values: [unknown, RegExp][] = [
    [42, /42/],
    [0, /\b0\b/],
    [false, /false/],
    [true, /true/],
    [{ name: 'live' }, /object/],
    [['live'], /array/],
  ];
  const session = m.synchronize({ cookie: { scripts: { 'type-h': { steps: values.map(([name]) => ({ op: 'establish', name })) } } } });
  const result = await session.done;

  for (const [i, [, described]] of values.entries()) {
    const r = await report(session.id, 'type-h', i);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('E_INVALIDARG');
    expect(r.error?.message).toMatch(described);
    expect(r.error?.message).toContain('type-h');
  }
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('a call from prepare() rejects with E_UNEXPECTED naming the endpoint and the handler', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const m = managerFor(server, scripted('prep-h'));
  const session = m.synchronize({ cookie: { scripts: { 'prep-h': { prepare: [{ op: 'establish', name: 'live' }] } } } });
  const result = await session.done;

  const r = await report(session.id, 'prep-h', 0, 'prepare');
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_UNEXPECTED');
  expect(r.error?.message).toContain('prep-h');
  expect(r.error?.message).toMatch(word('live'));
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('a call after the handler\'s synchronize ended rejects with E_UNEXPECTED while the session still runs', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = managerFor(server, scripted('after-h'), scripted('keeper'));
  const afterH: Script = { steps: [{ op: 'after-return', then: [{ op: 'establish', name: 'live' }] }] };
  const keeper: Script = { steps: [{ op: 'wait' }] };
  const session = m.synchronize({ cookie: { scripts: { 'after-h': afterH, keeper } } });

  const r = await report(session.id, 'after-h', 0, 'after');
  // The session is still running: the keeper waits for the test.
  expect(session.state).toBe('running');
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_UNEXPECTED');
  expect(r.error?.message).toContain('after-h');
  expect(r.error?.message).toMatch(word('live'));

  await reports.wait((x) => x.sessionId === session.id && x.handlerId === 'keeper' && x.phase === 'synchronize');
  reports.release(session.id, 'keeper');
  const result = await session.done;
  expect(result.handlers.map((h) => [h.id, h.outcome])).toEqual([['after-h', 'succeeded'], ['keeper', 'succeeded']]);
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('a name outside the handler\'s allowed endpoints rejects with E_ACCESSDENIED naming the endpoint and the handler, also via the default', async () => {
  void bed.reports; // listening before the session starts
  const server = TestServer.create();
  const m = managerFor(server, scripted('limited-h', { endpoints: ['api'] }));
  const script: Script = {
    steps: [
      { op: 'establish', name: 'live' },
      { op: 'establish', name: null }, // the default, `live`, is not allowed either
      { op: 'establish', name: 'api' },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'limited-h': script } } });
  const result = await session.done;

  for (const i of [0, 1]) {
    const r = await report(session.id, 'limited-h', i);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('E_ACCESSDENIED');
    expect(r.error?.message).toContain("'live'");
    expect(r.error?.message).toContain('limited-h');
  }
  expect((await report(session.id, 'limited-h', 2)).value).toMatchObject({ name: 'api', kind: 'fetch' });
  expect(result.connections.map((c) => c.name)).toEqual(['api']);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});

test('misuse-handler.ts gets every refusal with its code, each message naming the endpoint and the handler', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = managerFor(server, { id: 'misuse', worker: misuseWorker, endpoints: ['api'] }, scripted('keeper'));
  const session = m.synchronize({ cookie: { scripts: { keeper: { steps: [{ op: 'wait' }] } } } });

  // Reported on the fixture channel, since logging is refused after synchronize too.
  const after = await reports.wait((r) => r.sessionId === session.id && r.handlerId === 'misuse' && r.phase === 'after');
  expect(session.state).toBe('running');
  await reports.wait((x) => x.sessionId === session.id && x.handlerId === 'keeper' && x.phase === 'synchronize');
  reports.release(session.id, 'keeper');
  const result = await session.done;

  expect(after.ok).toBe(false);
  expect(after.error?.code).toBe('E_UNEXPECTED');
  expect(after.error?.message).toContain('misuse');
  expect(after.error?.message).toMatch(word('api'));

  const logged = new Map(m.log().filter((e) => e.handlerId === 'misuse').map((e) => [e.errorId, e.text]));
  const expected: [label: string, code: string, names: RegExp][] = [
    ['establish-in-prepare', 'E_UNEXPECTED', word('api')],
    ['unknown-name', 'E_INVALIDARG', /'nope'/],
    ['number-name', 'E_INVALIDARG', /42/],
    ['object-name', 'E_INVALIDARG', /object/],
    ['not-allowed', 'E_ACCESSDENIED', /'live'/],
  ];
  for (const [label, code, names] of expected) {
    const text = logged.get(label);
    expect(text, label).toBeDefined();
    expect(text!.startsWith(`${label}: ${code}: `), `${label}: ${text}`).toBe(true);
    const message = text!.slice(`${label}: ${code}: `.length);
    expect(message, label).toContain('misuse');
    expect(message, label).toMatch(names);
  }
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});
