/**
 * Times task ticks (a callback run at a later task, never a microtask) by
 * every means the current global offers. Each kind answers ms per tick:
 * chained kinds time `n` ticks in a row; `setTimeout` starts each tick from a
 * fresh message task, so it is never nested (nested timers are clamped to
 * 4 ms after five levels: `setTimeout-nested` shows that).
 */
import { TickScheduler } from '../../src/internal/tick-scheduler.ts';

export type TickKind = 'MessageChannel' | 'setTimeout' | 'setTimeout-nested' | 'postTask' | 'postTask-user-blocking' | 'window.postMessage' | 'TickScheduler' | 'TickScheduler-nested';

interface Scheduler {
  postTask(fn: () => void, options?: { priority?: string }): Promise<void>;
}
const scheduler = (globalThis as { scheduler?: Scheduler }).scheduler;

export function tickKinds(): TickKind[] {
  const kinds: TickKind[] = ['TickScheduler', 'TickScheduler-nested', 'MessageChannel', 'setTimeout', 'setTimeout-nested'];
  if (typeof scheduler?.postTask === 'function') kinds.push('postTask', 'postTask-user-blocking');
  if (typeof (globalThis as { document?: unknown }).document === 'object') kinds.push('window.postMessage');
  return kinds;
}

/** Runs `step(next)` `n` times in a row; answers ms per step. */
function chain(n: number, step: (next: () => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let left = n;
    const t0 = performance.now();
    const next = () => {
      if (--left < 0) resolve((performance.now() - t0) / n);
      else step(next);
    };
    next();
  });
}

/** Each tick starts in a message task (timer nesting level 0); answers the mean of the ticks' own delays. */
async function unnested(n: number, tick: (fn: () => void) => void): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  let total = 0;
  try {
    for (let i = 0; i < n; i++) {
      total += await new Promise<number>((resolve) => {
        port1.onmessage = () => {
          const t0 = performance.now();
          tick(() => resolve(performance.now() - t0));
        };
        port2.postMessage(null);
      });
    }
    return total / n;
  } finally {
    port1.close();
    port2.close();
  }
}

export async function timeTicks(kind: TickKind, n: number): Promise<number> {
  switch (kind) {
    case 'MessageChannel': {
      const { port1, port2 } = new MessageChannel();
      let fire = () => {};
      port1.onmessage = () => fire();
      try {
        return await chain(n, (next) => {
          fire = next;
          port2.postMessage(null);
        });
      } finally {
        port1.close();
        port2.close();
      }
    }
    case 'setTimeout':
      return unnested(n, (fn) => setTimeout(fn, 0));
    case 'TickScheduler': {
      const ticks = new TickScheduler();
      try {
        return await unnested(n, ticks.schedule);
      } finally {
        ticks.close();
      }
    }
    case 'TickScheduler-nested': {
      const ticks = new TickScheduler();
      try {
        return await chain(n, ticks.schedule);
      } finally {
        ticks.close();
      }
    }
    case 'setTimeout-nested':
      return chain(n, (next) => setTimeout(next, 0));
    case 'postTask':
      return chain(n, (next) => void scheduler!.postTask(next));
    case 'postTask-user-blocking':
      return chain(n, (next) => void scheduler!.postTask(next, { priority: 'user-blocking' }));
    case 'window.postMessage': {
      const token = `tick-${Math.random()}`;
      let fire = () => {};
      const onMessage = (event: MessageEvent) => {
        if (event.data === token) fire();
      };
      addEventListener('message', onMessage);
      try {
        return await chain(n, (next) => {
          fire = next;
          (globalThis as unknown as { postMessage(message: unknown, targetOrigin: string): void }).postMessage(token, '*');
        });
      } finally {
        removeEventListener('message', onMessage);
      }
    }
  }
}
