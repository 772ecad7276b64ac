/**
 * Runs callbacks at a later task, never in a microtask (a loop that awaits
 * each send must still see a batch end), by the cheapest means the global
 * offers, found by feature test:
 *
 * - `scheduler.postTask()` where it exists: a task of its own, never clamped;
 * - otherwise a zero timer and a MessageChannel message, raced: the first to
 *   arrive runs the callbacks, the other finds nothing to do. Either alone
 *   can be slow: a timer set from deeply nested timers waits 4 ms, and where
 *   MessagePorts are brokered outside the thread (WebKit) a message to
 *   oneself takes far longer than an unnested timer.
 *
 * Callbacks scheduled before a tick run in that tick, in order; one that
 * throws does not keep the others from running (its error is reported as
 * uncaught).
 */

interface PostTask {
  postTask(callback: () => void): Promise<unknown>;
}

/** The part of a MessageChannel used here (typed apart: Node's types give its ports no `onmessage`). */
interface TickChannel {
  port1: { onmessage: (() => void) | null; close(): void };
  port2: { postMessage(message: null): void; close(): void };
}

export class TickScheduler {
  readonly #postTask: PostTask | null;
  #channel: TickChannel | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending: (() => void)[] = [];

  constructor() {
    const scheduler = (globalThis as { scheduler?: Partial<PostTask> }).scheduler;
    this.#postTask = typeof scheduler?.postTask === 'function' ? (scheduler as PostTask) : null;
  }

  readonly schedule = (fn: () => void): void => {
    this.#pending.push(fn);
    if (this.#pending.length === 1) this.#request();
  };

  #request(): void {
    if (this.#postTask) {
      // #run reports its callbacks' errors itself: the task's promise never rejects.
      void this.#postTask.postTask(this.#run);
      return;
    }
    this.#timer = setTimeout(this.#run, 0);
    if (!this.#channel) {
      this.#channel = new MessageChannel() as unknown as TickChannel;
      this.#channel.port1.onmessage = this.#run;
    }
    this.#channel.port2.postMessage(null);
  }

  readonly #run = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const fns = this.#pending;
    this.#pending = [];
    for (const fn of fns) {
      try {
        fn();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };

  close(): void {
    this.#pending = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#channel?.port1.close();
    this.#channel?.port2.close();
    this.#channel = null;
  }
}
