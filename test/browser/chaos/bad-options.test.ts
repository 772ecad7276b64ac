/**
 * Chaos, bad input to the main thread's API: every option of `new
 * SyncManager()` (the README's API section: the manager, each handler
 * registration, the limits, both kinds of endpoint and their nested
 * options) and of `synchronize()`, with values of the wrong type or out of
 * range. Each is refused at once with `E_INVALIDARG`, and the message names
 * the option to fix, before anything starts (no worker, no storage).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { SyncError, SyncManager } from '../../../src/index.ts';

const worker = () => ({ postMessage() {}, addEventListener() {}, removeEventListener() {}, terminate() {} }) as unknown as Worker;
type Options = Record<string, unknown>;
const base = (): Options => ({
  name: 'chaos',
  storage: 'memory',
  endpoints: { api: { kind: 'fetch', url: 'http://127.0.0.1/api/' }, live: { kind: 'websocket', url: 'ws://127.0.0.1/live' } },
  defaultEndpoint: 'api',
  handlers: [{ id: 'h', worker }],
});
const ws = (extra: Options): Options => ({ ...base(), endpoints: { live: { kind: 'websocket', url: 'ws://127.0.0.1/live', ...extra } }, defaultEndpoint: undefined });
const http = (extra: Options): Options => ({ ...base(), endpoints: { api: { kind: 'fetch', url: 'http://127.0.0.1/api/', ...extra } } });
const handler = (extra: Options): Options => ({ ...base(), handlers: [{ id: 'h', worker, ...extra }] });
const without = (key: string): Options => {
  const o = base();
  delete o[key];
  return o;
};

function refused(call: () => unknown, names: string): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(SyncError.is(error, 'E_INVALIDARG'), `${String(error)}`).toBe(true);
  expect((error as Error).message).toContain(names);
}

// [what, options, what the message must name]
const constructorCases: [string, unknown, string][] = [
  ['no options', undefined, 'options'],
  ['options null', null, 'options'],
  ['options a string', 'chaos', 'options'],
  ['options an array (no name in it)', [], 'name'],
  ['an unknown option', { ...base(), nmae: 'x' }, 'nmae'],
  ['triggers (not built yet)', { ...base(), triggers: [] }, 'triggers'],
  // name
  ['name missing', without('name'), 'name'],
  ['name a number', { ...base(), name: 42 }, 'name'],
  ['name empty', { ...base(), name: '' }, 'name'],
  ['name with a space', { ...base(), name: 'my app' }, 'name'],
  ['name with a slash', { ...base(), name: 'a/b' }, 'name'],
  ['name of 65 characters', { ...base(), name: 'n'.repeat(65) }, 'name'],
  ['name null', { ...base(), name: null }, 'name'],
  // endpoints
  ['endpoints an array', { ...base(), endpoints: [], defaultEndpoint: undefined }, 'endpoints'],
  ['endpoints a string', { ...base(), endpoints: 'api', defaultEndpoint: undefined }, 'endpoints'],
  ['endpoints null', { ...base(), endpoints: null, defaultEndpoint: undefined }, 'endpoints'],
  ['an endpoint name with a space', { ...base(), endpoints: { 'my api': { kind: 'fetch', url: '/' } }, defaultEndpoint: undefined }, 'my api'],
  ['an endpoint name of 129 characters', { ...base(), endpoints: { ['e'.repeat(129)]: { kind: 'fetch', url: '/' } }, defaultEndpoint: undefined }, 'e'.repeat(129)],
  ['an endpoint that is a string', { ...base(), endpoints: { api: 'http://x/' } }, "'api'"],
  ['an endpoint that is null', { ...base(), endpoints: { api: null } }, "'api'"],
  ['an endpoint without kind', { ...base(), endpoints: { api: { url: '/' } } }, 'kind'],
  ['an endpoint of kind ftp', { ...base(), endpoints: { api: { kind: 'ftp', url: '/' } } }, 'kind'],
  ['an endpoint of kind 7', { ...base(), endpoints: { api: { kind: 7, url: '/' } } }, 'kind'],
  // defaultEndpoint
  ['defaultEndpoint unknown', { ...base(), defaultEndpoint: 'nope' }, 'defaultEndpoint'],
  ['defaultEndpoint a number', { ...base(), defaultEndpoint: 1 }, 'defaultEndpoint'],
  ['defaultEndpoint an object', { ...base(), defaultEndpoint: { name: 'api' } }, 'defaultEndpoint'],
  // handlers
  ['handlers missing', without('handlers'), 'handlers'],
  ['handlers empty', { ...base(), handlers: [] }, 'handlers'],
  ['handlers an object', { ...base(), handlers: { h: { worker } } }, 'handlers'],
  ['a handler that is a string', { ...base(), handlers: ['h'] }, 'handlers[0]'],
  ['a handler that is null', { ...base(), handlers: [null] }, 'handlers[0]'],
  ['a handler id missing', { ...base(), handlers: [{ worker }] }, 'id'],
  ['a handler id a number', handler({ id: 5 }), 'id'],
  ['a handler id empty', handler({ id: '' }), 'id'],
  ['a handler id with a slash', handler({ id: 'a/b' }), 'id'],
  ['a handler id of 65 characters', handler({ id: 'h'.repeat(65) }), 'id'],
  ['two handlers with one id', { ...base(), handlers: [{ id: 'h', worker }, { id: 'h', worker }] }, "'h'"],
  ['a handler name a number', handler({ name: 5 }), 'name'],
  ['a handler name of 33 characters', handler({ name: 'n'.repeat(33) }), 'name'],
  ['a handler name empty', handler({ name: '' }), 'name'],
  ['a handler worker missing', { ...base(), handlers: [{ id: 'h' }] }, 'worker'],
  ['a handler worker a URL string', handler({ worker: '/handler.js' }), 'worker'],
  ['a handler worker a Worker-like object', handler({ worker: worker() }), 'worker'],
  ['a handler endpoints a string', handler({ endpoints: 'api' }), 'endpoints'],
  ['a handler endpoints naming an unknown endpoint', handler({ endpoints: ['nope'] }), 'nope'],
  ['a handler endpoints holding a number', handler({ endpoints: [1] }), 'endpoints'],
  ['a handler timeouts a number', handler({ timeouts: 5 }), 'timeouts'],
  ['a handler timeouts.ready negative', handler({ timeouts: { ready: -1 } }), 'ready'],
  ['a handler timeouts.handler a string', handler({ timeouts: { handler: '5000' } }), 'handler'],
  ['a handler timeouts.cancel NaN', handler({ timeouts: { cancel: Number.NaN } }), 'cancel'],
  ['a handler timeouts.close (not a handler limit)', handler({ timeouts: { close: 5 } }), 'close'],
  ['an unknown handler option', handler({ wroker: worker }), 'wroker'],
  // timeouts
  ['timeouts a string', { ...base(), timeouts: 'fast' }, 'timeouts'],
  ['timeouts.ready 0', { ...base(), timeouts: { ready: 0 } }, 'ready'],
  ['timeouts.handler Infinity', { ...base(), timeouts: { handler: Number.POSITIVE_INFINITY } }, 'handler'],
  ['timeouts.cancel a string', { ...base(), timeouts: { cancel: '1s' } }, 'cancel'],
  ['timeouts.close negative', { ...base(), timeouts: { close: -5 } }, 'close'],
  ['timeouts.storage null', { ...base(), timeouts: { storage: null } }, 'storage'],
  ['an unknown limit', { ...base(), timeouts: { handlr: 5 } }, 'handlr'],
  // storage
  ['storage localStorage', { ...base(), storage: 'localStorage' }, 'storage'],
  ['storage a number', { ...base(), storage: 1 }, 'storage'],
  ['storage null', { ...base(), storage: null }, 'storage'],
  ['storage an object missing methods', { ...base(), storage: { get() {} } }, 'storage'],
  // WebSocket endpoints
  ['a websocket url missing', ws({ url: undefined }), 'url'],
  ['a websocket url a number', ws({ url: 5 }), 'url'],
  ['a websocket url of scheme ftp', ws({ url: 'ftp://x/' }), 'url'],
  ['a websocket url that does not parse', ws({ url: 'ws://' }), 'url'],
  ['websocket protocols a number', ws({ protocols: 5 }), 'protocols'],
  ['websocket protocols holding a number', ws({ protocols: [1] }), 'protocols'],
  ['websocket connectTimeout 0', ws({ connectTimeout: 0 }), 'connectTimeout'],
  ['websocket connectTimeout a string', ws({ connectTimeout: '10s' }), 'connectTimeout'],
  ['websocket reconnect a number', ws({ reconnect: 3 }), 'reconnect'],
  ['websocket reconnect.retries negative', ws({ reconnect: { retries: -1 } }), 'retries'],
  ['websocket reconnect.minDelay a string', ws({ reconnect: { minDelay: '1' } }), 'minDelay'],
  ['websocket reconnect.maxDelay below minDelay', ws({ reconnect: { minDelay: 1000, maxDelay: 10 } }), 'maxDelay'],
  ['websocket reconnect.factor 0', ws({ reconnect: { factor: 0 } }), 'factor'],
  ['websocket reconnect.jitter 2', ws({ reconnect: { jitter: 2 } }), 'jitter'],
  ['websocket reconnect.minUptime negative', ws({ reconnect: { minUptime: -1 } }), 'minUptime'],
  ['an unknown reconnect option', ws({ reconnect: { retry: 3 } }), 'retry'],
  ['websocket reconnect.retries 1.5', ws({ reconnect: { retries: 1.5 } }), 'retries'],
  ['websocket reconnect.constructor', ws({ reconnect: JSON.parse('{"constructor": 1}') }), 'constructor'],
  ['websocket heartbeat a string', ws({ heartbeat: 'on' }), 'heartbeat'],
  ['websocket heartbeat.interval 0', ws({ heartbeat: { interval: 0 } }), 'interval'],
  ['websocket heartbeat.timeout a string', ws({ heartbeat: { timeout: '5s' } }), 'timeout'],
  ['websocket heartbeat.ping a number', ws({ heartbeat: { ping: 5 } }), 'ping'],
  ['websocket heartbeat.isPong a string', ws({ heartbeat: { isPong: 'pong' } }), 'isPong'],
  ['an unknown heartbeat option', ws({ heartbeat: { every: 5 } }), 'every'],
  ['websocket sendBuffer a number', ws({ sendBuffer: 5 }), 'sendBuffer'],
  ['websocket sendBuffer.highWaterMark negative', ws({ sendBuffer: { highWaterMark: -1 } }), 'highWaterMark'],
  ['websocket sendBuffer.maxBytes a string', ws({ sendBuffer: { maxBytes: '16M' } }), 'maxBytes'],
  ['an unknown sendBuffer option', ws({ sendBuffer: { size: 5 } }), 'size'],
  ['websocket sendBuffer.maxQueuedFrames 1.5', ws({ sendBuffer: { maxQueuedFrames: 1.5 } }), 'maxQueuedFrames'],
  ['websocket receiveBuffer.maxFrames 0.5', ws({ receiveBuffer: { maxFrames: 0.5 } }), 'maxFrames'],
  ['websocket route a string', ws({ route: 'all' }), 'route'],
  ['a fetch option on a websocket endpoint', ws({ headers: {} }), 'headers'],
  // fetch endpoints
  ['a fetch url missing', http({ url: undefined }), 'url'],
  ['a fetch url an object', http({ url: { href: '/' } }), 'url'],
  ['a fetch url of scheme ws', http({ url: 'ws://x/' }), 'url'],
  ['a fetch url of scheme data', http({ url: 'data:text/plain,x' }), 'url'],
  ['fetch headers a string', http({ headers: 'authorization: x' }), 'headers'],
  ['fetch headers holding a number', http({ headers: { 'x-n': 1 } }), 'x-n'],
  ['fetch headers an array', http({ headers: [['a', 'b']] }), 'headers'],
  ['fetch probe a number', http({ probe: 5 }), 'probe'],
  ['fetch connectTimeout negative', http({ connectTimeout: -1 }), 'connectTimeout'],
  ['fetch retry true', http({ retry: true }), 'retry'],
  ['fetch retry.retries 101', http({ retry: { retries: 101 } }), 'retries'],
  ['fetch retry.minDelay negative', http({ retry: { minDelay: -1 } }), 'minDelay'],
  ['fetch retry.maxDelay a string', http({ retry: { maxDelay: 'long' } }), 'maxDelay'],
  ['fetch retry.factor 0.5', http({ retry: { factor: 0.5 } }), 'factor'],
  ['fetch retry.jitter -0.1', http({ retry: { jitter: -0.1 } }), 'jitter'],
  ['fetch retry.maxRetryAfter NaN', http({ retry: { maxRetryAfter: Number.NaN } }), 'maxRetryAfter'],
  ['an unknown retry option', http({ retry: { attempts: 3 } }), 'attempts'],
  ['fetch retry.constructor', http({ retry: JSON.parse('{"constructor": 1}') }), 'constructor'],
  ['fetch onUnauthorized a string', http({ onUnauthorized: 'refresh' }), 'onUnauthorized'],
  ['fetch wholeBodyLimit negative', http({ wholeBodyLimit: -1 }), 'wholeBodyLimit'],
  ['fetch wholeBodyLimit a string', http({ wholeBodyLimit: '1MiB' }), 'wholeBodyLimit'],
  ['a websocket option on a fetch endpoint', http({ heartbeat: true }), 'heartbeat'],
];

describe('new SyncManager() refuses bad options with E_INVALIDARG naming the option', () => {
  test.for(constructorCases)('%s', ([, options, names]) => refused(() => new SyncManager(options as never), names));
});

const manager = new SyncManager({ name: 'chaos-sync', storage: 'memory', handlers: [{ id: 'h', worker }, { id: 'g', worker }] });
afterAll(() => manager.close());

const synchronizeCases: [string, unknown, string][] = [
  ['options a string', 'manual', 'options'],
  ['options a number', 1, 'options'],
  ['options an array', [], 'options'],
  ['items of a handler that does not take part', { handlers: ['h'], items: { g: ['a'] } }, "'g'"],
  ['an unknown option', { triger: 'manual' }, 'triger'],
  ['trigger unknown', { trigger: 'cron' }, 'trigger'],
  ['trigger a number', { trigger: 1 }, 'trigger'],
  ['trigger null', { trigger: null }, 'trigger'],
  ['handlers a string', { handlers: 'h' }, 'handlers'],
  ['handlers naming an unknown handler', { handlers: ['nope'] }, 'nope'],
  ['handlers holding a number', { handlers: [1] }, 'handlers'],
  ['handlers naming one twice', { handlers: ['h', 'h'] }, 'handlers'],
  ['items an array', { items: ['a'] }, 'items'],
  ['items a string', { items: 'a' }, 'items'],
  ['items of an unknown handler', { items: { nope: ['a'] } }, 'nope'],
  ['items of a handler that is a string', { items: { h: 'a' } }, 'items'],
  ['items holding a number', { items: { h: [1] } }, 'items'],
  ['mayBotherUser a string', { mayBotherUser: 'yes' }, 'mayBotherUser'],
  ['mayBotherUser a number', { mayBotherUser: 1 }, 'mayBotherUser'],
  ['signal a boolean', { signal: true }, 'signal'],
  ['signal an object', { signal: { aborted: false } }, 'signal'],
];

describe('synchronize() refuses bad options with E_INVALIDARG naming the option', () => {
  test.for(synchronizeCases)('%s', ([, options, names]) => refused(() => manager.synchronize(options as never), names));
});
