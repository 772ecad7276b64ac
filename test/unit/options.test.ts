import { describe, expect, test } from 'vitest';
import { DEFAULT_TIMEOUTS, resolveOptions } from '../../src/coordinator/options.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { MemoryStateStore } from '../../src/storage/memory-state-store.ts';

const worker = () => ({ postMessage() {}, addEventListener() {}, removeEventListener() {}, terminate() {} });
const valid = {
  name: 'app',
  endpoints: { api: { kind: 'fetch', url: '/api/', probe: 'health' }, live: { kind: 'websocket', url: () => 'ws://x/live', protocols: ['v1'] } },
  defaultEndpoint: 'api',
  handlers: [{ id: 'notes', worker, endpoints: ['api'] }, { id: 'live', name: 'Live', worker, timeouts: { handler: 5000 } }],
};

function rejects(options: unknown, message: RegExp): void {
  try {
    resolveOptions(options);
    expect.unreachable('accepted');
  } catch (error) {
    expect(SyncError.is(error, 'E_INVALIDARG')).toBe(true);
    expect((error as Error).message).toMatch(message);
  }
}

describe('SyncManager options', () => {
  test('resolve with defaults filled in', () => {
    const r = resolveOptions(valid);
    expect(r.defaultEndpoint).toBe('api');
    expect(r.timeouts).toEqual(DEFAULT_TIMEOUTS);
    expect(r.handlers.get('notes')).toMatchObject({ name: 'notes', endpoints: new Set(['api']), timeouts: DEFAULT_TIMEOUTS });
    expect(r.handlers.get('live')).toMatchObject({ name: 'Live', endpoints: null, timeouts: { ...DEFAULT_TIMEOUTS, handler: 5000 } });
  });

  test('storage: memory by default where indexedDB is missing (Node, Deno), indexeddb where it exists; a custom store is kept', () => {
    expect(resolveOptions(valid).storage).toBe('memory');
    const g = globalThis as { indexedDB?: unknown };
    g.indexedDB = {};
    try {
      expect(resolveOptions(valid).storage).toBe('indexeddb');
    } finally {
      delete g.indexedDB;
    }
    expect(resolveOptions({ ...valid, storage: 'indexeddb' }).storage).toBe('indexeddb');
    const custom = new MemoryStateStore();
    expect(resolveOptions({ ...valid, storage: custom }).storage).toBe(custom);
    expect(resolveOptions({ ...valid, timeouts: { storage: 100 } }).timeouts.storage).toBe(100);
  });

  test('no default endpoint is allowed', () => {
    expect(resolveOptions({ ...valid, defaultEndpoint: undefined }).defaultEndpoint).toBeNull();
  });

  test.each([
    [null, /needs an options object/],
    [{ ...valid, nme: 'x' }, /unknown option 'nme'/],
    [{ ...valid, name: '' }, /option `name`/],
    [{ ...valid, handlers: [] }, /non-empty array/],
    [{ ...valid, defaultEndpoint: 'nope' }, /defaultEndpoint.*"nope".*api, live/],
    [{ ...valid, endpoints: { api: { kind: 'ftp', url: '/x' } } }, /endpoint 'api': kind must be/],
    [{ ...valid, endpoints: { api: { kind: 'fetch', url: 'ws://x/' } } }, /must use http: or https:/],
    [{ ...valid, endpoints: { api: { kind: 'websocket', url: 'ftp://x/' } } }, /must use ws:/],
    [{ ...valid, endpoints: { api: { kind: 'fetch', url: '/api/', header: {} } } }, /unknown option 'header' for a fetch endpoint/],
    [{ ...valid, endpoints: { api: { kind: 'fetch', url: '/api/', headers: { a: 1 } } } }, /header 'a' must be a string/],
    [{ ...valid, endpoints: { api: { kind: 'fetch', url: 5 } } }, /url must be a string or a function/],
    [{ ...valid, endpoints: { 'bad name': { kind: 'fetch', url: '/' } } }, /endpoint name "bad name"/],
    [{ ...valid, endpoints: { api: { kind: 'websocket', url: '/x', protocols: [1] } } }, /protocols must be/],
    [{ ...valid, endpoints: { api: { kind: 'websocket', url: '/x', connectTimeout: 0 } } }, /connectTimeout must be a number of milliseconds/],
    [{ ...valid, handlers: [{ id: 'notes' }] }, /handler 'notes': worker must be a function/],
    [{ ...valid, handlers: [{ id: 'a b', worker }] }, /handlers\[0\]: id must be/],
    [{ ...valid, handlers: [{ id: 'n', worker }, { id: 'n', worker }] }, /the id 'n' is used twice/],
    [{ ...valid, handlers: [{ id: 'n', worker, endpoints: ['nope'] }] }, /handler 'n': endpoint 'nope' is not configured/],
    [{ ...valid, handlers: [{ id: 'n', worker, name: 'x'.repeat(33) }] }, /name must be a string of 1 to 32/],
    [{ ...valid, handlers: [{ id: 'n', worker, wroker: worker }] }, /unknown option 'wroker'/],
    [{ ...valid, timeouts: { ready: -1 } }, /timeouts`\.ready must be a number of milliseconds/],
    [{ ...valid, timeouts: { handlr: 5 } }, /unknown limit 'handlr'/],
    [{ ...valid, handlers: [{ id: 'n', worker, timeouts: { close: 5 } }] }, /unknown limit 'close'/],
    [{ ...valid, storage: 'localStorage' }, /option `storage` must be 'indexeddb', 'memory' or a StateStore object, not "localStorage"/],
    [{ ...valid, storage: null }, /option `storage` must be/],
    [{ ...valid, storage: { get() {}, set() {} } }, /custom store needs the methods of StateStore; missing: delete, update, keys, entries, write/],
    [{ ...valid, timeouts: { storage: 0 } }, /timeouts`\.storage must be a number of milliseconds/],
    [{ ...valid, handlers: [{ id: 'n', worker, timeouts: { storage: 5 } }] }, /unknown limit 'storage'/],
  ])('rejects %j with a message naming the option', (options, message) => rejects(options, message));
});
