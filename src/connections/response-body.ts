/**
 * How a response body crosses from the main thread to the handler's worker:
 * whole (one transferred ArrayBuffer), or streamed, as transferred ArrayBuffer
 * chunks on the channel's port at most {@link STREAM_WINDOW_BYTES} ahead of
 * what the handler has read (the default), or as a transferred ReadableStream
 * where the engine can and a test or benchmark asks for it. See
 * fetch-connection.ts for why the pump is the default.
 */
import { SyncError, toWire } from '../protocol/errors.ts';
import type { FetchDown, ResponseBodyMode } from '../protocol/api.ts';
import { STREAM_WINDOW_BYTES } from './fetch-options.ts';

export type Down = FetchDown<ReadableStream<Uint8Array>>;
export type Head = Omit<Extract<Down, { type: 'response' }>, 'body'>;
export type Reply = (down: Down, transfer?: Transferable[]) => void;

/** How streamed bodies cross: transferred chunks on the port, or a transferred ReadableStream. */
export type StreamTransport = 'pump' | 'transfer';
let preferred: StreamTransport = 'pump';
let streamsTransfer: boolean | undefined;

/**
 * Whether this engine can post a ReadableStream through a MessagePort
 * (Chromium, Firefox: yes; WebKit throws DataCloneError synchronously). A
 * feature test, run once; never browser sniffing.
 */
export function canTransferStreams(): boolean {
  if (streamsTransfer === undefined) {
    const { port1, port2 } = new MessageChannel();
    try {
      const probe = new ReadableStream();
      port1.postMessage(probe, [probe as unknown as Transferable]);
      streamsTransfer = true;
    } catch {
      streamsTransfer = false;
    } finally {
      port1.close();
      port2.close();
    }
  }
  return streamsTransfer;
}

/** The transport streamed bodies use now: the preferred one, if this engine has it. */
export function streamTransport(): StreamTransport {
  return preferred === 'transfer' && canTransferStreams() ? 'transfer' : 'pump';
}

/** @internal For tests and benchmarks: prefer a transport (default `pump`; `transfer` only where the feature test allows). */
export function setStreamTransport(transport: StreamTransport): void {
  preferred = transport;
}

/** @internal For tests: how response bodies left the main thread since the page loaded. */
export const fetchBodyStats = {
  /** Bodies read whole on the main thread (`arrayBuffer()`, or an unknown-length body that ended within the limit). */
  whole: 0,
  /** Bodies streamed (never read whole on the main thread). */
  streamed: 0,
  /** Bytes of streamed bodies that passed through the main thread. */
  streamedBytes: 0,
  /** Largest single chunk the main thread held while streaming. */
  largestChunk: 0,
  /** Chunks that had to be copied to be transferred (a view on part of a buffer). */
  copiedChunks: 0,
};

export interface Running {
  controller: AbortController;
  /** Pumped bodies: the worker read this many more bytes. */
  credit?: (bytes: number) => void;
}

/**
 * Whole or streamed (see fetch-options.ts): `whole` reads the body on the
 * main thread; otherwise the reader, after any prefix read while finding
 * out that a body of unknown length is larger than the limit.
 */
export async function planBody(response: Response, mode: ResponseBodyMode, limit: number): Promise<{ whole: ArrayBuffer; reader?: never; prefix?: never } | { whole: null; reader: ReadableStreamDefaultReader<Uint8Array>; prefix: Uint8Array[] }> {
  const length = knownLength(response);
  if (mode === 'whole' || (mode === 'auto' && length !== null && length <= limit)) return { whole: await response.arrayBuffer() };
  const reader = response.body!.getReader();
  const prefix: Uint8Array[] = [];
  if (mode === 'auto' && length === null) {
    let size = 0;
    while (size <= limit) {
      const { done, value } = await reader.read();
      if (done) return { whole: concat(prefix, size) };
      prefix.push(value);
      size += value.byteLength;
    }
  }
  return { whole: null, reader, prefix };
}

/**
 * Streams the body as a transferred ReadableStream. The stream posted is
 * the manager's own (a pull source over the response's reader), so it can
 * put a prefix first, error with a {@link WireError} the worker turns back
 * into a SyncError, and know when the body is done. `highWaterMark: 0`: a
 * chunk is read from the network only when the worker's side pulls.
 */
export function transferBody(name: string, reply: Reply, head: Head, reader: ReadableStreamDefaultReader<Uint8Array>, prefix: Uint8Array[], running: Running, finish: () => void): void {
  const { signal } = running.controller;
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    signal.removeEventListener('abort', onAbort);
    finish();
  };
  let sink: ReadableStreamDefaultController<Uint8Array>;
  const onAbort = () => {
    end();
    try {
      sink.error(toWire(signal.reason));
    } catch { /* already closed */ }
    reader.cancel(signal.reason).catch(() => {});
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      sink = controller;
      for (const chunk of prefix) {
        count(chunk);
        controller.enqueue(chunk);
      }
    },
    async pull(controller) {
      if (done) return;
      try {
        const { done: last, value } = await reader.read();
        if (done) return;
        if (last) {
          end();
          controller.close();
          return;
        }
        count(value);
        controller.enqueue(value);
      } catch (cause) {
        if (done) return;
        end();
        controller.error(toWire(signal.aborted ? signal.reason : new SyncError('E_FAIL', `Endpoint '${name}': the response body failed: ${(cause as Error)?.message ?? cause}.`, { cause })));
      }
    },
    cancel: (reason) => {
      // The handler cancelled its body: end the request, so the server sees it go.
      if (!done) running.controller.abort(new SyncError('E_ABORT', `Endpoint '${name}': the handler cancelled the response body.`, { cause: reason }));
      end();
      return reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
  signal.addEventListener('abort', onAbort, { once: true });
  reply({ ...head, body: { kind: 'stream', stream } }, [stream as unknown as Transferable]);
}

/**
 * Streams the body as transferred ArrayBuffer chunks on the port, posting
 * at most {@link STREAM_WINDOW_BYTES} ahead of what the worker has read.
 */
export async function pumpBody(name: string, reply: Reply, head: Head, reader: ReadableStreamDefaultReader<Uint8Array>, prefix: Uint8Array[], running: Running, finish: () => void): Promise<void> {
  const { id } = head;
  const { signal } = running.controller;
  let credit = STREAM_WINDOW_BYTES;
  let wake: (() => void) | null = null;
  running.credit = (bytes) => {
    credit += bytes;
    wake?.();
  };
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort, { once: true });
  const send = (chunk: Uint8Array) => {
    count(chunk);
    const data = transferable(chunk);
    credit -= data.byteLength;
    reply({ type: 'chunk', id, data }, [data]);
  };
  reply({ ...head, body: { kind: 'pumped' } });
  try {
    for (const chunk of prefix) send(chunk);
    prefix.length = 0;
    for (;;) {
      while (credit <= 0) {
        signal.throwIfAborted();
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      send(value);
    }
    reply({ type: 'end', id });
  } catch (cause) {
    const error = signal.aborted ? signal.reason : new SyncError('E_FAIL', `Endpoint '${name}': the response body failed: ${(cause as Error)?.message ?? cause}.`, { cause });
    reader.cancel(error).catch(() => {});
    reply({ type: 'body-error', id, error: toWire(error) });
  } finally {
    signal.removeEventListener('abort', onAbort);
    running.credit = undefined;
    finish();
  }
}

/** The decoded body's length when the response says it: a Content-Length and no content coding. */
function knownLength(response: Response): number | null {
  const coding = response.headers.get('content-encoding');
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
  const value = response.headers.get('content-length');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

function concat(chunks: Uint8Array[], size: number): ArrayBuffer {
  if (chunks.length === 1) return transferable(chunks[0]!);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

/** The chunk's own buffer when the chunk covers all of it (so it can be transferred), else a copy. */
function transferable(chunk: Uint8Array): ArrayBuffer {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) return chunk.buffer;
  fetchBodyStats.copiedChunks += 1;
  return chunk.slice().buffer;
}

function count(chunk: Uint8Array): void {
  fetchBodyStats.streamedBytes += chunk.byteLength;
  if (chunk.byteLength > fetchBodyStats.largestChunk) fetchBodyStats.largestChunk = chunk.byteLength;
}
