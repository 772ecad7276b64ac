import { describe, expect, test } from 'vitest';
import { asBaseUrl, resolveInside } from '../../src/connections/path.ts';
import { SyncError } from '../../src/protocol/sync-error.ts';

const base = asBaseUrl('https://example.test/t/x/api', undefined);

describe('resolveInside', () => {
  test('the base always ends with a slash and drops query and hash', () => {
    expect(base.href).toBe('https://example.test/t/x/api/');
    expect(asBaseUrl('/api/?a=1#h', 'http://page.test/app/').href).toBe('http://page.test/api/');
  });

  test.each([
    ['notes', 'https://example.test/t/x/api/notes'],
    ['/notes', 'https://example.test/t/x/api/notes'],
    ['notes/a%2Fb?since=3#x', 'https://example.test/t/x/api/notes/a%2Fb?since=3#x'],
    ['', 'https://example.test/t/x/api/'],
    ['./notes', 'https://example.test/t/x/api/notes'],
    ['a..b/c', 'https://example.test/t/x/api/a..b/c'],
  ])('resolves %j inside the endpoint', (path, href) => {
    expect(resolveInside(base, path, 'api').href).toBe(href);
  });

  test.each([
    ['https://evil.test/x', 'absolute URL'],
    ['HTTP://example.test/t/x/api/notes', 'absolute URL'],
    ['data:text/plain,hi', 'absolute URL'],
    ['javascript:alert(1)', 'absolute URL'],
    ['//evil.test/x', 'another host'],
    ['\\\\evil.test\\x', 'backslash'],
    ['..', "'..'"],
    ['../secret', "'..'"],
    ['a/../../b', "'..'"],
    ['a/../b', "'..'"],
    ['%2e%2e/secret', "'..'"],
    ['%2E%2e/secret', "'..'"],
    ['notes/..?x', "'..'"],
    ['/..', "'..'"],
  ])('refuses %j with E_ACCESSDENIED', (path, why) => {
    try {
      resolveInside(base, path, 'api');
      expect.unreachable(`${path} was allowed`);
    } catch (error) {
      expect(SyncError.is(error, 'E_ACCESSDENIED')).toBe(true);
      expect((error as Error).message).toContain(why);
      expect((error as Error).message).toContain("endpoint 'api'");
    }
  });

  test('a non-string path is E_INVALIDARG', () => {
    expect(() => resolveInside(base, 42, 'api')).toThrow(expect.objectContaining({ code: 'E_INVALIDARG' }));
  });
});
