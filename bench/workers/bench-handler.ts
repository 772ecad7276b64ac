/**
 * The benchmark's sync handler. What it does comes from the session's cookie
 * (see BenchCookie). In `serve` mode it answers the page's commands (on the
 * worker's global port) until `finish`, so every variant of a case runs in the
 * same worker, against the same server, with the same payloads, alternately:
 * the handler's channel, a WebSocket or `fetch` of the worker's own (the raw
 * platform), and a hand-written main-thread relay. Every loop is timed here,
 * on the side that starts it.
 */
import { defineHandler, endpointWebSocket, type FetchChannel, type HandlerContext, type WebSocketChannel } from '../../src/handler.ts';
import type { BenchCookie, Command, CommandMessage, FetchResult, FetchVia, FloodResult, SocketVia, WorkerMessage } from '../shared/protocol.ts';

type Frame = string | ArrayBuffer;

/** One way to the WebSocket server. Incoming frames of every variant go to the same `deliver`. */
interface Pipe {
  send(frame: Frame): void | Promise<void>;
}

let deliver: (frame: Frame) => void = () => {};
/** Fails the loop under way when the channel closes under it (it would wait for frames that never come). */
let abort: (error: Error) => void = () => {};
const pipes = new Map<SocketVia, Pipe>();
const channels = new Map<string, WebSocketChannel | FetchChannel>();
let fetchChannel: FetchChannel | null = null;
let context: HandlerContext | null = null;

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

function channelPipe(channel: WebSocketChannel): Pipe {
  channel.addEventListener('message', (event) => deliver(event.data));
  channel.addEventListener('close', (event) => {
    pipes.delete('channel');
    abort(new Error(`the channel closed with ${event.code} (${event.reason})${event.dropped ? ` after dropping ${event.dropped} frames` : ''}${event.error ? `: ${event.error.message}` : ''}`));
  });
  return { send: (frame) => channel.send(frame) };
}

function directPipe(ws: WebSocket): Pipe {
  ws.addEventListener('message', (event) => deliver(event.data as Frame));
  return { send: (frame) => ws.send(frame) };
}

/** The facade's socket: a WHATWG WebSocket as far as this code can tell, used exactly as the direct one is. */
function facadePipe(ws: WebSocket): Pipe {
  ws.addEventListener('message', (event) => deliver(event.data as Frame));
  ws.addEventListener('close', (event) => {
    pipes.delete('facade');
    abort(new Error(`the facade socket closed with ${event.code} (${event.reason})`));
  });
  return { send: (frame) => ws.send(frame) };
}

function relayPipe(port: MessagePort): Pipe {
  port.onmessage = (event) => deliver(event.data as Frame);
  return { send: (frame) => port.postMessage(frame, typeof frame === 'string' ? [] : [frame]) };
}

function pipe(via: SocketVia): Pipe {
  const p = pipes.get(via);
  if (!p) throw new Error(`no ${via} socket: establish it first`);
  return p;
}

function openDirect(url: string, Socket: typeof WebSocket = WebSocket): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new Socket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onclose = (event) => reject(new Error(`${Socket === WebSocket ? 'direct' : 'facade'} socket closed with ${event.code} before it opened`));
  });
}

/** `count` round trips of a `size`-character text frame; answers each in ms. */
async function rtt(p: Pipe, count: number, size: number): Promise<number[]> {
  const text = 'x'.repeat(size);
  const samples: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const echoed = new Promise<Frame>((resolve, reject) => {
      deliver = resolve;
      abort = reject;
    });
    const t0 = performance.now();
    const sending = p.send(text);
    if (sending) await sending;
    const answer = await echoed;
    samples[i] = performance.now() - t0;
    if (answer !== text) throw new Error('rtt: the echo differs from the frame sent');
  }
  return samples;
}

/** Server → worker: asks for `count` binary frames of `size` bytes; ms until the last byte arrived. */
async function down(p: Pipe, count: number, size: number): Promise<number> {
  const total = count * size;
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    abort = reject;
    deliver = (frame) => {
      if (typeof frame === 'string') return reject(new Error(`down: unexpected text frame ${frame.slice(0, 80)}`));
      received += frame.byteLength;
      if (received >= total) resolve();
    };
  });
  const t0 = performance.now();
  const sending = p.send(`!burst ${count} ${size}`);
  if (sending) await sending;
  await done;
  const ms = performance.now() - t0;
  if (received !== total) throw new Error(`down: received ${received} bytes, expected ${total}`);
  return ms;
}

/**
 * Worker → server: `count` binary frames of `size` bytes, a fresh ArrayBuffer
 * each (the channel's `send()` is awaited, as a handler following
 * backpressure does); ms until the server acknowledged the last byte.
 */
async function up(p: Pipe, count: number, size: number): Promise<number> {
  const total = count * size;
  const done = new Promise<void>((resolve, reject) => {
    abort = reject;
    deliver = (frame) => (frame === `!sunk ${total}` ? resolve() : reject(new Error(`up: unexpected frame ${typeof frame === 'string' ? frame.slice(0, 80) : frame.byteLength}`)));
  });
  const t0 = performance.now();
  let sending = p.send(`!sink ${total}`);
  if (sending) await sending;
  for (let i = 0; i < count; i++) {
    sending = p.send(new ArrayBuffer(size));
    if (sending) await sending;
  }
  await done;
  return performance.now() - t0;
}

/** One GET of `path` (under the bench API), read whole or chunk by chunk; ms until the last byte. */
async function fetchBody(via: FetchVia, path: string, bytes: number): Promise<FetchResult> {
  const t0 = performance.now();
  let response: Response;
  if (via === 'direct-whole' || via === 'direct-chunks') {
    response = await fetch(new URL(`/t/bench/api/${path}`, location.href));
  } else {
    if (!fetchChannel) throw new Error('no fetch channel: establish it first');
    response = await fetchChannel.fetch(path, { responseBody: via === 'channel-whole' ? 'whole' : via === 'channel-auto-whole' ? 'auto' : 'stream' });
  }
  let size = 0;
  let chunks = 0;
  if (via.endsWith('whole')) {
    size = (await response.arrayBuffer()).byteLength;
    chunks = 1;
  } else {
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      chunks += 1;
    }
  }
  const ms = performance.now() - t0;
  if (size !== bytes) throw new Error(`fetch ${via}: ${size} bytes, expected ${bytes}`);
  return { ms, bytes: size, chunks };
}

/** How long `flood` waits for the frames after its busy loop before it answers with what it has. */
const FLOOD_DRAIN_MS = 120_000;

/**
 * The memory case (bench/flood-memory.ts): asks the server for `count` binary
 * frames of `size` bytes, and once the first one arrived blocks the worker's
 * event loop for `busyMs` with a synchronous loop (as a handler crunching data
 * does); then takes what arrived until all frames are in, the channel closed,
 * or FLOOD_DRAIN_MS passed.
 */
async function flood(via: 'channel' | 'direct', count: number, size: number, busyMs: number): Promise<FloodResult> {
  const p = pipe(via);
  let received = 0;
  let closeCode: number | null = null;
  let first!: () => void;
  let finished!: () => void;
  const firstFrame = new Promise<void>((resolve) => (first = resolve));
  const drained = new Promise<void>((resolve) => (finished = resolve));
  deliver = (frame) => {
    if (typeof frame === 'string') throw new Error(`flood: unexpected text frame ${frame.slice(0, 80)}`);
    received += 1;
    if (received === 1) first();
    if (received === count) finished();
  };
  const channel = via === 'channel' ? [...channels.values()].find((c): c is WebSocketChannel => c.kind === 'websocket') : undefined;
  const onClose = (event: { code: number }) => {
    closeCode = event.code;
    first();
    finished();
  };
  channel?.addEventListener('close', onClose);
  const sending = p.send(`!burst ${count} ${size}`);
  if (sending) await sending;
  await firstFrame;
  const receivedBeforeBusy = received;
  const busyStart = Date.now();
  while (Date.now() - busyStart < busyMs) { /* busy */ }
  const busyEnd = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLOOD_DRAIN_MS)))]);
  clearTimeout(timer);
  const drainedAt = Date.now();
  channel?.removeEventListener('close', onClose);
  deliver = () => {};
  return { busyStart, busyEnd, receivedBeforeBusy, received, drainedAt, closeCode };
}

async function progress(ctx: HandlerContext, count: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const answer = await ctx.progress('item', { status: 'updating', value: i + 1, max: count });
    if (answer !== 'continue') throw new Error(`progress answered ${answer}`);
  }
  return performance.now() - t0;
}

async function run(command: Command<MessagePort>, ctx: HandlerContext): Promise<unknown> {
  switch (command.op) {
    case 'establish': {
      const t0 = performance.now();
      const channel = await ctx.establishConnection(command.name, command.kind);
      const ms = performance.now() - t0;
      channels.set(command.name, channel);
      if (channel.kind === 'websocket') pipes.set('channel', channelPipe(channel));
      else fetchChannel = channel;
      return ms;
    }
    case 'open-direct': {
      const t0 = performance.now();
      const ws = await openDirect(new URL(command.url, location.href).href.replace(/^http/, 'ws'));
      const ms = performance.now() - t0;
      pipes.set('direct', directPipe(ws));
      return ms;
    }
    case 'open-facade': {
      // The class is made and the instance constructed inside the timing, as a library constructing its socket does.
      const t0 = performance.now();
      const ws = await openDirect(command.path, endpointWebSocket(command.name));
      const ms = performance.now() - t0;
      pipes.set('facade', facadePipe(ws));
      return ms;
    }
    case 'attach-relay':
      pipes.set('relay', relayPipe(command.port));
      return 0;
    case 'rtt':
      return rtt(pipe(command.via), command.count, command.size);
    case 'down':
      return down(pipe(command.via), command.count, command.size);
    case 'up':
      return up(pipe(command.via), command.count, command.size);
    case 'fetch':
      return fetchBody(command.via, command.path, command.bytes);
    case 'progress':
      return progress(ctx, command.count);
    case 'flood':
      return flood(command.via, command.count, command.size, command.busyMs);
    case 'finish':
      return 0;
  }
}

/** Message and stack: V8's stack starts with the message, Firefox's holds only the frames. */
function describeError(error: unknown): string {
  const text = String(error);
  const stack = (error as Error)?.stack;
  return stack ? (stack.startsWith(text) ? stack : `${text}\n${stack}`) : text;
}

/** Answers commands until `finish`. */
function serve(ctx: HandlerContext): Promise<void> {
  return new Promise((resolve) => {
    self.addEventListener('message', (event: MessageEvent<CommandMessage<MessagePort>>) => {
      const message = event.data;
      if (message?.type !== 'bench:command') return;
      run(message.command, ctx).then(
        (value) => {
          post({ type: 'bench:reply', id: message.id, ok: true, value });
          if (message.command.op === 'finish') resolve();
        },
        (error: unknown) => post({ type: 'bench:reply', id: message.id, ok: false, error: describeError(error) }),
      );
    });
    post({ type: 'bench:serving', handlerId: ctx.handlerId });
  });
}

/** Leak check: a WebSocket and a fetch channel, each used once; the manager must close both. */
async function leakOnce(ctx: HandlerContext, socket: string, api: string): Promise<void> {
  const ws = await ctx.establishConnection(socket, 'websocket');
  const http = await ctx.establishConnection(api, 'fetch');
  const echoed = new Promise<void>((resolve) => ws.addEventListener('message', () => resolve(), { once: true }));
  await ws.send('ping');
  await echoed;
  const response = await http.fetch('health');
  await response.arrayBuffer();
}

defineHandler({
  items: () => [{ id: 'item', name: 'Item' }],
  async synchronize(_itemIds, ctx) {
    context = ctx;
    const cookie = ctx.cookie as BenchCookie;
    if (cookie.mode === 'empty') return;
    if (cookie.mode === 'leak') return leakOnce(ctx, cookie.socket, cookie.api);
    await serve(context);
  },
});
