// A channel handed to a handler with frames already waiting on its port (the
// manager posted them while the handler's worker was busy) dispatches them to
// the listeners the handler adds right after `await ctx.establishConnection()`.
// Deno dispatches what a port holds within the microtasks that start it, so
// the runtime holds such frames until the next task; without that, this test
// sees none of them (and two handlers sharing a socket could each miss the
// other's echoes, which establish.test.ts once caught).
import assert from 'node:assert/strict';
import type { HandoverMessage, HandoverReport } from '../../workers/fixtures/handover-channel.ts';
import type { ChannelGrant } from '../../src/protocol/worker-api.ts';
import { SANITIZED } from './bed.ts';

const FRAMES = ['one', 'two', 'three'];

Deno.test({
  ...SANITIZED,
  name: 'frames waiting on a channel port when the handler gets the channel reach the listener it adds right after its await',
  async fn() {
    const worker = new Worker(new URL('../../workers/fixtures/handover-channel.ts', import.meta.url), { type: 'module' });
    const { port1, port2 } = new MessageChannel();
    try {
      // The manager's end: the frames go first, so they travel with the port.
      for (const frame of FRAMES) port1.postMessage(frame);
      // The channel acknowledges the frames it dispatched: once all are acknowledged, the listener has had its chance.
      let acknowledged = 0;
      const dispatched = new Promise<void>((resolve) => {
        port1.onmessage = (event: MessageEvent) => {
          if (event.data?.type === 'received') acknowledged += event.data.frames;
          if (acknowledged >= FRAMES.length) resolve();
        };
      });
      const grant: ChannelGrant<MessagePort, 'websocket'> = {
        kind: 'websocket', name: 'live', port: port2, protocol: '', state: 'open',
        sendBuffer: { highWaterMark: 1 << 20, maxBytes: 1 << 22, maxQueuedFrames: 100 },
        receiveBuffer: { maxBytes: 1 << 22, maxFrames: 1000 },
      };
      worker.postMessage({ type: 'grant', grant } satisfies HandoverMessage, [port2]);
      await withTimeout(dispatched, 10_000, `the channel acknowledged ${acknowledged} of ${FRAMES.length} frames`);

      const report = new Promise<HandoverReport>((resolve) => (worker.onmessage = (e: MessageEvent<HandoverReport>) => resolve(e.data)));
      worker.postMessage({ type: 'report' } satisfies HandoverMessage);
      assert.deepEqual((await withTimeout(report, 10_000, 'the worker did not report')).seen, FRAMES);
    } finally {
      port1.close();
      worker.terminate();
    }
  },
});

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
