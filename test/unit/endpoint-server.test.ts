// The demo's endpoint server, driven over real sockets: a plain node:http
// server with the framework-free core, real `fetch` and the `ws` client.
// Every test uses its own tenant, as the library's browser tests do.

import { randomBytes, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type EndpointServer, createEndpointServer } from '../../demo/server/endpoint-server.ts';
import type { ChangeMessage, Faults, Note, NotesList, ServerState } from '../../demo/server/types.ts';

let server: Server;
let core: EndpointServer;
let origin: string;

/** Starts a plain HTTP server on an ephemeral port with a fresh core; 404 for everything not ours. */
async function startServer(endpoints: EndpointServer): Promise<{ server: Server; origin: string }> {
  const http = createServer((req, res) =>
    endpoints.handleRequest(req, res, () => {
      res.writeHead(404).end('not ours');
    }),
  );
  http.on('upgrade', (req, socket, head) => {
    if (!endpoints.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { server: http, origin: `http://127.0.0.1:${port}` };
}

async function stopServer(http: Server): Promise<void> {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
}

beforeAll(async () => {
  core = createEndpointServer();
  ({ server, origin } = await startServer(core));
});

afterAll(async () => {
  core.close();
  await stopServer(server);
});

/** A fresh tenant with URL helpers. */
function tenant(base = origin) {
  const id = randomUUID();
  const api = (path: string) => `${base}/t/${id}/api/${path}`;
  const wsUrl = (channel: string) => `${base.replace(/^http/, 'ws')}/t/${id}/ws/${channel}`;
  const control = async <T>(verb: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${base}/__syncmgr/t/${id}/${verb}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, json: (await res.json()) as T };
  };
  const state = async (): Promise<ServerState> => (await control<ServerState>('state')).json;
  /** Polls the state until `probe` answers something other than undefined/null/false. */
  const waitFor = async <T>(probe: (s: ServerState) => T | undefined | null | false, timeoutMs = 3000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await state();
      const value = probe(s);
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out; last state ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { id, api, wsUrl, control, state, waitFor };
}

/** A `ws` client that queues what it receives. */
class Client {
  readonly ws: WebSocket;
  readonly #queue: Array<{ data: Buffer; isBinary: boolean }> = [];
  readonly #waiters: Array<(m: { data: Buffer; isBinary: boolean }) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const message = { data: data as Buffer, isBinary };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, protocols?: string[], headers?: Record<string, string>): Promise<Client> {
    const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  next(timeoutMs = 3000): Promise<{ data: Buffer; isBinary: boolean }> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async nextText(): Promise<string> {
    const m = await this.next();
    expect(m.isBinary).toBe(false);
    return m.data.toString('utf8');
  }

  /** Expects no message within `ms`. */
  async quiet(ms = 150): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    expect(this.#queue.map((m) => m.data.toString())).toEqual([]);
  }
}

/** Opening a socket must fail; answers the error message. */
function openFails(url: string, options: { handshakeTimeout?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => reject(new Error('socket opened')));
    ws.once('error', (err) => resolve(err.message));
  });
}

function expectPattern(bytes: Uint8Array, length: number): void {
  expect(bytes.length).toBe(length);
  for (let i = 0; i < length; i++) {
    if (bytes[i] !== i % 251) throw new Error(`byte ${i} is ${bytes[i]}, expected ${i % 251}`);
  }
}

async function putNote(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}

describe('HTTP API', () => {
  it('answers health with no-store', async () => {
    const t = tenant();
    const res = await fetch(t.api('health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('lists, gets, puts notes and answers changes since a cursor', async () => {
    const t = tenant();
    const list = (await (await fetch(t.api('notes'))).json()) as NotesList;
    expect(list.cursor).toBe(6);
    expect(list.notes).toHaveLength(6);
    expect(list.notes.map((n) => n.cursor)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const folder of ['inbox', 'archive', 'ideas']) {
      const inFolder = (await (await fetch(t.api(`notes?folder=${folder}`))).json()) as NotesList;
      expect(inFolder.notes).toHaveLength(2);
      expect(inFolder.notes.every((n) => n.folder === folder)).toBe(true);
    }
    expect((await fetch(t.api('notes?folder=trash'))).status).toBe(400);

    const first = list.notes[0]!;
    const got = await fetch(t.api(`notes/${first.id}`));
    expect(await got.json()).toEqual(first);
    const missing = await fetch(t.api('notes/nope'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/nope/);

    const updated = (await (await putNote(t.api(`notes/${first.id}`), { title: 'Changed' })).json()) as Note;
    expect(updated).toMatchObject({ id: first.id, title: 'Changed', body: first.body, folder: first.folder, version: 2, cursor: 7 });
    const created = (await (await putNote(t.api('notes/fresh%20one'), { body: 'b', folder: 'ideas' })).json()) as Note;
    expect(created).toMatchObject({ id: 'fresh one', title: '', body: 'b', folder: 'ideas', version: 1, cursor: 8 });

    const changes = await (await fetch(t.api('changes?since=6'))).json();
    expect(changes).toEqual({ changes: [updated, created], cursor: 8 });
    expect(await (await fetch(t.api('changes?since=7&folder=ideas'))).json()).toEqual({ changes: [created], cursor: 8 });
    expect(await (await fetch(t.api('changes?since=8'))).json()).toEqual({ changes: [], cursor: 8 });
    expect((await fetch(t.api('changes'))).status).toBe(400);
    expect((await fetch(t.api('changes?since=1.5'))).status).toBe(400);
    expect((await fetch(t.api('changes?since=abc'))).status).toBe(400);

    const badJson = await putNote(t.api('notes/x'), '{not json');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: string }).error).toMatch(/JSON/);
    expect((await putNote(t.api('notes/x'), { title: 3 })).status).toBe(400);
    expect((await putNote(t.api('notes/x'), { folder: 'trash' })).status).toBe(400);
    expect((await putNote(t.api('notes/x'), [1])).status).toBe(400);
    expect((await fetch(t.api('notes/x'))).status).toBe(404);
    expect((await fetch(t.api('nothing/here'))).status).toBe(404);
    expect((await fetch(t.api('notes'), { method: 'DELETE' })).status).toBe(404);
  });

  it('echoes a 3 MiB binary body intact', async () => {
    const t = tenant();
    const body = randomBytes(3 * 1024 * 1024);
    const res = await fetch(t.api('echo'), { method: 'POST', body, headers: { 'content-type': 'application/x-test' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-test');
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);

    const put = await fetch(t.api('echo'), { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    expect(put.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await put.arrayBuffer())]).toEqual([1, 2, 3]);
    const s = await t.state();
    expect(s.requests.map((r) => r.bodyBytes)).toEqual([body.length, 3]);
  });

  it('generates bytes?n= with the i % 251 pattern', async () => {
    const t = tenant();
    const n = 3 * 65536 + 1000;
    const res = await fetch(t.api(`bytes?n=${n}`));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(n));
    expectPattern(new Uint8Array(await res.arrayBuffer()), n);
    expect((await (await fetch(t.api('bytes?n=0'))).arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(t.api('bytes?n=-1'))).status).toBe(400);
    expect((await fetch(t.api(`bytes?n=${256 * 1024 * 1024 + 1}`))).status).toBe(400);
    expect((await fetch(t.api('bytes'))).status).toBe(400);
  });

  it('records a slow request the client aborted', async () => {
    const t = tenant();
    const abort = new AbortController();
    const pending = fetch(t.api('slow?ms=5000'), { signal: abort.signal });
    await t.waitFor((s) => s.requests.length === 1);
    abort.abort();
    await expect(pending).rejects.toThrow();
    const record = await t.waitFor((s) => s.requests.find((r) => r.aborted));
    expect(record).toMatchObject({ method: 'GET', path: 'slow', query: 'ms=5000', status: null, aborted: true, finished: false });

    const done = await fetch(t.api('slow?ms=30'));
    expect(await done.text()).toBe('done');
    expect((await t.state()).requests[1]).toMatchObject({ status: 200, aborted: false, finished: true });
  });
});

describe('WebSocket', () => {
  it('echoes text and binary frames and selects the first subprotocol', async () => {
    const t = tenant();
    const client = await Client.open(t.wsUrl('main'), ['first', 'second']);
    expect(client.ws.protocol).toBe('first');
    client.ws.send('hello');
    expect(await client.nextText()).toBe('hello');
    client.ws.send(new Uint8Array([9, 8, 7]));
    const binary = await client.next();
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([9, 8, 7]);
    client.ws.close(1000);
    await client.closed;
  });

  it('broadcasts a change frame to every open socket of the tenant after a PUT', async () => {
    const t = tenant();
    const a = await Client.open(t.wsUrl('a'));
    const b = await Client.open(t.wsUrl('b'));
    const other = tenant();
    const stranger = await Client.open(other.wsUrl('a'));

    const note = (await (await putNote(t.api('notes/n1'), { body: 'new body' })).json()) as Note;
    const expected: ChangeMessage = { type: 'change', note, cursor: 7 };
    expect(JSON.parse(await a.nextText())).toEqual(expected);
    expect(JSON.parse(await b.nextText())).toEqual(expected);
    await stranger.quiet();
    for (const c of [a, b, stranger]) c.ws.close(1000);
  });

  it('relays !broadcast to the other sockets of the channel and closes on !close', async () => {
    const t = tenant();
    const a = await Client.open(t.wsUrl('room'));
    const b = await Client.open(t.wsUrl('room'));
    const elsewhere = await Client.open(t.wsUrl('hall'));
    a.ws.send('!broadcast hi all');
    expect(await b.nextText()).toBe('hi all');
    await a.quiet();
    await elsewhere.quiet(0);

    b.ws.send('!close 4001 bye');
    expect(await b.closed).toEqual({ code: 4001, reason: 'bye' });
    const record = await t.waitFor((s) => s.sockets.find((r) => r.closeCode === 4001));
    expect(record).toMatchObject({ closedBy: 'server', open: false });

    a.ws.send('!close 1005');
    expect(await a.nextText()).toMatch(/^!error /);
    a.ws.close(1000);
    elsewhere.ws.close(1000);
  });

  it('records headers, frames, requests and the client close code in the state view', async () => {
    const t = tenant();
    const client = await Client.open(t.wsUrl('view'), ['proto'], { 'x-socket': 'yes' });
    client.ws.send('one');
    client.ws.send(Buffer.alloc(10));
    await client.next();
    await client.next();
    client.ws.close(1000, 'done');
    await client.closed;
    await fetch(t.api('notes?folder=inbox'), { headers: { 'x-test': 'abc' } });

    const socket = await t.waitFor((s) => s.sockets.find((r) => r.closeCode !== null));
    expect(socket).toMatchObject({
      id: 1,
      channel: 'view',
      protocol: 'proto',
      open: false,
      closeCode: 1000,
      closeReason: 'done',
      closedBy: 'client',
      received: ['one', { binary: 10 }],
      receivedCount: 2,
      receivedBytes: 13,
    });
    expect(socket.headers['x-socket']).toBe('yes');
    expect(socket.closedAt).toBeGreaterThanOrEqual(socket.openedAt);

    const s = await t.state();
    expect(s.tenant).toBe(t.id);
    expect(s.cursor).toBe(6);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ id: 1, method: 'GET', path: 'notes', query: 'folder=inbox', status: 200, aborted: false, finished: true, bodyBytes: 0 });
    expect(s.requests[0]!.headers['x-test']).toBe('abc');
  });

  it('lets the control endpoint send text and binary frames', async () => {
    const t = tenant();
    const a = await Client.open(t.wsUrl('a'));
    const b = await Client.open(t.wsUrl('b'));
    expect((await t.control('send', { data: 'to a', channel: 'a' })).json).toEqual({ sent: 1 });
    expect(await a.nextText()).toBe('to a');
    expect((await t.control('send', { binaryBytes: 70_000 })).json).toEqual({ sent: 2 });
    for (const c of [a, b]) {
      const m = await c.next();
      expect(m.isBinary).toBe(true);
      expectPattern(m.data, 70_000);
    }
    expect((await t.control('send', { data: 'x', binaryBytes: 1 })).status).toBe(400);
    expect((await t.control('send', {})).status).toBe(400);
    a.ws.close(1000);
    b.ws.close(1000);
  });
});

describe('WebSocket bulk commands (the benchmark uses them)', () => {
  it('!burst sends count binary frames of the pattern; !sink counts binary frames instead of echoing them, then acks', async () => {
    const t = tenant();
    const client = await Client.open(t.wsUrl('bulk'));
    client.ws.send('!burst 40 70000');
    for (let i = 0; i < 40; i++) {
      const m = await client.next();
      expect(m.isBinary).toBe(true);
      expectPattern(m.data, 70_000);
    }
    await client.quiet(50);

    client.ws.send('!sink 250');
    for (let i = 0; i < 3; i++) client.ws.send(Buffer.alloc(100));
    expect(await client.nextText()).toBe('!sunk 250');
    await client.quiet(50);
    // Binary frames are echoed again afterwards.
    client.ws.send(Buffer.from([1, 2]));
    expect([...(await client.next()).data]).toEqual([1, 2]);
    client.ws.send('!sink 0');
    expect(await client.nextText()).toBe('!sunk 0');

    client.ws.send('!burst 2 99999999');
    expect(await client.nextText()).toMatch(/^!error /);
    client.ws.close(1000);
    await client.closed;
  });
});

describe('faults and control', () => {
  it('refuses the upgrade of a refused channel with 503', async () => {
    const t = tenant();
    const { json } = await t.control<Faults>('faults', { refuse: ['blocked'] });
    expect(json).toEqual({ refuse: ['blocked'], hang: [], mute: [], stall: [], apiDelayMs: 0, apiFail: null, apiReset: null });
    expect(await openFails(t.wsUrl('blocked'))).toMatch(/503/);
    const open = await Client.open(t.wsUrl('fine'));
    open.ws.close(1000);
    expect((await t.state()).sockets.map((s) => s.channel)).toEqual(['fine']);
  });

  it('never answers the upgrade of a hung channel', async () => {
    const t = tenant();
    await t.control('faults', { hang: ['stuck'] });
    expect(await openFails(t.wsUrl('stuck'), { handshakeTimeout: 200 })).toMatch(/timed out/);
  });

  it('drops sockets without a close frame (1006)', async () => {
    const t = tenant();
    const a = await Client.open(t.wsUrl('a'));
    const b = await Client.open(t.wsUrl('b'));
    expect((await t.control('drop', { channel: 'a' })).json).toEqual({ dropped: 1 });
    expect((await a.closed).code).toBe(1006);
    const record = await t.waitFor((s) => s.sockets.find((r) => r.channel === 'a' && !r.open));
    expect(record).toMatchObject({ closeCode: 1006, closedBy: 'server' });
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect((await t.control('drop', {})).json).toEqual({ dropped: 1 });
    expect((await b.closed).code).toBe(1006);
  });

  it('fails API requests as configured, then recovers', async () => {
    const t = tenant();
    await t.control('faults', { apiFail: { status: 503, count: 2, retryAfter: 7, paths: ['notes'] } });
    expect((await fetch(t.api('health'))).status).toBe(200);
    const failed = await fetch(t.api('notes'));
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('7');
    expect(failed.headers.get('cache-control')).toBe('no-store');
    expect((await t.state()).faults.apiFail).toEqual({ status: 503, count: 1, retryAfter: 7, paths: ['notes'] });
    expect((await fetch(t.api('notes'))).status).toBe(503);
    expect((await fetch(t.api('notes'))).status).toBe(200);
    expect((await t.state()).faults.apiFail).toBeNull();

    await t.control('faults', { apiFail: { status: 500 } });
    expect((await fetch(t.api('health'))).status).toBe(500);
    await t.control('faults', { apiFail: null, apiDelayMs: 150 });
    const started = Date.now();
    expect((await fetch(t.api('health'))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await t.state()).requests.map((r) => r.status)).toEqual([200, 503, 503, 200, 500, 200]);
  });

  it('cuts API connections as configured (apiReset), then recovers; answers name their request record', async () => {
    const t = tenant();
    await t.control('faults', { apiReset: { count: 1, paths: ['notes'] } });
    expect((await fetch(t.api('health'))).headers.get('x-request-id')).toBe('1');
    await expect(fetch(t.api('notes'))).rejects.toThrow(TypeError);
    expect((await t.state()).faults.apiReset).toBeNull();
    const ok = await fetch(t.api('notes'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('3');
    expect((await t.state()).requests.map((r) => [r.path, r.status, r.aborted])).toEqual([['health', 200, false], ['notes', null, true], ['notes', 200, false]]);
    expect((await t.control('faults', { apiReset: { count: -1 } })).status).toBe(400);
    expect((await t.control('faults', { apiReset: { status: 500 } })).status).toBe(400);
  });

  it('sends generated bytes without Content-Length (chunked=1) or paced (paceMs=)', async () => {
    const t = tenant();
    const plain = await fetch(t.api('bytes?n=1000'));
    expect(plain.headers.get('content-length')).toBe('1000');
    const chunked = await fetch(t.api('bytes?n=1000&chunked=1'));
    expect(chunked.headers.get('content-length')).toBeNull();
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked');
    const bytes = new Uint8Array(await chunked.arrayBuffer());
    expect(bytes.length).toBe(1000);
    expect(bytes.every((b, i) => b === i % 251)).toBe(true);
    // Paced: a pause after each 64 KiB chunk (4 chunks here, so 3 pauses).
    const started = Date.now();
    expect((await (await fetch(t.api('bytes?n=200000&paceMs=30'))).arrayBuffer()).byteLength).toBe(200000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(85);
    expect((await fetch(t.api('bytes?n=10&paceMs=5000'))).status).toBe(400);
  });

  it('holds a generated body open after holdAfter= bytes until the client goes away, and records it aborted, never finished', async () => {
    const t = tenant();
    const n = 1_000_000;
    const hold = 200_000;
    const abort = new AbortController();
    const res = await fetch(t.api(`bytes?n=${n}&holdAfter=${hold}`), { signal: abort.signal });
    expect(res.headers.get('content-length')).toBe(String(n));
    const reader = res.body!.getReader();
    let got = 0;
    let ok = true;
    while (got < hold) {
      const { done, value } = await reader.read();
      expect(done).toBe(false);
      ok &&= value!.every((b: number, i: number) => b === (got + i) % 251);
      got += value!.byteLength;
    }
    expect([got, ok]).toEqual([hold, true]);
    // Nothing more comes: the server is held, not finished.
    expect((await t.state()).requests[0]).toMatchObject({ path: 'bytes', status: 200, aborted: false, finished: false });
    abort.abort();
    await reader.read().catch(() => {});
    expect(await t.waitFor((s) => s.requests.find((r) => r.aborted))).toMatchObject({ path: 'bytes', finished: false });
    // holdAfter = n sends it all; more than n, or not an integer, is refused.
    expect((await (await fetch(t.api('bytes?n=1000&holdAfter=1000'))).arrayBuffer()).byteLength).toBe(1000);
    expect((await fetch(t.api('bytes?n=1000&holdAfter=1001'))).status).toBe(400);
    expect((await fetch(t.api('bytes?n=1000&holdAfter=x'))).status).toBe(400);
  });

  it('validates control input', async () => {
    const t = tenant();
    const unknownVerb = await t.control<{ error: string }>('explode', {});
    expect(unknownVerb.status).toBe(404);
    const malformed = await t.control<{ error: string }>('faults', '{oops');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/JSON/);
    expect((await t.control('faults', { refuse: 'x' })).status).toBe(400);
    expect((await t.control('faults', { apiDelayMs: -1 })).status).toBe(400);
    expect((await t.control('faults', { apiFail: { status: 200 } })).status).toBe(400);
    expect((await t.control('faults', { typo: true })).status).toBe(400);
    expect((await t.control('drop', { channel: 'bad channel' })).status).toBe(400);
    expect((await t.control('send', { data: 5 })).status).toBe(400);
    expect((await fetch(`${origin}/__syncmgr/t/bad!tenant/state`)).status).toBe(400);
    expect((await fetch(`${origin}/t/bad!tenant/api/health`)).status).toBe(400);
    expect((await fetch(`${origin}/somewhere/else`)).status).toBe(404);
    expect(await (await fetch(`${origin}/somewhere/else`)).text()).toBe('not ours');
    // A failed patch changes nothing.
    expect((await t.state()).faults).toEqual({ refuse: [], hang: [], mute: [], stall: [], apiDelayMs: 0, apiFail: null, apiReset: null });
  });

  it('resets a tenant', async () => {
    const t = tenant();
    const client = await Client.open(t.wsUrl('a'));
    await putNote(t.api('notes/n1'), { title: 'x' });
    await t.control('faults', { apiDelayMs: 10, refuse: ['z'] });
    expect((await t.control('reset', {})).json).toEqual({ ok: true });
    expect((await client.closed).code).toBe(1006);
    const s = await t.state();
    expect(s).toMatchObject({ sockets: [], requests: [], cursor: 6, faults: { refuse: [], hang: [], mute: [], apiDelayMs: 0, apiFail: null } });
    expect(((await (await fetch(t.api('notes/n1'))).json()) as Note).version).toBe(1);
  });

  it('keeps tenants isolated', async () => {
    const a = tenant();
    const b = tenant();
    await putNote(a.api('notes/only-a'), { title: 'a' });
    await a.control('faults', { apiFail: { status: 500 } });
    expect((await fetch(b.api('notes/only-a'))).status).toBe(404);
    expect((await fetch(b.api('health'))).status).toBe(200);
    const sb = await b.state();
    expect(sb.cursor).toBe(6);
    expect(sb.faults.apiFail).toBeNull();
    expect(sb.requests.map((r) => r.path)).toEqual(['notes/only-a', 'health']);
    expect((await a.state()).requests.map((r) => r.path)).toEqual(['notes/only-a']);
  });

  it('serves the bare /api and /ws paths as tenant demo', async () => {
    expect(await (await fetch(`${origin}/api/health`)).json()).toEqual({ ok: true });
    const client = await Client.open(`${origin.replace('http', 'ws')}/ws/demo-channel`);
    client.ws.send('ping');
    expect(await client.nextText()).toBe('ping');
    client.ws.close(1000);
    await client.closed;
    const s = (await (await fetch(`${origin}/__syncmgr/t/demo/state`)).json()) as ServerState;
    expect(s.sockets.some((r) => r.channel === 'demo-channel' && r.closeCode === 1000)).toBe(true);
  });

  it('close() ends the sockets, held upgrades and pending requests of that instance only', async () => {
    const second = createEndpointServer();
    const { server: http, origin: secondOrigin } = await startServer(second);
    const t = tenant(secondOrigin);
    const viaSecond = await Client.open(t.wsUrl('a'));
    const viaFirst = await Client.open(tenant().wsUrl('a'));
    const pending = fetch(t.api('slow?ms=10000')).then(
      () => 'answered',
      () => 'failed',
    );
    await t.waitFor((s) => s.requests.length === 1);
    second.close();
    expect((await viaSecond.closed).code).toBe(1006);
    expect(await pending).toBe('failed');
    expect(viaFirst.ws.readyState).toBe(WebSocket.OPEN);
    viaFirst.ws.close(1000);
    await stopServer(http);
  });
});

describe('hostile routes (redirect, secret, seen, reflect)', () => {
  it('redirect answers the status and Location asked for, also under zone/, and refuses other statuses or no target', async () => {
    const t = tenant();
    const res = await fetch(t.api(`zone/redirect?status=307&to=${encodeURIComponent('/elsewhere')}`), { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([307, '/elsewhere']);
    expect((await fetch(t.api('redirect?status=200&to=/x'), { redirect: 'manual' })).status).toBe(400);
    expect((await fetch(t.api('redirect'), { redirect: 'manual' })).status).toBe(400);
  });

  it('secret and seen answer, seen with CORS and its preflight; reflect echoes headers (and a reason phrase)', async () => {
    const t = tenant();
    expect(await (await fetch(t.api('secret'))).text()).toBe('SECRET outside the base');
    const preflight = await fetch(t.api('seen'), { method: 'OPTIONS', headers: { 'access-control-request-headers': 'x-api-key' } });
    expect([preflight.status, preflight.headers.get('access-control-allow-origin'), preflight.headers.get('access-control-allow-headers')]).toEqual([204, '*', 'x-api-key']);
    const seen = await fetch(t.api('seen'), { method: 'POST', body: 'x' });
    expect([seen.status, seen.headers.get('access-control-allow-origin'), await seen.json()]).toEqual([200, '*', { seen: true, method: 'POST' }]);
    const reflect = await fetch(t.api('zone/reflect?statusFrom=x-token'), { headers: { 'x-token': 'abc def' } });
    expect([reflect.status, reflect.statusText, reflect.headers.get('x-seen-x-token')]).toEqual([200, 'abc def', 'abc def']);
  });
});
