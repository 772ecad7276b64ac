/**
 * Measurement probe (not a handler): Comlink over the worker's own port and
 * over a transferred MessagePort, in both directions, and the cost of a task
 * tick by each means the worker has. Driven by bench/engines/ports.measure.ts.
 */
import * as Comlink from 'comlink';
import { tickKinds, timeTicks, type TickKind } from '../ticks.ts';
import type { ProbeApi } from '../ports-protocol.ts';

interface PageApi {
  progress(itemId: string, update: unknown): string;
}

let overPort: Comlink.Remote<PageApi> | null = null;
const overSelf = Comlink.wrap<PageApi>(self as unknown as Comlink.Endpoint);

const api: ProbeApi = {
  echo: (x: unknown) => x,
  async callPage(via: 'self' | 'port', n: number): Promise<number> {
    const remote = via === 'self' ? overSelf : overPort!;
    for (let i = 0; i < 20; i++) await remote.progress('a', { value: i });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await remote.progress('a', { value: i });
    return (performance.now() - t0) / n;
  },
  ticks: (kind: TickKind, n: number) => timeTicks(kind, n),
  kinds: () => tickKinds(),
};

Comlink.expose(api, self as unknown as Comlink.Endpoint);
self.addEventListener('message', (event: MessageEvent) => {
  const data = event.data as { type?: string; port?: MessagePort };
  if (data?.type === 'probe:port' && data.port) {
    Comlink.expose(api, data.port);
    overPort = Comlink.wrap<PageApi>(data.port);
  }
});
self.postMessage({ type: 'probe:ready' });
