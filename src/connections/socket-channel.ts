/**
 * The manager's end of one handler's WebSocket channel: delivers frames to the
 * worker (coalesced when a queue builds), counts the bytes the handler's frames
 * put on the socket and acknowledges them once they have left the socket's
 * buffer, which is what `await channel.send()` waits for.
 *
 * It enforces both buffers where the memory is, whatever the worker does:
 * frames toward the handler are bounded by the endpoint's `receiveBuffer`,
 * and frames from the handler by `sendBuffer.maxBytes` (past it they are
 * refused, reported to the worker and counted as unsent, never held).
 *
 * Toward the handler, frames posted and not yet acknowledged by the worker's
 * runtime are at most `receiveBuffer`. Past it, frames wait here, in order,
 * up to `receiveBuffer` again, and go on as acknowledgements come in; one
 * more and the channel closes with `E_OUTOFMEMORY`. The wait is there because
 * an acknowledgement reaches this thread only after the socket's messages
 * queued before it: where the main thread relays frames slower than the
 * network brings them (Firefox), a handler that keeps up is heard from late,
 * and closing at the first bound would close it. State changes wait behind
 * the frames they follow.
 */
import { deferred } from '../internal/deferred.ts';
import { SyncError } from '../protocol/sync-error.ts';
import { toWire } from '../protocol/wire.ts';
import { RECEIVE_OVERFLOW_CLOSE_CODE, frameSize, type Frame, type SocketClosed, type SocketDown } from '../protocol/socket-messages.ts';
import type { ConnectionState } from '../protocol/types.ts';
import type { ReceiveBufferOptions, SendBufferOptions } from '../protocol/worker-api.ts';
import { FrameBatcher } from '../internal/frame-batcher.ts';

export interface SocketChannelLimits {
  readonly sendBuffer: SendBufferOptions;
  readonly receiveBuffer: ReceiveBufferOptions;
}

export class SocketChannel {
  readonly handlerId: string;
  readonly port: MessagePort;
  readonly #batcher: FrameBatcher;
  readonly #limits: SocketChannelLimits;
  readonly #schedule: (fn: () => void) => void;
  /** Bytes of this channel's frames handed to the socket and not yet acknowledged. */
  unacked = 0;
  /** Bytes and frames of this channel's frames the connection holds for a reconnect. */
  heldBytes = 0;
  heldFrames = 0;
  /** Frames the worker's channel says it holds while the socket is not open (SocketQueued). */
  queuedInWorker = 0;
  /** Frames refused over the send limit (never held, never sent). */
  refused = 0;
  /** The app has heard that this channel posted something that is not a message of the socket protocol. */
  warned = false;
  #refusedToReport = 0;
  /** Frames posted to the worker and not yet acknowledged by its runtime, and their bytes. */
  #pendingFrames = 0;
  #pendingBytes = 0;
  /** What waits for acknowledgements before it is posted: frames, and the state changes behind them. */
  #waiting: Waiting[] = [];
  #waitingFrames = 0;
  #waitingBytes = 0;
  #open = true;
  /** The handler finished: nothing more is delivered, but what it posted before still comes in. */
  #finished = false;
  #drainExpected = false;
  readonly #detached = deferred<void>();

  constructor(handlerId: string, port: MessagePort, schedule: (fn: () => void) => void, limits: SocketChannelLimits) {
    this.handlerId = handlerId;
    this.port = port;
    this.#limits = limits;
    this.#schedule = schedule;
    this.#batcher = new FrameBatcher(port, schedule);
  }

  /** Still delivering to its handler. */
  get open(): boolean {
    return this.#open && !this.#finished;
  }

  /** The port is still listened to. */
  get attached(): boolean {
    return this.#open;
  }

  /**
   * A frame from the server; an ArrayBuffer is transferred. Answers how many
   * frames were dropped: 0, or, when the frame did not fit the receive buffer
   * nor the wait behind it, every frame not yet posted. The channel is then
   * closed with `E_OUTOFMEMORY` and the connection reports it.
   */
  deliver(frame: Frame): number {
    if (!this.open) return 0;
    const size = frameSize(frame);
    if (this.#waiting.length === 0 && this.#fits(size)) {
      this.#post(frame, size);
      return 0;
    }
    const { maxBytes, maxFrames } = this.#limits.receiveBuffer;
    // A frame larger than the bound still waits when nothing else does.
    if (this.#waitingFrames > 0 && (this.#waitingFrames + 1 > maxFrames || this.#waitingBytes + size > maxBytes)) {
      const dropped = this.#waitingFrames + 1;
      const error = new SyncError('E_OUTOFMEMORY', `Handler '${this.handlerId}' did not take its frames in time: ${this.#pendingFrames} frames (${this.#pendingBytes} bytes) were posted to it and not taken, and ${this.#waitingFrames} more (${this.#waitingBytes} bytes) waited for room; the endpoint's receiveBuffer allows ${maxFrames} frames and ${maxBytes} bytes of each. The ${dropped} frames that had not been posted were dropped and its channel closed; the socket stays open for the other handlers. Keep the handler's event loop free (move long work off it), or raise receiveBuffer.`);
      this.#clearWaiting();
      this.close({ state: 'closed', code: RECEIVE_OVERFLOW_CLOSE_CODE, reason: 'receive buffer overflow', wasClean: false }, [], [], error, dropped);
      return dropped;
    }
    this.#waiting.push({ frame, size });
    this.#waitingFrames += 1;
    this.#waitingBytes += size;
    return 0;
  }

  /** The worker's runtime gave the handler this many of the frames posted to it. */
  received(frames: number, bytes: number): void {
    this.#pendingFrames = Math.max(0, this.#pendingFrames - frames);
    this.#pendingBytes = Math.max(0, this.#pendingBytes - bytes);
    this.#release(false);
  }

  // A frame larger than the bound still goes through when nothing else is pending.
  #fits(size: number): boolean {
    const { maxBytes, maxFrames } = this.#limits.receiveBuffer;
    return this.#pendingFrames === 0 || (this.#pendingFrames + 1 <= maxFrames && this.#pendingBytes + size <= maxBytes);
  }

  #post(frame: Frame, size: number): void {
    this.#pendingFrames += 1;
    this.#pendingBytes += size;
    this.#batcher.push(frame);
  }

  /** Posts what waits, in order, while it fits (`all`: regardless, the socket is gone). */
  #release(all: boolean): void {
    let i = 0;
    for (; i < this.#waiting.length && this.#open; i++) {
      const entry = this.#waiting[i]!;
      if ('state' in entry) {
        this.#control({ type: 'state', state: entry.state, possiblyLost: entry.possiblyLost }, buffers(entry.possiblyLost));
        continue;
      }
      if (!all && !this.#fits(entry.size)) break;
      this.#waitingFrames -= 1;
      this.#waitingBytes -= entry.size;
      this.#post(entry.frame, entry.size);
    }
    if (i > 0) this.#waiting.splice(0, i);
  }

  #clearWaiting(): void {
    this.#waiting = [];
    this.#waitingFrames = 0;
    this.#waitingBytes = 0;
  }

  /**
   * Whether a frame of `size` bytes from the worker fits `sendBuffer.maxBytes`
   * (with what is on the socket and held for it) and, when it is to be held
   * for a reconnect (`held`), `sendBuffer.maxQueuedFrames`. One that does not
   * is refused: counted, and reported to the worker at the next tick.
   */
  admit(size: number, held: boolean): boolean {
    const { maxBytes, maxQueuedFrames } = this.#limits.sendBuffer;
    if (this.unacked + this.heldBytes + size <= maxBytes && (!held || this.heldFrames < maxQueuedFrames)) return true;
    this.refused += 1;
    if (this.#refusedToReport++ === 0 && this.#open) this.#schedule(this.#reportRefused);
    return false;
  }

  /** Sends what has left the socket's buffer back to the worker as credit. */
  acknowledge(): void {
    if (!this.open || this.unacked === 0) return;
    this.#control({ type: 'ack', bytes: this.unacked });
    this.unacked = 0;
  }

  state(state: ConnectionState, possiblyLost: Frame[] = []): void {
    if (!this.open) return;
    if (this.#waiting.length > 0) this.#waiting.push({ state, possiblyLost });
    else this.#control({ type: 'state', state, possiblyLost }, buffers(possiblyLost));
  }

  /** Tells the worker the connection (or this channel) is gone, with the frames it could not send, and closes the port. */
  close(info: Pick<SocketClosed, 'state' | 'code' | 'reason' | 'wasClean'>, unsent: Frame[], possiblyLost: Frame[], error: SyncError | null = null, dropped = 0): void {
    if (!this.open) return this.detach();
    // The socket is gone: what waited is all the handler will get, so it goes first.
    this.#release(true);
    const message: SocketClosed = { type: 'closed', ...info, unsent, possiblyLost, error: error && toWire(error), dropped };
    this.#control(message, [...buffers(unsent), ...buffers(possiblyLost)]);
    this.detach();
  }

  /**
   * The handler finished: stop delivering; keep listening, so frames it sent
   * before still arrive. `answered`: the worker's runtime posts `detach` after
   * them, which {@link drained} waits for.
   */
  finish(answered = false): void {
    this.#finished = true;
    this.#clearWaiting();
    if (answered && this.#open) this.#drainExpected = true;
  }

  /** Resolves once the worker's last message (its `detach`) arrived, when the handler answered; at once otherwise. */
  drained(): Promise<void> {
    return this.#drainExpected ? this.#detached.promise : Promise.resolve();
  }

  /** The handler detached (or the connection closed): stop delivering and listening. */
  detach(): void {
    this.#detached.resolve();
    if (!this.#open) return;
    this.#open = false;
    this.#clearWaiting();
    this.port.onmessage = null;
    this.port.close();
  }

  readonly #reportRefused = (): void => {
    const frames = this.#refusedToReport;
    this.#refusedToReport = 0;
    if (!this.open || frames === 0) return;
    const { maxBytes, maxQueuedFrames } = this.#limits.sendBuffer;
    const error = new SyncError('E_OUTOFMEMORY', `The manager refused ${frames} frame(s) of handler '${this.handlerId}': they would pass sendBuffer.maxBytes (${maxBytes}) of bytes not yet on the network, or sendBuffer.maxQueuedFrames (${maxQueuedFrames}) frames held for a reconnect. They were not sent. Send through the channel's send() and await it.`);
    this.#control({ type: 'refused', frames, error: toWire(error) });
  };

  // Control messages follow the frames already queued, so the worker sees them in order.
  #control(message: SocketDown, transfer: ArrayBuffer[] = []): void {
    this.#batcher.flush();
    this.port.postMessage(message, transfer);
  }
}

type Waiting = { readonly frame: Frame; readonly size: number } | { readonly state: ConnectionState; readonly possiblyLost: Frame[] };

function buffers(frames: readonly Frame[]): ArrayBuffer[] {
  return frames.filter((f): f is ArrayBuffer => typeof f !== 'string');
}
