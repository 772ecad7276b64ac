/**
 * Runs callbacks at the next task tick through a MessageChannel: not a
 * microtask (a loop that awaits each send must still see a batch end), and no
 * timer clamping (nested setTimeout(0) waits 4 ms).
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
