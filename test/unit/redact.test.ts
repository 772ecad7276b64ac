import { describe, expect, test } from 'vitest';
import { redactCredentials, redactUrls } from '../../src/protocol/redact.ts';
import { toWire } from '../../src/protocol/wire.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';

const engineMessage = "Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL that includes credentials: http://user:p%40ss@127.0.0.1:5173/t/x/api/health?since=3#f";

describe('redaction of URLs in messages', () => {
  test('redactCredentials removes userinfo everywhere and the query of WebSocket URLs', () => {
    expect(redactCredentials(engineMessage)).toBe("Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:5173/t/x/api/health?since=3#f");
    expect(redactCredentials("to 'ws://u:p@h:1/live?t=SECRET#x', or wss://h/x?token=abc now")).toBe("to 'ws://h:1/live', or wss://h/x now");
    expect(redactCredentials('user@example.com at http://h/p@q?x=1')).toBe('user@example.com at http://h/p@q?x=1');
  });

  test('redactUrls cuts every URL to its scheme and host (a path may hold a token too)', () => {
    expect(redactUrls(engineMessage)).toBe("Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:5173");
    expect(redactUrls('(https://a:b@h/x?token=1) and HTTP://h/y#z')).toBe('(https://h) and HTTP://h');
  });

  test("a password holding quotes, brackets or spaces' neighbours is removed whole", () => {
    expect(redactCredentials("failed: https://u:p'ss@h/x")).toBe('failed: https://h/x');
    expect(redactCredentials('failed: https://u:p(a)"ss@h/x')).toBe('failed: https://h/x');
  });

  test('text without URLs is unchanged', () => {
    expect(redactCredentials('nothing here: a@b, x:y')).toBe('nothing here: a@b, x:y');
  });

  test('long hostile text is searched in linear time', () => {
    for (const text of ['a.'.repeat(500_000), 'http://'.repeat(200_000), `http://a${'@'.repeat(200_000)}`, `ws://${'a:'.repeat(300_000)}`]) {
      const started = performance.now();
      redactCredentials(text);
      redactUrls(text);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  test('toWire redacts the message, the stack and the causes', () => {
    const cause = new TypeError(engineMessage);
    const error = new SyncError('E_FAIL', "Endpoint 'live': ws://me:pw@h/live?t=SECRET failed", { cause });
    const wire = toWire(error);
    expect(JSON.stringify(wire)).not.toMatch(/p%40ss|me:pw|SECRET/);
    expect(wire.message).toBe("Endpoint 'live': ws://h/live failed");
    // A cause (an engine's error, quoting the endpoint's whole URL) keeps only the scheme and host, in its stack too.
    expect(wire.cause!.message).toBe("Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:5173");
    expect(wire.cause!.stack).not.toContain('/t/x/api');
    expect(toWire('see http://a:b@h/').message).toBe('see http://h/');
  });
});
