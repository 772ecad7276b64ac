// Issue 10, finding 3: encoded separators must not pass path confinement. A
// server that decodes the path once (or more) before resolving it would see
// `/` or `\` where the URL parser saw none, so `%2f`, `%5c` (any case) and
// their double or deeper encodings are refused with E_ACCESSDENIED, as the
// plain forms are, and never sent.
import { expect, test } from 'vitest';
import { TestServer } from '../../fixtures/server.ts';
import { noLiveWorkers, scripted, testBed } from '../../fixtures/harness.ts';
import type { Step } from '../../../workers/fixtures/script.ts';

const bed = testBed();

test('paths with encoded separators are refused with E_ACCESSDENIED and the server never sees them', async () => {
  const reports = bed.reports;
  const server = TestServer.create();
  const base = `${server.apiUrl}zone/`;
  const escapes = [
    '..%2fsecret',
    '..%2Fsecret',
    '%2e%2e%2fsecret',
    '..%5csecret',
    '..%5Csecret',
    'x/..%2f..%2fsecret',
    '..%252fsecret',
    '..%255Csecret',
    '..%25252fsecret',
    '%252e%252e/secret',
    'reflect/..%25%32%66..%25%32%66secret',
    '..%2\tf..%2\tfsecret',
    '%2\te%2\te%2\tfsecret',
    '..%\t2fsecret',
  ];
  const steps: Step[] = [
    { op: 'establish', name: 'api' },
    ...escapes.map((path): Step => ({ op: 'fetch', on: 'api', path, read: 'text' })),
    // An encoded slash in the query is not a separator: allowed.
    { op: 'fetch', on: 'api', path: 'reflect?q=a%2Fb%5C', read: 'text' },
  ];
  const m = bed.manager({ endpoints: { api: { kind: 'fetch', url: base } }, handlers: [scripted('h')] });
  const session = m.synchronize({ cookie: { scripts: { h: { steps } } } });
  await session.done;
  const failures = await reports.failures(session.id, 'h');

  expect(failures.map((f) => [escapes[f.index! - 1], f.error?.code])).toEqual(escapes.map((path) => [path, 'E_ACCESSDENIED']));
  for (const f of failures) {
    expect(f.error!.message).toContain("endpoint 'api'");
    expect(f.error!.message).toMatch(/encoded '\/' or '\\'|'\.\.' segment|control character/);
  }
  expect((await reports.stepOf(session.id, 'h', escapes.length + 1)).value).toMatchObject({ status: 200, text: 'reflected' });
  // Only the last request reached the server.
  expect((await server.state()).requests.map((r) => [r.path, r.query])).toEqual([['zone/reflect', 'q=a%2Fb%5C']]);
  await noLiveWorkers();
});
