// Issue 10, finding 5: a server that reflects request headers in response
// headers (`x-seen-authorization: Bearer …`) must not hand the endpoint's
// secrets to the handler. Response headers whose value contains the value of
// a secret header (every header the endpoint adds except the CORS-safelisted
// Accept, Accept-Language, Content-Language and Content-Type; values of 8
// characters or more) are withheld. Bodies cannot be filtered (README).
import { expect, test } from 'vitest';
import { TestServer } from '../../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../../fixtures/harness.ts';

const bed = testBed();

test("response headers that quote one of the endpoint's secret headers are withheld from the handler", async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const token = `tok-${crypto.randomUUID()}`;
  const key = `key-${crypto.randomUUID()}`;
  const headers = async () => ({
    authorization: `Bearer ${token}`,
    'x-api-key': key,
    'x-tenant': 'abc', // shorter than 8 characters: not a secret
    'accept-language': 'en-GB-oxendict', // CORS-safelisted: not a secret
  });
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: server.apiUrl, headers } }, handlers: [scripted('h')] });
  const session = m.synchronize({
    cookie: { scripts: { h: { steps: [
      { op: 'establish', name: 'api' },
      { op: 'fetch', on: 'api', path: 'reflect', headers: { 'x-from-worker': 'worker-value-1234' }, read: 'text' },
      { op: 'fetch', on: 'api', path: 'reflect?statusFrom=authorization', read: 'text' },
      { op: 'fetch', on: 'api', path: 'reflect?statusFrom=x-tenant', read: 'text' },
    ] } } },
  });
  await session.done;
  const step = await reports.stepOf(session.id, 'h', 1);
  expect(step.ok).toBe(true);
  const seen = new Map((step.value as { headers: [string, string][] }).headers);

  // The server did receive the secrets and reflected them…
  const [request] = (await server.state()).requests;
  expect(request!.headers.authorization).toBe(`Bearer ${token}`);
  expect(request!.headers['x-api-key']).toBe(key);
  // …and the handler got every reflected header but theirs.
  expect(seen.has('x-seen-authorization')).toBe(false);
  expect(seen.has('x-seen-x-api-key')).toBe(false);
  expect(seen.get('x-seen-x-tenant')).toBe('abc');
  expect(seen.get('x-seen-accept-language')).toBe('en-GB-oxendict');
  expect(seen.get('x-seen-x-from-worker')).toBe('worker-value-1234');
  expect(seen.get('x-request-id')).toBe(String(request!.id));
  // A reason phrase that quotes a secret is replaced by an empty one.
  expect((await reports.stepOf(session.id, 'h', 2)).value).toMatchObject({ status: 200, statusText: '' });
  expect((await reports.stepOf(session.id, 'h', 3)).value).toMatchObject({ status: 200, statusText: 'abc' });
  const everything = JSON.stringify(reports.all.filter((r) => r.sessionId === session.id));
  expect(everything).not.toContain(token);
  expect(everything).not.toContain(key);
  await noLiveWorkers();
});
