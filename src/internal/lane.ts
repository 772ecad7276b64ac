/**
 * One conversation (a lane) over a message target that carries others too:
 * the handler API and the coordinator API both travel on the worker's own
 * port (a `Worker` on the page, the worker's global scope inside), each in
 * its own envelope ({@link LaneMessage}). An extra MessageChannel per
 * conversation would cost nothing in some engines and several times the
 * worker's own port in others, where MessagePorts are brokered; messages of
 * one port also keep their order across both conversations.
 *
 * A lane is a Comlink endpoint: Comlink (or the gate in front of it) sees
 * only the messages of its lane, unwrapped, and what it posts is wrapped.
 * Messages without a lane's envelope (the handshake, an app's own messages)
 * are left to whoever else listens on the target.
 */
import { isLaneMessage, type Lane, type LaneMessage } from '../protocol/worker-api.ts';

/** What a lane runs over: a `Worker` on the page, the worker's global scope inside it. */
export interface LaneTarget {
  postMessage(message: LaneMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** A Comlink endpoint for one lane. */
export interface LaneEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  /** Ends the lane on this side: its listeners leave the target and later posts are dropped. Idempotent. */
  close(): void;
}

export function lane(target: LaneTarget, name: Lane): LaneEndpoint {
  const listeners = new Map<EventListenerOrEventListenerObject, (event: MessageEvent) => void>();
  let closed = false;
  return {
    postMessage(message, transfer) {
      if (!closed) target.postMessage({ syncmgr: name, message }, transfer ?? []);
    },
    addEventListener(type, listener) {
      if (closed || type !== 'message' || listeners.has(listener)) return;
      const call = typeof listener === 'function' ? listener : (event: Event) => listener.handleEvent(event);
      const unwrapped = (event: MessageEvent) => {
        const data: unknown = event.data;
        if (isLaneMessage(data) && data.syncmgr === name) call(new MessageEvent('message', { data: data.message }));
      };
      listeners.set(listener, unwrapped);
      target.addEventListener('message', unwrapped);
    },
    removeEventListener(type, listener) {
      const unwrapped = listeners.get(listener);
      if (type !== 'message' || !unwrapped) return;
      listeners.delete(listener);
      target.removeEventListener('message', unwrapped);
    },
    close() {
      closed = true;
      for (const unwrapped of listeners.values()) target.removeEventListener('message', unwrapped);
      listeners.clear();
    },
  };
}
