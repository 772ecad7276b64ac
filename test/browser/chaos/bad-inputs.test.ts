/**
 * Chaos, bad input from a handler: its ctx calls (progress, logError,
 * deleteLogError, ctx.store, establishConnection) with values of the wrong
 * type or out of range, all cloneable, each refused with E_INVALIDARG (or
 * E_ACCESSDENIED for an endpoint outside its list) naming the argument; and
 * 32 forms of a fetch path that would leave the endpoint's base, each refused
 * with E_ACCESSDENIED and never sent (the server recorded no request at
 * all). Each table runs in one session, one step per case, so the cases
 * share one worker: the session's end (no hang, no worker, no socket or
 * request left open) is checked once for the table, before its cases.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cookie, manager, Reports, scripted, type Report } from '../../fixtures/harness.ts';
import { TestServer, type ServerState } from '../../fixtures/server.ts';
import type { Step } from '../../../workers/fixtures/script.ts';
import type { SessionResult, SyncManager } from '../../../src/index.ts';
import { ended } from './cases.ts';

const long = (n: number) => 'x'.repeat(n);

// [what, step, code, what the message names]
const calls: [string, Step, string, string][] = [
  // progress(itemId, update)
  ['progress with a number for the item', { op: 'progress', item: 42, update: { status: 'updating' } }, 'E_INVALIDARG', 'progress'],
  ['progress with null for the item', { op: 'progress', item: null, update: { status: 'updating' } }, 'E_INVALIDARG', 'progress'],
  ['progress with an object for the item', { op: 'progress', item: { id: 'a' }, update: { status: 'updating' } }, 'E_INVALIDARG', 'progress'],
  ['progress for an item outside the selection', { op: 'progress', item: 'zzz', update: { status: 'updating' } }, 'E_INVALIDARG', 'zzz'],
  ['progress with a string for the update', { op: 'progress', item: 'a', update: 'succeeded' }, 'E_INVALIDARG', 'progress'],
  ['progress with an unknown status', { op: 'progress', item: 'a', update: { status: 'done' } }, 'E_INVALIDARG', 'status'],
  ['progress with a number for the status', { op: 'progress', item: 'a', update: { status: 5 } }, 'E_INVALIDARG', 'status'],
  ['progress with a negative value', { op: 'progress', item: 'a', update: { value: -1 } }, 'E_INVALIDARG', 'value'],
  ['progress with a value of NaN', { op: 'progress', item: 'a', update: { value: Number.NaN } }, 'E_INVALIDARG', 'value'],
  ['progress with an infinite value', { op: 'progress', item: 'a', update: { value: Number.POSITIVE_INFINITY } }, 'E_INVALIDARG', 'value'],
  ['progress with a string value', { op: 'progress', item: 'a', update: { value: '3' } }, 'E_INVALIDARG', 'value'],
  ['progress with a negative max', { op: 'progress', item: 'a', update: { max: -1 } }, 'E_INVALIDARG', 'max'],
  ['progress with a string max', { op: 'progress', item: 'a', update: { max: 'ten' } }, 'E_INVALIDARG', 'max'],
  ['progress with a number for the text', { op: 'progress', item: 'a', update: { text: 5 } }, 'E_INVALIDARG', 'text'],
  // logError(level, text, options)
  ['logError with an unknown level', { op: 'log', level: 'fatal', text: 'x' }, 'E_INVALIDARG', 'level'],
  ['logError with a number for the level', { op: 'log', level: 5, text: 'x' }, 'E_INVALIDARG', 'level'],
  ['logError with null for the level', { op: 'log', level: null, text: 'x' }, 'E_INVALIDARG', 'level'],
  ['logError with a number for the text', { op: 'log', level: 'error', text: 5 }, 'E_INVALIDARG', 'text'],
  ['logError with null for the text', { op: 'log', level: 'error', text: null }, 'E_INVALIDARG', 'text'],
  ['logError with an object for the text', { op: 'log', level: 'error', text: { message: 'x' } }, 'E_INVALIDARG', 'text'],
  ['logError with a text of 4097 characters', { op: 'log', level: 'error', text: long(4097) }, 'E_INVALIDARG', 'text'],
  ['logError with a string for the options', { op: 'log', level: 'error', text: 'x', options: 'a' }, 'E_INVALIDARG', 'options'],
  ['logError with a number for itemId', { op: 'log', level: 'error', text: 'x', options: { itemId: 5 } }, 'E_INVALIDARG', 'itemId'],
  ['logError with a number for errorId', { op: 'log', level: 'error', text: 'x', options: { errorId: 5 } }, 'E_INVALIDARG', 'errorId'],
  ['logError with a string for actionable', { op: 'log', level: 'error', text: 'x', options: { actionable: 'yes' } }, 'E_INVALIDARG', 'actionable'],
  // deleteLogError(errorId?)
  ['deleteLogError with a number', { op: 'delete-log', errorId: 5 }, 'E_INVALIDARG', 'deleteLogError'],
  ['deleteLogError with an object', { op: 'delete-log', errorId: { id: 'x' } }, 'E_INVALIDARG', 'deleteLogError'],
  ['deleteLogError with an array', { op: 'delete-log', errorId: ['x'] }, 'E_INVALIDARG', 'deleteLogError'],
  // ctx.store
  ['store.set with a number for the key', { op: 'store-set', key: 5, value: 1 }, 'E_INVALIDARG', 'key'],
  ['store.set with an empty key', { op: 'store-set', key: '', value: 1 }, 'E_INVALIDARG', 'key'],
  ['store.set with a key of 1025 characters', { op: 'store-set', key: long(1025), value: 1 }, 'E_INVALIDARG', 'key'],
  ['store.set with null for the key', { op: 'store-set', key: null, value: 1 }, 'E_INVALIDARG', 'key'],
  ['store.set with an object for the key', { op: 'store-set', key: { k: 1 }, value: 1 }, 'E_INVALIDARG', 'key'],
  ['store.set of undefined', { op: 'store-set', key: 'k', value: undefined }, 'E_INVALIDARG', 'undefined'],
  ['store.set of more than 1 MiB', { op: 'store-set', key: 'k', make: { bytes: 1024 * 1024 + 1 } }, 'E_INVALIDARG', 'more than 1048576 bytes'],
  ['store.get with a number for the key', { op: 'store-get', key: 5 }, 'E_INVALIDARG', 'key'],
  ['store.get with an empty key', { op: 'store-get', key: '' }, 'E_INVALIDARG', 'key'],
  ['store.delete with an array for the key', { op: 'store-delete', key: ['k'] }, 'E_INVALIDARG', 'key'],
  ['store.keys with a number for the prefix', { op: 'store-keys', prefix: 5 }, 'E_INVALIDARG', 'prefix'],
  ['store.entries with an object for the prefix', { op: 'store-entries', prefix: { p: 1 } }, 'E_INVALIDARG', 'prefix'],
  // establishConnection(name, kind)
  ['establishConnection with a number for the name', { op: 'establish', name: 42 }, 'E_INVALIDARG', 'name'],
  ['establishConnection with an object for the name', { op: 'establish', name: { name: 'api' } }, 'E_INVALIDARG', 'name'],
  ['establishConnection with true for the name', { op: 'establish', name: true }, 'E_INVALIDARG', 'name'],
  ['establishConnection with an array for the name', { op: 'establish', name: ['api'] }, 'E_INVALIDARG', 'name'],
  ['establishConnection with an unknown name', { op: 'establish', name: 'nope' }, 'E_INVALIDARG', 'nope'],
  ['establishConnection with an empty name', { op: 'establish', name: '' }, 'E_INVALIDARG', "endpoint ''"],
  ['establishConnection with an unknown kind', { op: 'establish', name: 'api', kind: 'ftp' as 'fetch' }, 'E_INVALIDARG', 'kind'],
  ['establishConnection with the other kind', { op: 'establish', name: 'api', kind: 'websocket' }, 'E_INVALIDARG', "endpoint 'api' is a fetch endpoint"],
  ['establishConnection of an endpoint outside its list', { op: 'establish', name: 'other' }, 'E_ACCESSDENIED', 'other'],
];

// Paths that leave the endpoint's base (or could, on some server): refused before anything is sent.
const ESCAPES = [
  '..', '../secret', '../../secret', 'a/../../secret', 'a/../secret', '/../secret', './../secret', 'notes/..', 'notes/..?x', 'notes/..#x',
  '%2e%2e/secret', '%2E%2E/secret', '.%2e/secret', '%2e./secret', 'a/%2e%2e/%2e%2e/secret', 'notes/%2e%2e',
  'https://evil.test/x', 'HTTP://127.0.0.1/x', 'http:secret', 'data:text/plain,x', 'javascript:alert(1)', 'blob:http://evil.test/x',
  'file:///etc/passwd', 'ws://127.0.0.1/x',
  '//evil.test/x', '///evil.test/x', '\\\\evil.test\\x', 'a\\..\\secret', '/\\evil.test/x', '\\..\\secret', ' //evil.test/x', '\t//evil.test/x',
];

const reports = new Reports();
const server = TestServer.create();
let m: SyncManager;
let result: SessionResult;
let state: ServerState;
const escapeStart = 1 + calls.length;

beforeAll(async () => {
  m = manager({
    storage: 'memory',
    endpoints: { api: { kind: 'fetch', url: server.apiUrl, retry: false }, other: { kind: 'fetch', url: server.apiUrl, retry: false } },
    handlers: [scripted('h', { endpoints: ['api'] })],
  });
  const steps: Step[] = [{ op: 'establish', name: 'api', as: 'base' }, ...calls.map(([, step]) => step), ...ESCAPES.map((path): Step => ({ op: 'fetch', on: 'base', path }))];
  const session = m.synchronize({ cookie: cookie({ h: { items: [{ id: 'a', name: 'A' }], steps } }) });
  result = await ended(session, server);
  await reports.failures(session.id, 'h');
  state = await server.state();
}, 60_000);

afterAll(async () => {
  await m.close();
  reports.close();
});

function stepReport(index: number): Report {
  const r = reports.all.find((x) => x.handlerId === 'h' && x.phase === 'step' && x.index === index);
  if (!r) throw new Error(`no report of step ${index}`);
  return r;
}

test('the session of the bad calls and paths ended, its worker and connections gone; the handler lived on through every refusal', () => {
  expect(result.handlers.map((h) => [h.outcome, h.endedIn])).toEqual([['succeeded', 'synchronizing']]);
  expect(stepReport(0).ok).toBe(true);
});

test.for(calls.map(([what, , code, names], i) => ({ what, code, names, index: i + 1 })))('$what: $code naming $names', ({ code, names, index }) => {
  const r = stepReport(index);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe(code);
  expect(r.error?.message).toContain(names);
});

test.for(ESCAPES.map((path, i) => ({ path, index: escapeStart + i })))('fetch of path $path: E_ACCESSDENIED, never sent', ({ path, index }) => {
  const r = stepReport(index);
  expect(r.ok).toBe(false);
  expect(r.error?.code).toBe('E_ACCESSDENIED');
  expect(r.error?.message).toContain(`refused path ${JSON.stringify(path)}`);
  // Nothing of any of these paths reached the server: it recorded no request at all.
  expect(state.requests).toEqual([]);
});
