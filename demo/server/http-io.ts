// Reading requests and writing replies. Routes compute a `Reply` value and
// one writer sends it, so every answer of the API and control endpoints gets
// the same headers (`Cache-Control: no-store`) and large bodies are always
// streamed with backpressure.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { PATTERN_CHUNK, patternSlice } from './pattern.ts';
import type { ErrorBody } from './types.ts';

/** A generated body: the first `length` bytes of the byte pattern (see pattern.ts). */
export interface PatternBody {
  pattern: number;
  /** Sent without Content-Length (chunked transfer coding), so the client cannot know the size in advance. */
  chunked?: boolean;
  /** Milliseconds to wait after each chunk of PATTERN_CHUNK bytes (a slow network). */
  paceMs?: number;
  /**
   * Sends only the first this many bytes, then holds the response open and
   * silent until the client goes away: a body that is still streaming
   * whenever the client acts, however much the client's engine buffers.
   */
  holdAfter?: number;
}

export interface Reply {
  status: number;
  /** The reason phrase; default: the status's standard one. */
  statusText?: string;
  headers: Record<string, string>;
  body: string | Uint8Array | PatternBody;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

export function errorReply(status: number, error: string, headers: Record<string, string> = {}): Reply {
  const body: ErrorBody = { error };
  return jsonReply(status, body, headers);
}

export function textReply(status: number, text: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text };
}

export function bytesReply(bytes: Uint8Array, contentType: string): Reply {
  return { status: 200, headers: { 'content-type': contentType }, body: bytes };
}

export function patternReply(length: number, options: { chunked?: boolean; paceMs?: number; holdAfter?: number } = {}): Reply {
  const body: PatternBody = { pattern: length };
  if (options.chunked) body.chunked = true;
  if (options.paceMs) body.paceMs = options.paceMs;
  if (options.holdAfter !== undefined && options.holdAfter < length) body.holdAfter = options.holdAfter;
  return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body };
}

/** Thrown by `readBody` when the body is larger than allowed. */
export class BodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * Reads the whole request body. `onProgress` sees the running byte count (so
 * an aborted upload still shows how much arrived). Rejects if the client goes
 * away before the end, or with `BodyTooLarge` past `limit` bytes.
 */
export function readBody(req: IncomingMessage, limit: number, onProgress: (bytes: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      onProgress(size);
      if (size > limit) {
        cleanup();
        // Stop reading; the caller answers 413 and the connection is closed.
        req.pause();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('client went away before the request body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Request headers with lowercased names, in arrival order; repeated headers joined with `, `. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/**
 * Sends a reply. Resolves when the body is handed to the socket or the client
 * went away (the caller learns which from the response's own events).
 */
export async function writeReply(res: ServerResponse, reply: Reply): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...reply.headers, 'cache-control': 'no-store' };
  const { body } = reply;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    headers['content-length'] = bytes.byteLength;
    writeHead(res, reply, headers);
    res.end(bytes);
    return;
  }
  if (!body.chunked) headers['content-length'] = body.pattern;
  writeHead(res, reply, headers);
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  const sent = body.holdAfter ?? body.pattern;
  for (let offset = 0; offset < sent; offset += PATTERN_CHUNK) {
    if (res.destroyed) return;
    const more = res.write(patternSlice(offset, Math.min(PATTERN_CHUNK, sent - offset)));
    if (!more && !(await drained(res))) return;
    if (body.paceMs && offset + PATTERN_CHUNK < sent) await new Promise((resolve) => setTimeout(resolve, body.paceMs));
  }
  if (sent < body.pattern) {
    // Held: the record's `aborted` says when the client went away.
    if (!res.destroyed) await new Promise((resolve) => res.once('close', resolve));
    return;
  }
  res.end();
}

function writeHead(res: ServerResponse, reply: Reply, headers: Record<string, string | number>): void {
  if (reply.statusText === undefined) res.writeHead(reply.status, headers);
  else res.writeHead(reply.status, reply.statusText, headers);
}

/** Waits for 'drain'; false if the response closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
