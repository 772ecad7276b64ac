/**
 * The raw baseline of the progress flood: the same calls as `ctx.progress()`,
 * made with bare Comlink to a function the page exposes on a MessagePort,
 * without the manager.
 */
import * as Comlink from 'comlink';
import type { RawProgressMessage } from '../shared/protocol.ts';

interface Target {
  progress(itemId: string, update: { status: string; value: number; max: number }): Promise<string>;
}

self.onmessage = async (event: MessageEvent<RawProgressMessage<MessagePort>>) => {
  const message = event.data;
  if (message.type !== 'go') return;
  const target = Comlink.wrap<Target>(message.port);
  const t0 = performance.now();
  for (let i = 0; i < message.count; i++) {
    const answer = await target.progress('item', { status: 'updating', value: i + 1, max: message.count });
    if (answer !== 'continue') throw new Error(`progress answered ${answer}`);
  }
  self.postMessage({ type: 'done', ms: performance.now() - t0 } satisfies RawProgressMessage<MessagePort>);
  target[Comlink.releaseProxy]();
};
self.postMessage('ready');
