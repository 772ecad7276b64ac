import { afterEach, expect, test, vi } from 'vitest';
import { TickScheduler } from '../../src/internal/tick-scheduler.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Turns the event loop (setImmediate, which no test stubs) until `done()`, for at most 2 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
}

/** A MessageChannel whose messages never arrive. */
class DeadChannel {
  readonly port1 = { onmessage: null as unknown, close() {} };
  readonly port2 = { postMessage() {}, close() {} };
}

test('callbacks run at a later task, never in a microtask of the task that scheduled them, in order', async () => {
  const ticks = new TickScheduler();
  const ran: number[] = [];
  ticks.schedule(() => ran.push(1));
  ticks.schedule(() => ran.push(2));
  for (let i = 0; i < 50; i++) await Promise.resolve();
  expect(ran).toEqual([]);
  await until(() => ran.length === 2);
  expect(ran).toEqual([1, 2]);
  ticks.close();
});

test('where scheduler.postTask exists, a tick is one postTask for every callback scheduled before it, and no timer or message', async () => {
  const tasks: (() => void)[] = [];
  vi.stubGlobal('scheduler', { postTask: (fn: () => void) => (tasks.push(fn), Promise.resolve()) });
  const timers = vi.fn();
  vi.stubGlobal('MessageChannel', class { constructor() { timers(); } });
  const ticks = new TickScheduler();
  const ran: string[] = [];
  ticks.schedule(() => ran.push('a'));
  ticks.schedule(() => ran.push('b'));
  expect(tasks).toHaveLength(1);
  expect(ran).toEqual([]);
  tasks.shift()!();
  expect(ran).toEqual(['a', 'b']);
  ticks.schedule(() => ran.push('c'));
  expect(tasks).toHaveLength(1);
  tasks.shift()!();
  expect(ran).toEqual(['a', 'b', 'c']);
  expect(timers).not.toHaveBeenCalled();
  ticks.close();
});

test('without postTask, a tick whose message never arrives still runs, on its timer', async () => {
  vi.stubGlobal('MessageChannel', DeadChannel);
  const ticks = new TickScheduler();
  let ran = 0;
  ticks.schedule(() => ran++);
  await until(() => ran > 0);
  expect(ran).toBe(1);
  ticks.close();
});

test('without postTask, a tick whose timer is held back (a nested, clamped timer) runs on its message', async () => {
  const held: (() => void)[] = [];
  vi.stubGlobal('setTimeout', (fn: () => void) => (held.push(fn), 1));
  vi.stubGlobal('clearTimeout', () => {});
  const ticks = new TickScheduler();
  let ran = 0;
  ticks.schedule(() => ran++);
  await until(() => ran > 0);
  expect(ran).toBe(1);
  // The timer that comes late finds nothing left to run.
  for (const fn of held) fn();
  expect(ran).toBe(1);
  ticks.close();
});

test('without postTask, the second of the raced timer and message runs nothing twice', async () => {
  const realSetTimeout = setTimeout;
  let timerFired = false;
  vi.stubGlobal('setTimeout', (fn: () => void, ms: number) => realSetTimeout(() => {
    fn();
    timerFired = true;
  }, ms));
  // The winner cancels the timer when it can; never cancelled here, both always arrive, in whichever order the machine gives.
  vi.stubGlobal('clearTimeout', () => {});
  let messageFired = false;
  let channel: { inner: { port1: { onmessage: unknown; close(): void } } };
  const RealChannel = MessageChannel;
  vi.stubGlobal('MessageChannel', class {
    readonly inner = new RealChannel() as unknown as { port1: { onmessage: unknown; close(): void }; port2: unknown };
    readonly port2 = this.inner.port2;
    readonly port1 = {
      set onmessage(fn: () => void) {
        channel.inner.port1.onmessage = () => {
          fn();
          messageFired = true;
        };
      },
      close: () => channel.inner.port1.close(),
    };
    constructor() {
      channel = this;
    }
  });
  const ticks = new TickScheduler();
  let ran = 0;
  ticks.schedule(() => ran++);
  await until(() => timerFired && messageFired);
  expect([timerFired, messageFired, ran]).toEqual([true, true, 1]);
  ticks.close();
});

test('a callback that throws does not keep the others of its tick from running; its error is reported as uncaught', async () => {
  const tasks: (() => void)[] = [];
  vi.stubGlobal('scheduler', { postTask: (fn: () => void) => (tasks.push(fn), Promise.resolve()) });
  const reported: unknown[] = [];
  vi.stubGlobal('queueMicrotask', (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      reported.push(error);
    }
  });
  const ticks = new TickScheduler();
  const ran: string[] = [];
  ticks.schedule(() => {
    throw new Error('first');
  });
  ticks.schedule(() => ran.push('second'));
  tasks.shift()!();
  expect(ran).toEqual(['second']);
  expect(reported.map((e) => (e as Error).message)).toEqual(['first']);
  ticks.close();
});

test('close() drops what is scheduled: nothing runs afterwards', async () => {
  const ticks = new TickScheduler();
  let ran = 0;
  ticks.schedule(() => ran++);
  ticks.close();
  // A tick scheduled later, on another scheduler, and a timer set after it, have come and gone.
  const later = new TickScheduler();
  let laterRan = false;
  later.schedule(() => (laterRan = true));
  let timer = false;
  setTimeout(() => (timer = true), 0);
  await until(() => laterRan && timer);
  expect([laterRan, ran]).toEqual([true, 0]);
  later.close();
});
