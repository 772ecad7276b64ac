/** Byte buffers that cross threads: transferred when they can be, copied only when they must. */

/** The chunk's own buffer when the chunk covers all of it (so it can be transferred without a copy), else a copy of the chunk. */
export function ownBuffer(chunk: Uint8Array): ArrayBuffer {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) return chunk.buffer;
  return chunk.slice().buffer;
}

/** The chunks, `size` bytes in all, as one buffer; a single chunk that covers its buffer is not copied. */
export function joinChunks(chunks: readonly Uint8Array[], size: number): ArrayBuffer {
  if (chunks.length === 1) return ownBuffer(chunks[0]!);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}
