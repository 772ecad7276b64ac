// The deterministic byte pattern of generated payloads (`GET bytes`, binary
// frames of `POST send`): byte i = i % 251. 251 is prime, so the pattern does
// not line up with any power-of-two chunk size and a lost, duplicated or
// reordered chunk shows up as a mismatch.

export const PATTERN_PERIOD = 251;

/** Size of the chunks `GET bytes` writes. */
export const PATTERN_CHUNK = 64 * 1024;

// One chunk plus one period, so any chunk-sized window starting at any phase is a subarray.
const TILE: Buffer = Buffer.allocUnsafe(PATTERN_CHUNK + PATTERN_PERIOD);
for (let i = 0; i < TILE.length; i++) TILE[i] = i % PATTERN_PERIOD;

/** Bytes [offset, offset + length) of the pattern, length ≤ PATTERN_CHUNK. Shares memory: do not modify. */
export function patternSlice(offset: number, length: number): Buffer {
  if (length > PATTERN_CHUNK) throw new RangeError(`pattern slices are at most ${PATTERN_CHUNK} bytes`);
  const phase = offset % PATTERN_PERIOD;
  return TILE.subarray(phase, phase + length);
}

/** A fresh buffer holding the first `length` bytes of the pattern. */
export function patternBytes(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0; offset < length; offset += PATTERN_CHUNK) {
    patternSlice(offset, Math.min(PATTERN_CHUNK, length - offset)).copy(out, offset);
  }
  return out;
}
