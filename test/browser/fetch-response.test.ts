/**
 * The Response a fetch channel answers, against a stand-in for the manager on
 * the other end of the channel's port: reading a body whole (`arrayBuffer()`,
 * `bytes()`, `text()`, `json()`) takes a body that crossed whole as it is and
 * joins a streamed one, and still behaves as Response's own readers do
 * (the body is used afterwards, a second read rejects, clones are independent,
 * errors reach the reader).
 */
import { expect, test } from 'vitest';
import { FetchChannel } from '../../src/runtime/fetch-channel.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';
import { toWire } from '../../src/protocol/wire.ts';
import type { FetchDown, FetchUp } from '../../src/protocol/fetch-messages.ts';
import { pattern } from '../../workers/fixtures/script.ts';

type Answer = (request: Extract<FetchUp, { type: 'request' }>, reply: (down: FetchDown, transfer?: Transferable[]) => void) => void;

/** A FetchChannel whose manager end answers every request with `answer`; `credits` collects the credit the handler's reads gave. */
function channelWith(answer: Answer): { channel: FetchChannel; credits: number[] } {
  const { port1, port2 } = new MessageChannel();
  const credits: number[] = [];
  port1.onmessage = (event: MessageEvent<FetchUp>) => {
    const m = event.data;
    if (m.type === 'request') answer(m, (down, transfer = []) => port1.postMessage(down, transfer));
    else if (m.type === 'credit') credits.push(m.bytes);
  };
  return { channel: new FetchChannel({ kind: 'fetch', name: 'api', port: port2 }), credits };
}


/** Whether `a` and `b` hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

const head = (id: number, contentType = 'application/octet-stream', extra: [string, string][] = []) => ({
  type: 'response' as const, id, status: 200, statusText: 'OK', headers: [['content-type', contentType], ...extra] as [string, string][],
  url: 'http://127.0.0.1/api/thing', path: 'thing', redirected: false, responseType: 'basic' as ResponseType,
});

function whole(bytes: Uint8Array<ArrayBuffer>, contentType?: string): Answer {
  return (request, reply) => {
    const body = bytes.slice().buffer;
    reply({ ...head(request.id, contentType), body }, [body]);
  };
}

function pumped(chunks: Uint8Array<ArrayBuffer>[], end: 'end' | Error = 'end', headers: [string, string][] = []): Answer {
  return (request, reply) => {
    reply({ ...head(request.id, undefined, headers), body: 'streamed' });
    for (const chunk of chunks) {
      const data = chunk.slice().buffer;
      reply({ type: 'chunk', id: request.id, data }, [data]);
    }
    reply(end === 'end' ? { type: 'end', id: request.id } : { type: 'body-error', id: request.id, error: toWire(end) });
  };
}

test('a body that crossed whole: arrayBuffer() answers its bytes and leaves the body used, as Response does', async () => {
  const { channel } = channelWith(whole(pattern(100_000)));
  const response = await channel.fetch('x');
  expect(response).toBeInstanceOf(Response);
  expect(response.bodyUsed).toBe(false);
  expect(sameBytes(new Uint8Array(await response.arrayBuffer()), pattern(100_000))).toBe(true);
  expect(response.bodyUsed).toBe(true);
  await expect(response.arrayBuffer()).rejects.toThrow(TypeError);
  await expect(response.text()).rejects.toThrow(TypeError);
  channel.close();
});

test('text(), json() and bytes() answer what Response\'s own answer (UTF-8, a BOM dropped); a JSON syntax error rejects', async () => {
  const text = '\uFEFF{"note":"h\u00e9llo \u{1F600}"}';
  const encoded = new TextEncoder().encode(text);
  const { channel } = channelWith(whole(encoded, 'application/json'));
  const expected = new Response(encoded.slice());
  expect(await (await channel.fetch('a')).text()).toBe(await expected.clone().text());
  expect(await (await channel.fetch('b')).json()).toEqual(await expected.clone().json());
  expect(await (await channel.fetch('c')).bytes()).toEqual(encoded);
  const bad = channelWith(whole(new TextEncoder().encode('{oops'))).channel;
  await expect((await bad.fetch('d')).json()).rejects.toThrow(SyntaxError);
  channel.close();
  bad.close();
});

test('a clone and the original read the same bytes, independently; reading through body still works', async () => {
  const { channel } = channelWith(whole(pattern(5000)));
  const response = await channel.fetch('x');
  const copy = response.clone();
  const a = await response.arrayBuffer();
  const b = await copy.arrayBuffer();
  expect(new Uint8Array(a)).toEqual(pattern(5000));
  expect(new Uint8Array(b)).toEqual(pattern(5000));
  new Uint8Array(a)[0] = 99;
  expect(new Uint8Array(b)[0]).toBe(0);

  const streamed = await channel.fetch('y');
  const reader = streamed.body!.getReader();
  let size = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) size += r.value.byteLength;
  expect(size).toBe(5000);
  expect(streamed.bodyUsed).toBe(true);
  await expect(streamed.arrayBuffer()).rejects.toThrow(TypeError);

  const empty = await channelWith(whole(new Uint8Array(0))).channel.fetch('z');
  expect((await empty.arrayBuffer()).byteLength).toBe(0);
  channel.close();
});

// Without a length the chunks are joined at the end; with one they are copied into place as they come,
// and a length that turns out wrong (too short, too long) still gives exactly the bytes that arrived.
for (const length of [null, 320_003, 1000, 400_000]) {
  test(`a streamed body (Content-Length ${length ?? 'none'}): arrayBuffer() joins the chunks in order and credits the manager for each`, async () => {
    const chunks = [pattern(70_000), pattern(3), pattern(250_000)];
    const { channel, credits } = channelWith(pumped(chunks, 'end', length === null ? [] : [['content-length', String(length)]]));
    const response = await channel.fetch('x');
    const joined = new Uint8Array(await response.arrayBuffer());
    expect(joined.byteLength).toBe(320_003);
    // Compared byte by byte in one loop: toEqual walks 250 000 elements slowly enough to time out in some engines.
    expect(sameBytes(joined.subarray(0, 70_000), chunks[0]!)).toBe(true);
    expect(sameBytes(joined.subarray(70_000, 70_003), chunks[1]!)).toBe(true);
    expect(sameBytes(joined.subarray(70_003), chunks[2]!)).toBe(true);
    expect(response.bodyUsed).toBe(true);
    // The credits cross the port after the reads (in WebKit a port's message can take hundreds of ms on a busy machine).
    const total = () => credits.reduce((a, b) => a + b, 0);
    await expect.poll(total, { timeout: 10_000, interval: 5 }).toBeGreaterThanOrEqual(320_003);
    expect(total()).toBe(320_003);
    channel.close();
  });
}

test('a streamed body of one chunk with its length: arrayBuffer() answers that chunk', async () => {
  const { channel } = channelWith(pumped([pattern(4096)], 'end', [['content-length', '4096']]));
  expect(new Uint8Array(await (await channel.fetch('x')).arrayBuffer())).toEqual(pattern(4096));
  channel.close();
});

test('a streamed body that fails: arrayBuffer() and json() reject with the manager\'s error', async () => {
  const failure = new SyncError('E_ABORT', "Endpoint 'api': the sync session ended, so the request was aborted.");
  const { channel } = channelWith(pumped([pattern(10)], failure));
  const error = await (await channel.fetch('x')).arrayBuffer().catch((e: unknown) => e);
  expect(SyncError.is(error, 'E_ABORT')).toBe(true);
  const again = await (await channel.fetch('y')).json().catch((e: unknown) => e);
  expect(SyncError.is(again, 'E_ABORT')).toBe(true);
  channel.close();
});
