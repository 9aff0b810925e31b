/**
 * The prepared session Set-Cookie must say exactly what the cookie package would say for
 * the same attributes (it only skips re-serializing the fixed ones on every write).
 */
import { parseSetCookie, stringifySetCookie, type SerializeOptions } from 'cookie';
import { describe, expect, it } from 'vitest';
import { compileCookie, serializeToken } from '../../src/cookie/session-cookie.js';
import { mergeSetCookies } from '../../src/cookie/set-cookie.js';
import type { CookieOptions } from '../../src/session/types.js';

const token = 'Fe26.2**abc123*AAAAAAAAAAAAAAAAAAAAAA*ciphertext_-*1795770792341*def*mac';

const cases: [string, CookieOptions][] = [
  ['defaults', { path: '/', secure: true, httpOnly: true, sameSite: 'lax' }],
  [
    'everything',
    {
      path: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
      priority: 'high',
      partitioned: true,
    },
  ],
  ['sameSite none', { path: '/', secure: true, sameSite: 'none' }],
  ['bare', {}],
];

describe('serializeToken', () => {
  it.each(cases)(
    '%s: same attributes as the cookie package, with the expiry',
    (_label, options) => {
      const expiresAt = Date.now() + 3_600_000;
      const ours = parseSetCookie(serializeToken(compileCookie('h3', options), token, expiresAt));
      const maxAge = Math.floor((expiresAt - Date.now()) / 1000);
      const theirs = parseSetCookie(
        stringifySetCookie('h3', token, {
          ...(options as SerializeOptions),
          maxAge,
          expires: new Date(expiresAt),
          encode: (v: string) => v,
        }),
      );
      expect({ ...ours, maxAge: undefined }).toEqual({ ...theirs, maxAge: undefined });
      expect(Math.abs((ours.maxAge ?? 0) - maxAge)).toBeLessThanOrEqual(1);
    },
  );

  it.each(cases)(
    '%s: without maxAge, no expiry at all (a browser-session cookie)',
    (_l, options) => {
      const header = serializeToken(compileCookie('h3', options), token, undefined);
      expect(header).toBe(
        stringifySetCookie('h3', token, {
          ...(options as SerializeOptions),
          encode: (v: string) => v,
        }),
      );
    },
  );

  it('an expiry fixed by the configuration wins over maxAge', () => {
    const expires = new Date('2030-01-01T00:00:00Z');
    const template = compileCookie('h3', { path: '/', expires, maxAge: 60 });
    const parsed = parseSetCookie(serializeToken(template, token, Date.now() + 999_000));
    expect(parsed.maxAge).toBe(60);
    expect(parsed.expires?.toISOString()).toBe(expires.toISOString());
  });

  it('an expired session gets Max-Age=0, never a negative one', () => {
    const header = serializeToken(compileCookie('h3', { path: '/' }), token, Date.now() - 5000);
    expect(parseSetCookie(header).maxAge).toBe(0);
  });

  it('refuses attributes that break RFC 6265 when compiled, not at a write', () => {
    expect(() => compileCookie('h3', { path: '/a;b' })).toThrow(TypeError);
    expect(() => compileCookie('h3', { domain: 'bad domain' })).toThrow(TypeError);
  });
});

describe('mergeSetCookies', () => {
  it('keeps one header per (name, domain, path), the later one', () => {
    const merged = mergeSetCookies(
      ['a=1; Path=/', 'b=1; Path=/', 'a=1; Path=/x', 'c=1; Domain=example.com; Path=/'],
      ['a=2; Path=/', 'c=2; Domain=EXAMPLE.com; Path=/', 'd=1'],
    );
    expect(merged).toEqual([
      'b=1; Path=/',
      'a=1; Path=/x',
      'a=2; Path=/',
      'c=2; Domain=EXAMPLE.com; Path=/',
      'd=1',
    ]);
  });
});
