import { describe, expect, test } from 'vitest';
import { asBaseUrl, resolveInside } from '../../src/protocol/path.ts';
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
    ['notes/a?since=3&q=a%2Fb%5C#x', 'https://example.test/t/x/api/notes/a?since=3&q=a%2Fb%5C#x'],
    ['notes/a%20b%25', 'https://example.test/t/x/api/notes/a%20b%25'],
    ['a%2e', 'https://example.test/t/x/api/a%2e'],
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
    ['%252e%252e/secret', "'..'"],
    ['a/%25%32%65%25%32%65/secret', "'..' segment once decoded"],
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

  // A server that decodes the path once (or more) before resolving it would see these separators.
  test.each([
    '..%2fsecret',
    '..%2Fsecret',
    '%2e%2e%2fsecret',
    '..%5csecret',
    '..%5Csecret',
    'x/..%2f..%2fsecret',
    'notes/a%2fb',
    '..%252fsecret',
    '..%252Fsecret',
    '..%255csecret',
    '..%255Csecret',
    '..%25252fsecret',
    '..%2525252525255csecret',
    '%252e%252e%252fsecret',
    'a/..%25%32%66secret',
    'a/..%25%35%63secret',
    'a/..%2525%32%66secret',
  ])('refuses the encoded separator in %j with E_ACCESSDENIED', (path) => {
    try {
      resolveInside(base, path, 'api');
      expect.unreachable(`${path} was allowed`);
    } catch (error) {
      expect(SyncError.is(error, 'E_ACCESSDENIED')).toBe(true);
      expect((error as Error).message).toMatch(/encoded '\/' or '\\'|'\.\.'/);
      expect((error as Error).message).toContain("endpoint 'api'");
    }
  });

  test.each([
    '..%2\tf..%2\tfsecret',
    '%2\te%2\te%2\tfsecret',
    '..%\t2fsecret',
    '..\n/secret',
    'a\r%2fb',
    'notes\u0000',
  ])('refuses %j: a control character the URL parser would drop (joining an escape) or keep', (path) => {
    try {
      resolveInside(base, path, 'api');
      expect.unreachable(`${JSON.stringify(path)} was allowed`);
    } catch (error) {
      expect(SyncError.is(error, 'E_ACCESSDENIED')).toBe(true);
      expect((error as Error).message).toMatch(/control character/);
    }
  });

  test('a non-string path is E_INVALIDARG', () => {
    expect(() => resolveInside(base, 42, 'api')).toThrow(expect.objectContaining({ code: 'E_INVALIDARG' }));
  });
});
