// DESIGN.md §2 rule 1: `establishConnection(name)` with `null`, or with no
// argument, uses the default endpoint; both are the very same connection as
// asking for the default endpoint by its name. Without a configured default,
// those calls reject with E_INVALIDARG.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed, type Script, allClosed } from '../fixtures/harness.ts';
import type { EndpointConfig } from '../../src/index.ts';

const bed = testBed();

const sorted = (values: unknown): unknown[] => [...(values as unknown[])].map(String).sort();

test('null, no argument and the default endpoint name give one websocket connection (one socket, one record, every grant named after the default)', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    // `other` comes first, so picking "the first endpoint" instead of the default would show.
    endpoints: { other: { kind: 'websocket', url: server.wsUrl('other') }, live: { kind: 'websocket', url: server.wsUrl('live') } },
    defaultEndpoint: 'live',
    handlers: [scripted('def-h')],
  });
  const script: Script = {
    steps: [
      { op: 'establish', name: null, as: 'by-null' },
      { op: 'establish', name: 'omit', as: 'by-omit' },
      { op: 'establish', name: 'live', as: 'by-name' },
      { op: 'send', on: 'by-null', data: 'via-null' },
      { op: 'send', on: 'by-omit', data: 'via-omit' },
      { op: 'send', on: 'by-name', data: 'via-name' },
      { op: 'expect', on: 'by-null', count: 3 },
      { op: 'expect', on: 'by-omit', count: 3 },
      { op: 'expect', on: 'by-name', count: 3 },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'def-h': script } } });
  const result = await session.done;

  expect(await reports.failures(session.id, 'def-h')).toEqual([]);
  for (const i of [0, 1, 2]) expect((await reports.stepOf(session.id, 'def-h', i)).value).toMatchObject({ name: 'live', kind: 'websocket' });
  // The three channels hang off one socket: each sees the echo of every frame, whichever channel sent it.
  const frames = ['via-name', 'via-null', 'via-omit'];
  for (const i of [6, 7, 8]) expect(sorted((await reports.stepOf(session.id, 'def-h', i)).value)).toEqual(frames);

  expect(result.connections).toHaveLength(1);
  expect(result.connections[0]).toMatchObject({ name: 'live', kind: 'websocket', handlers: ['def-h'], closeCode: 1000 });
  const state = await allClosed(server);
  expect(state.sockets).toHaveLength(1);
  expect(state.sockets[0]).toMatchObject({ channel: 'live', open: false, closeCode: 1000 });
  expect(sorted(state.sockets[0]!.received)).toEqual(frames);
  await noLiveWorkers();
});

test('a handler asking for null and another asking for the default by name share one socket', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { other: { kind: 'websocket', url: server.wsUrl('other') }, live: { kind: 'websocket', url: server.wsUrl('live') } },
    defaultEndpoint: 'live',
    handlers: [scripted('by-null'), scripted('by-name')],
  });
  const script = (name: unknown, data: string): Script => ({
    steps: [
      { op: 'establish', name, as: 'c' },
      { op: 'wait' },
      { op: 'send', on: 'c', data },
      { op: 'expect', on: 'c', count: 2 },
    ],
  });
  const session = m.synchronize({ cookie: { scripts: { 'by-null': script(null, 'from-null'), 'by-name': script('live', 'from-name') } } });
  await Promise.all([reports.stepOf(session.id, 'by-null', 0), reports.stepOf(session.id, 'by-name', 0)]);
  const during = await server.state();
  expect(during.sockets.map((s) => [s.channel, s.open])).toEqual([['live', true]]);
  reports.release(session.id, 'by-null');
  reports.release(session.id, 'by-name');
  const result = await session.done;

  expect(await reports.failures(session.id, 'by-null', 'by-name')).toEqual([]);
  expect((await reports.stepOf(session.id, 'by-null', 0)).value).toMatchObject({ name: 'live' });
  expect((await reports.stepOf(session.id, 'by-name', 0)).value).toMatchObject({ name: 'live' });
  expect(sorted((await reports.stepOf(session.id, 'by-null', 3)).value)).toEqual(['from-name', 'from-null']);
  expect(sorted((await reports.stepOf(session.id, 'by-name', 3)).value)).toEqual(['from-name', 'from-null']);
  expect(result.connections).toHaveLength(1);
  expect(result.connections[0]!.name).toBe('live');
  expect(sorted(result.connections[0]!.handlers)).toEqual(['by-name', 'by-null']);
  const state = await allClosed(server);
  expect(state.sockets.map((s) => [s.channel, s.closeCode])).toEqual([['live', 1000]]);
  expect(sorted(state.sockets[0]!.received)).toEqual(['from-name', 'from-null']);
  await noLiveWorkers();
});

test('null, no argument and the name of a fetch default endpoint give one connection named after it', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const m = bed.manager({
    endpoints: { live: { kind: 'websocket', url: server.wsUrl('live') }, api: { kind: 'fetch', url: server.apiUrl } },
    defaultEndpoint: 'api',
    handlers: [scripted('def-f')],
  });
  const script: Script = {
    steps: [
      { op: 'establish', name: null, as: 'by-null' },
      { op: 'establish', name: 'omit', as: 'by-omit' },
      { op: 'establish', name: 'api', as: 'by-name' },
      { op: 'fetch', on: 'by-null', path: 'health', read: 'json' },
      { op: 'fetch', on: 'by-omit', path: 'health', read: 'json' },
      { op: 'fetch', on: 'by-name', path: 'health', read: 'json' },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'def-f': script } } });
  const result = await session.done;

  expect(await reports.failures(session.id, 'def-f')).toEqual([]);
  for (const i of [0, 1, 2]) expect((await reports.stepOf(session.id, 'def-f', i)).value).toMatchObject({ name: 'api', kind: 'fetch' });
  for (const i of [3, 4, 5]) expect((await reports.stepOf(session.id, 'def-f', i)).value).toMatchObject({ status: 200, json: { ok: true } });
  expect(result.connections.map((c) => [c.name, c.kind, c.handlers])).toEqual([['api', 'fetch', ['def-f']]]);
  const state = await server.state();
  expect(state.requests.map((r) => [r.method, r.path, r.status])).toEqual([['GET', 'health', 200], ['GET', 'health', 200], ['GET', 'health', 200]]);
  expect(state.sockets).toEqual([]);
  await noLiveWorkers();
});

test.each([
  ['other endpoints configured', true],
  ['no endpoints at all', false],
])('with no default endpoint configured (%s), null and no argument reject with E_INVALIDARG naming the handler', async (_label, withEndpoints) => {
  const reports = bed.reports;
  const server = TestServer.create();
  const endpoints: Record<string, EndpointConfig> | undefined = withEndpoints ? { live: { kind: 'websocket', url: server.wsUrl('live') } } : undefined;
  const m = bed.manager({ endpoints, handlers: [scripted('no-default-h')] });
  const script: Script = {
    steps: [
      { op: 'establish', name: null },
      { op: 'establish', name: 'omit' },
    ],
  };
  const session = m.synchronize({ cookie: { scripts: { 'no-default-h': script } } });
  const result = await session.done;

  for (const i of [0, 1]) {
    const report = await reports.stepOf(session.id, 'no-default-h', i);
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('E_INVALIDARG');
    expect(report.error?.message).toMatch(/no default ?endpoint is configured/i);
    expect(report.error?.message).toContain('no-default-h');
  }
  expect(result.connections).toEqual([]);
  expect((await server.state()).sockets).toEqual([]);
  await noLiveWorkers();
});
