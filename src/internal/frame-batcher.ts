/**
 * Sends frames over a MessagePort at once when the port is idle, and
 * coalesces them into one postMessage when a queue builds (frames that arrive
 * before the next task tick). Idle latency stays one postMessage; bursts of
 * small frames cost one message per batch instead of one per frame.
 */
import type { Frame } from '../protocol/api.ts';

/** At most this many frames in one postMessage. */
export const MAX_BATCH_FRAMES = 64;
/** At most this many bytes of ArrayBuffers in one postMessage. */
export const MAX_BATCH_BYTES = 1 << 20;

export class FrameBatcher {
  readonly #port: MessagePort;
  readonly #schedule: (fn: () => void) => void;
  #queue: Frame[] = [];
  #transfer: ArrayBuffer[] = [];
  #bytes = 0;
  #busy = false;

  /** `schedule` runs a function at the next task tick. */
  constructor(port: MessagePort, schedule: (fn: () => void) => void) {
    this.#port = port;
    this.#schedule = schedule;
  }

  /** Queues one frame; an ArrayBuffer is transferred (the caller must not use it afterwards). */
  push(frame: Frame): void {
    if (!this.#busy) {
      this.#busy = true;
      this.#port.postMessage(frame, typeof frame === 'string' ? [] : [frame]);
      this.#schedule(this.#tick);
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
    if (this.#queue.length === 0) {
      this.#busy = false;
      return;
    }
    this.flush();
    this.#schedule(this.#tick);
  };
}

/**
 * Runs callbacks at the next task tick through a MessageChannel (no timer
 * clamping). `close()` releases the channel.
 */
export class TickScheduler {
  #channel: MessageChannel | null = null;
  #pending: (() => void)[] = [];

  readonly schedule = (fn: () => void): void => {
    if (!this.#channel) {
      this.#channel = new MessageChannel();
      this.#channel.port1.onmessage = this.#run;
    }
    this.#pending.push(fn);
    if (this.#pending.length === 1) this.#channel.port2.postMessage(null);
  };

  readonly #run = (): void => {
    const fns = this.#pending;
    this.#pending = [];
    for (const fn of fns) fn();
  };

  close(): void {
    this.#pending = [];
    this.#channel?.port1.close();
    this.#channel?.port2.close();
    this.#channel = null;
  }
}
