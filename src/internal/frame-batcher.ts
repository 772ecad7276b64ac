/**
 * Sends frames over a MessagePort at once when the port is idle, and
 * coalesces them into one postMessage when a queue builds: a frame that
 * follows the previous one within {@link BURST_GAP_MS} (frames dispatched in
 * one task, a loop of sends) waits for the next task tick, or until a batch
 * is full. Idle traffic costs one postMessage per frame and nothing more (no
 * tick is scheduled for it); bursts of frames cost one message per batch.
 * (Sending large frames at once instead was measured and was slower: the
 * README's Performance section.)
 */
import { MAX_BATCH_FRAMES, type Frame } from '../protocol/socket-messages.ts';

/** At most this many frames in one postMessage (the receiving side refuses longer batches). */
export { MAX_BATCH_FRAMES };
/** At most this many bytes of ArrayBuffers in one postMessage. */
export const MAX_BATCH_BYTES = 1 << 20;
/**
 * A frame pushed within this many milliseconds of the previous one is part of
 * a burst and is batched. Frames of one task arrive microseconds apart; a
 * frame that answers a network round trip comes hundreds of microseconds
 * later. 0.1 ms is also the coarsest `performance.now()` step of a page that
 * is not cross-origin isolated, so frames of one task still read as a burst there.
 */
export const BURST_GAP_MS = 0.1;

/** Where batches go: a MessagePort, or anything posting the same way. */
export interface FramePort {
  postMessage(message: Frame | Frame[], transfer: ArrayBuffer[]): void;
}

export class FrameBatcher {
  readonly #port: FramePort;
  readonly #schedule: (fn: () => void) => void;
  #queue: Frame[] = [];
  #transfer: ArrayBuffer[] = [];
  #bytes = 0;
  #last = Number.NEGATIVE_INFINITY;
  #scheduled = false;

  /** `schedule` runs a function at the next task tick (not a microtask: a loop that awaits each send must still batch). */
  constructor(port: FramePort, schedule: (fn: () => void) => void) {
    this.#port = port;
    this.#schedule = schedule;
  }

  /** Queues one frame; an ArrayBuffer is transferred (the caller must not use it afterwards). */
  push(frame: Frame): void {
    const now = performance.now();
    const burst = now - this.#last <= BURST_GAP_MS;
    this.#last = now;
    if (!burst && this.#queue.length === 0) {
      this.#port.postMessage(frame, typeof frame === 'string' ? [] : [frame]);
      return;
    }
    this.#queue.push(frame);
    if (typeof frame !== 'string') {
      this.#transfer.push(frame);
      this.#bytes += frame.byteLength;
    } else {
      this.#bytes += frame.length;
    }
    if (this.#queue.length >= MAX_BATCH_FRAMES || this.#bytes >= MAX_BATCH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#tick);
    }
  }

  /** Posts what is queued now. */
  flush(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    const transfer = this.#transfer;
    this.#queue = [];
    this.#transfer = [];
    this.#bytes = 0;
    this.#port.postMessage(batch.length === 1 ? batch[0] : batch, transfer);
  }

  readonly #tick = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
