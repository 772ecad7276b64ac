// Issue 10, finding 14: what fetch would refuse in `api.fetch(path, init)` is
// an E_INVALIDARG SyncError naming the problem, checked in the worker before
// anything is sent; and checked again on arrival by the manager, since a
// worker can post on its channel's port without going through FetchChannel.
import { expect, test } from 'vitest';
import { TestServer } from '../fixtures/server.ts';
import { inlineHandler, noLiveWorkers, testBed, type Report } from '../fixtures/harness.ts';
import type { WireError } from '../../src/protocol/wire.ts';

const bed = testBed();

/** [what, the arguments of api.fetch as JavaScript, what the message must say]. */
const BAD_INITS: [string, string, RegExp][] = [
  ['a body on GET', `'echo', { method: 'GET', body: 'x' }`, /a GET request cannot have a body/],
  ['a body on HEAD', `'echo', { method: 'head', body: new Uint8Array(4) }`, /a HEAD request cannot have a body/],
  ['a body with the default method', `'echo', { body: 'x' }`, /a GET request cannot have a body/],
  ['a method with a space', `'health', { method: 'GET X' }`, /method "GET X" is not a valid HTTP method/],
  ['a method with a line break', `'health', { method: 'GET\\n' }`, /is not a valid HTTP method/],
  ['an empty method', `'health', { method: '' }`, /is not a valid HTTP method/],
  ['a method that is not a string', `'health', { method: 7 }`, /method must be a string/],
  ['CONNECT', `'health', { method: 'CONNECT' }`, /method CONNECT is not allowed/],
  ['TRACE', `'health', { method: 'TRACE' }`, /method TRACE is not allowed/],
  ['track, in lower case', `'health', { method: 'track' }`, /method TRACK is not allowed/],
  ['a header name with a space', `'health', { headers: { 'x bad': '1' } }`, /header name "x bad" is not a valid HTTP header name/],
  ['a header name with a colon', `'health', { headers: [['x-a:b', '1']] }`, /header name "x-a:b"/],
  ['a header value with a line break', `'health', { headers: [['x-ok', 'a\\r\\nx-injected: 1']] }`, /the value of header "x-ok" is not valid/],
  ['a header value beyond U+00FF', `'health', { headers: { 'x-ok': '\u2603' } }`, /the value of header "x-ok" is not valid/],
  ['a header pair of one element', `'health', { headers: [['x-ok']] }`, /headers must be a Headers, an array of \[name, value\] pairs/],
  ['headers that are a string', `'health', { headers: 'x-ok: 1' }`, /headers must be a Headers/],
  ['a signal that is a string', `'health', { signal: 'nope' }`, /signal must be an AbortSignal.*not "nope"/],
  ['a signal that is a plain object', `'health', { signal: { aborted: false } }`, /signal must be an AbortSignal/],
  ['a responseBody that is not a mode', `'health', { responseBody: 'all' }`, /responseBody must be 'auto', 'whole' or 'stream', not "all"/],
  ['an idempotent that is not a boolean', `'health', { idempotent: 'yes' }`, /idempotent must be a boolean, not "yes"/],
  ['an init that is a string', `'health', 'GET'`, /init must be an object/],
  ['a path that is not a string', `42`, /the path must be a string/],
  // Refused by the library itself: an engine that cannot upload a stream may send "[object ReadableStream]" instead of throwing.
  ['a stream body without duplex', `'echo', { method: 'POST', body: new ReadableStream() }`, /fetch refuses this init: a ReadableStream body needs duplex: 'half', not undefined/],
  ['a stream body with a duplex other than half', `'echo', { method: 'POST', body: new ReadableStream(), duplex: 'full' }`, /needs duplex: 'half', not "full"/],
  ['a locked stream body', `'echo', { method: 'POST', body: locked(), duplex: 'half' }`, /the ReadableStream body is locked/],
  ['a stream body of strings', `'echo', { method: 'POST', body: strings(), duplex: 'half' }`, /the ReadableStream body could not be read/],
];

/** Messages a hostile worker posts straight on its channel's port, past FetchChannel's checks. */
const RAW_REQUESTS: [string, string, RegExp][] = [
  ['TRACE', `{ method: 'TRACE' }`, /method TRACE is not allowed/],
  ['trace in lower case', `{ method: 'trace' }`, /method TRACE is not allowed/],
  ['CONNECT', `{ method: 'CONNECT' }`, /method CONNECT is not allowed/],
  ['a body on GET', `{ method: 'GET', body: new ArrayBuffer(3) }`, /a GET request cannot have a body/],
  ['a bad method', `{ method: 'G T' }`, /is not a valid HTTP method/],
  ['a bad header name', `{ headers: [['x bad', '1']] }`, /header name "x bad"/],
  ['a header value with a line break', `{ headers: [['x-ok', 'a\\nb']] }`, /the value of header "x-ok" is not valid/],
  ['a method that is not a string', `{ method: 42 }`, /method must be a string/],
];

async function run(source: string, server: TestServer) {
  const reports = bed.reports;
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: false } }, handlers: [inlineHandler('h', source)] });
  const session = m.synchronize();
  await reports.wait((r) => r.sessionId === session.id && r.phase === 'done', 15_000);
  const result = await session.done;
  const cases = reports.all.filter((r) => r.sessionId === session.id && r.phase === 'case').map((r: Report) => r.value as { index: number; error?: WireError; status?: number });
  return { result, cases };
}

test('api.fetch refuses what fetch would refuse with E_INVALIDARG naming it, and sends nothing', async () => {
  const server = TestServer.create();
  const { result, cases } = await run(`
    const locked = () => {
      const stream = new ReadableStream();
      stream.getReader();
      return stream;
    };
    const strings = () => new ReadableStream({ start(c) { c.enqueue('not bytes'); c.close(); } });
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(_ids, ctx) {
        const api = await ctx.establishConnection('api', 'fetch');
        const calls = [${BAD_INITS.map(([, args]) => `() => api.fetch(${args})`).join(', ')}];
        for (const [index, call] of calls.entries()) {
          try {
            const res = await call();
            report(ctx, 'case', { index, status: res.status });
          } catch (error) {
            report(ctx, 'case', { index, error: toWire(error) });
          }
        }
        // Still usable afterwards, and fetch's own normalising is kept: a lower-case get.
        const res = await api.fetch('health', { method: 'get', headers: { 'x-ok': ' padded ' } });
        report(ctx, 'case', { index: ${BAD_INITS.length}, status: res.status });
        report(ctx, 'done');
      },
    });
  `, server);

  expect(cases).toHaveLength(BAD_INITS.length + 1);
  for (const [index, [what, , message]] of BAD_INITS.entries()) {
    const error = cases[index]!.error;
    expect(error?.code, what).toBe('E_INVALIDARG');
    expect(error?.name, what).toBe('SyncError');
    expect(error?.message, what).toMatch(message);
    expect(error?.message, what).toContain("fetch on endpoint 'api'");
  }
  expect(cases[BAD_INITS.length]).toEqual({ index: BAD_INITS.length, status: 200 });
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // Only the last request reached the server.
  expect((await server.state()).requests.map((r) => [r.method, r.path, r.headers['x-ok']])).toEqual([['GET', 'health', 'padded']]);
  await noLiveWorkers();
});

test('a ReadableStream body with duplex half is read to its end and arrives byte for byte, like any body', async () => {
  const server = TestServer.create();
  const { result, cases } = await run(`
    const chunks = [[104, 101, 108], [108, 111, 32], [0, 255, 119, 111, 114, 108, 100]];
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(_ids, ctx) {
        const api = await ctx.establishConnection('api', 'fetch');
        const body = new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next) controller.enqueue(new Uint8Array(next));
            else controller.close();
          },
        });
        const res = await api.fetch('echo', { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/x-test' } });
        report(ctx, 'case', { index: 0, status: res.status, bytes: [...new Uint8Array(await res.arrayBuffer())], type: res.headers.get('content-type') });
        report(ctx, 'done');
      },
    });
  `, server);

  expect(result.handlers[0]!.outcome).toBe('succeeded');
  expect(cases).toEqual([{ index: 0, status: 200, bytes: [104, 101, 108, 108, 111, 32, 0, 255, 119, 111, 114, 108, 100], type: 'application/x-test' }]);
  const requests = (await server.state()).requests;
  expect(requests.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([['POST', 'echo', 'application/x-test']]);
  await noLiveWorkers();
});

test("the manager checks a request again on arrival: messages posted straight on the channel's port get E_INVALIDARG and are never sent", async () => {
  const server = TestServer.create();
  const { result, cases } = await run(`
    // Catch the channel's port as FetchChannel posts its first request on it.
    let port = null;
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (message, transfer) {
      if (message && message.type === 'request') port = this;
      return post.call(this, message, transfer);
    };
    defineHandler({
      items: () => [{ id: 'a', name: 'A' }],
      async synchronize(_ids, ctx) {
        const api = await ctx.establishConnection('api', 'fetch');
        await api.fetch('health');
        const raw = [${RAW_REQUESTS.map(([, fields]) => fields).join(', ')}];
        for (const [index, fields] of raw.entries()) {
          const id = 1000 + index;
          const answer = new Promise((resolve) => {
            const listen = (event) => {
              if (event.data && event.data.id !== id) return;
              port.removeEventListener('message', listen);
              resolve(event.data);
            };
            port.addEventListener('message', listen);
          });
          const message = { type: 'request', id, path: 'health', method: 'GET', headers: [], body: null, responseBody: 'auto', idempotent: null, ...fields };
          post.call(port, message, message.body ? [message.body] : []);
          const reply = await answer;
          report(ctx, 'case', { index, error: reply.type === 'error' ? reply.error : undefined, status: reply.status });
        }
        report(ctx, 'done');
      },
    });
  `, server);

  expect(cases).toHaveLength(RAW_REQUESTS.length);
  for (const [index, [what, , message]] of RAW_REQUESTS.entries()) {
    const error = cases[index]!.error;
    expect(error?.code, what).toBe('E_INVALIDARG');
    expect(error?.message, what).toMatch(/Endpoint 'api': malformed request from the handler/);
    expect(error?.message, what).toMatch(message);
  }
  expect(result.handlers[0]!.outcome).toBe('succeeded');
  // Only FetchChannel's own request reached the server.
  expect((await server.state()).requests.map((r) => [r.method, r.path])).toEqual([['GET', 'health']]);
  await noLiveWorkers();
});
