import { describe, expect, test } from 'vitest';
import { DEFAULT_HEARTBEAT, DEFAULT_RECEIVE_BUFFER, DEFAULT_RECONNECT, DEFAULT_SEND_BUFFER, resolveSocketOptions } from '../../src/connections/websocket-options.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';

describe('WebSocket endpoint robustness options', () => {
  test('default to reconnect on, heartbeat off, the default send and receive buffers, no route', () => {
    expect(resolveSocketOptions('e', {})).toEqual({ reconnect: DEFAULT_RECONNECT, heartbeat: null, sendBuffer: DEFAULT_SEND_BUFFER, receiveBuffer: DEFAULT_RECEIVE_BUFFER, route: null });
    expect(DEFAULT_RECEIVE_BUFFER).toEqual({ maxBytes: 16 << 20, maxFrames: 16_384 });
  });

  test('partial objects are merged over the defaults', () => {
    const r = resolveSocketOptions('e', { reconnect: { retries: 2 }, heartbeat: { timeout: 100 }, sendBuffer: { maxQueuedFrames: 5 } });
    expect(r.reconnect).toEqual({ ...DEFAULT_RECONNECT, retries: 2 });
    expect(r.heartbeat).toEqual({ ...DEFAULT_HEARTBEAT, timeout: 100 });
    expect(r.sendBuffer).toEqual({ ...DEFAULT_SEND_BUFFER, maxQueuedFrames: 5 });
    expect(resolveSocketOptions('e', { receiveBuffer: { maxFrames: 7 } }).receiveBuffer).toEqual({ ...DEFAULT_RECEIVE_BUFFER, maxFrames: 7 });
  });

  test('reconnect: false turns reconnecting off; heartbeat: true uses its defaults', () => {
    const r = resolveSocketOptions('e', { reconnect: false, heartbeat: true });
    expect(r.reconnect).toBeNull();
    expect(r.heartbeat).toEqual(DEFAULT_HEARTBEAT);
  });

  test.each([
    [{ reconnect: { retry: 3 } }, /reconnect: unknown option 'retry'/],
    [{ reconnect: { retries: -1 } }, /reconnect\.retries must be a whole number from 0/],
    [{ reconnect: { jitter: 2 } }, /reconnect\.jitter must be a number from 0 to 1/],
    [{ reconnect: { minDelay: 500, maxDelay: 100 } }, /maxDelay must be ≥ reconnect\.minDelay/],
    [{ reconnect: 'yes' }, /reconnect must be an object/],
    [{ heartbeat: { interval: 1 } }, /heartbeat\.interval must be a number from 10/],
    [{ heartbeat: { ping: '' } }, /heartbeat\.ping must be a non-empty string/],
    [{ heartbeat: { isPong: 'pong' } }, /heartbeat\.isPong must be a function/],
    [{ heartbeat: 5 }, /heartbeat must be true, false or an object/],
    [{ sendBuffer: { highWaterMark: 10, maxBytes: 5 } }, /maxBytes must be ≥ sendBuffer\.highWaterMark/],
    [{ sendBuffer: { maxFrames: 5 } }, /sendBuffer: unknown option 'maxFrames'/],
    [{ receiveBuffer: { maxFrames: 0 } }, /receiveBuffer\.maxFrames must be a whole number from 1/],
    [{ receiveBuffer: { maxBytes: 2 ** 31 } }, /receiveBuffer\.maxBytes must be a whole number from 1 to/],
    [{ receiveBuffer: { maxQueuedFrames: 5 } }, /receiveBuffer: unknown option 'maxQueuedFrames'/],
    [{ receiveBuffer: 'big' }, /receiveBuffer must be an object/],
    [{ route: 'all' }, /route must be a function/],
  ])('%j is refused with E_INVALIDARG naming the option', (config, message) => {
    try {
      resolveSocketOptions("endpoint 'live'", config);
      expect.unreachable();
    } catch (error) {
      expect(SyncError.is(error, 'E_INVALIDARG')).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain("endpoint 'live'");
    }
  });
});
