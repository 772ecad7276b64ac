/**
 * The manager's end of one handler's WebSocket channel: delivers frames to the
 * worker (coalesced when a queue builds), counts the bytes the handler's frames
 * put on the socket and acknowledges them once they have left the socket's
 * buffer, which is what `await channel.send()` waits for.
 */
import type { Frame, SocketClosed, SocketDown } from '../protocol/socket-messages.ts';
import type { ConnectionState } from '../protocol/types.ts';
import { FrameBatcher } from '../internal/frame-batcher.ts';

export class SocketChannel {
  readonly handlerId: string;
  readonly port: MessagePort;
  readonly #batcher: FrameBatcher;
  /** Bytes of this channel's frames handed to the socket and not yet acknowledged. */
  unacked = 0;
  #open = true;

  constructor(handlerId: string, port: MessagePort, schedule: (fn: () => void) => void) {
    this.handlerId = handlerId;
    this.port = port;
    this.#batcher = new FrameBatcher(port, schedule);
  }

  get open(): boolean {
    return this.#open;
  }

  /** A frame from the server; an ArrayBuffer is transferred. */
  deliver(frame: Frame): void {
    if (this.#open) this.#batcher.push(frame);
  }

  /** Sends what has left the socket's buffer back to the worker as credit. */
  acknowledge(): void {
    if (!this.#open || this.unacked === 0) return;
    this.#control({ type: 'ack', bytes: this.unacked });
    this.unacked = 0;
  }

  state(state: ConnectionState): void {
    if (this.#open) this.#control({ type: 'state', state });
  }

  /** Tells the worker the connection is gone (with the frames it could not send) and closes the port. */
  close(info: Omit<SocketClosed, 'type' | 'unsent'>, unsent: Frame[]): void {
    if (!this.#open) return;
    this.#control({ type: 'closed', ...info, unsent }, unsent.filter((f): f is ArrayBuffer => typeof f !== 'string'));
    this.detach();
  }

  /** The handler detached (or the connection closed): stop delivering. */
  detach(): void {
    if (!this.#open) return;
    this.#open = false;
    this.port.onmessage = null;
    this.port.close();
  }

  // Control messages follow the frames already queued, so the worker sees them in order.
  #control(message: SocketDown, transfer: ArrayBuffer[] = []): void {
    this.#batcher.flush();
    this.port.postMessage(message, transfer);
  }
}
