import { describe, expect, test } from 'vitest';
import { MIN_SECRET_LENGTH, SecretHeaders } from '../../src/connections/secret-headers.ts';

describe('secret header values and the response headers that quote them', () => {
  const secrets = new SecretHeaders();
  secrets.add('Authorization', 'Bearer tok-0123456789');
  secrets.add('x-api-key', 'key-ABCDEFGH');
  secrets.add('x-short', 'seven77');
  secrets.add('Content-Type', 'application/x-secretive');
  secrets.add('Accept', 'text/plain-and-long');

  test.each([
    ['Bearer tok-0123456789', true],
    ['seen: BEARER TOK-0123456789', true],
    ['tok-0123456789', true],
    ['key-abcdefgh', true],
    ['prefix key-ABCDEFGH suffix', true],
    ['Bearer', false],
    ['seven77', false],
    ['application/x-secretive', false],
    ['text/plain-and-long', false],
    ['tok-01234', false],
  ])('%j quotes a secret: %s', (value, quoted) => {
    expect(secrets.quotedIn(value)).toBe(quoted);
  });

  test('withheldFrom keeps every header that quotes none', () => {
    const headers = new Headers({ 'x-seen-authorization': 'Bearer tok-0123456789', 'x-seen-x-api-key': 'key-ABCDEFGH', 'content-type': 'text/plain', 'x-request-id': '7' });
    expect(secrets.withheldFrom(headers)).toEqual([['content-type', 'text/plain'], ['x-request-id', '7']]);
    expect(new SecretHeaders().withheldFrom(headers)).toHaveLength(4);
    expect(MIN_SECRET_LENGTH).toBe(8);
  });
});
