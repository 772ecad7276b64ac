/**
 * Measurement handler for bench/engines/ports.measure.ts. The cookie says what
 * to time in synchronize(); the figures go back on a BroadcastChannel:
 * - `empty`: nothing (a session's own cost);
 * - `progress`: `count` awaited ctx.progress() calls;
 * - `sends`: `count` awaited send()s of `size`-byte text frames on the
 *   WebSocket endpoint `live`, then until all echoes have arrived;
 * - `rtt`: `count` echo round trips of one `size`-byte text frame, through
 *   the syncmgr channel and through a WebSocket of the worker's own (`url`).
 */
import { defineHandler, type WebSocketChannel } from '../../../src/handler.ts';

import { PORTS_CHANNEL, type PortsCookie, type PortsReport } from '../ports-protocol.ts';

const bus = new BroadcastChannel(PORTS_CHANNEL);

defineHandler({
  items: () => [{ id: 'a', name: 'A' }],
  async synchronize(_ids, ctx) {
    const cookie = ctx.cookie as PortsCookie;
    const count = cookie.count ?? 0;
    const report = (value: Record<string, number>) => bus.postMessage({ sessionId: ctx.sessionId, handlerId: ctx.handlerId, value } satisfies PortsReport);
    if (cookie.mode === 'progress') {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const answer = await ctx.progress('a', { status: 'updating', value: i, max: count });
        if (answer !== 'continue') throw new Error(`progress answered ${answer}`);
      }
      report({ ms: performance.now() - t0 });
    } else if (cookie.mode === 'rtt') {
      const frame = 'r'.repeat(cookie.size ?? 100);
      const channel = await ctx.establishConnection('live', 'websocket') as WebSocketChannel;
      const viaChannel = await roundTrips(count, (f) => channel.send(f), (on) => channel.addEventListener('message', on), frame);
      const ws = new WebSocket(cookie.url!);
      await new Promise((resolve) => (ws.onopen = resolve));
      const direct = await roundTrips(count, (f) => ws.send(f), (on) => ws.addEventListener('message', on), frame);
      ws.close();
      report({ channelMs: viaChannel, directMs: direct });
    } else if (cookie.mode === 'sends') {
      const channel = await ctx.establishConnection('live', 'websocket') as WebSocketChannel;
      let echoed = 0;
      let allEchoed = () => {};
      const done = new Promise<void>((resolve) => (allEchoed = resolve));
      channel.addEventListener('message', () => {
        if (++echoed === count) allEchoed();
      });
      const frame = 'x'.repeat(cookie.size ?? 100);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await channel.send(frame);
      const sent = performance.now() - t0;
      await done;
      report({ sendMs: sent, echoMs: performance.now() - t0 });
    }
  },
});

/** Mean ms of `n` sequential echo round trips (after 20 unmeasured). */
async function roundTrips(n: number, send: (frame: string) => unknown, listen: (on: () => void) => void, frame: string): Promise<number> {
  let echoed = () => {};
  listen(() => echoed());
  const once = () => new Promise<void>((resolve) => {
    echoed = resolve;
    send(frame);
  });
  for (let i = 0; i < 20; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  return (performance.now() - t0) / n;
}
