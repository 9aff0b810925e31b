/**
 * inspectToken: what a token shows without its password. Every field is checked against
 * tokens sealed here and by @hapi/iron, the cookie size against the cookie layer's own
 * serializer, and refusals against unseal's grammar; neither a result nor an error may
 * contain the token.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SET_COOKIE_BYTES, serializeCookie } from '../../src/cookie/session-cookie.js';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import {
  inspectToken,
  seal,
  unseal,
  type InspectTokenOptions,
  type TokenInspection,
} from '../../src/iron/index.js';
import { BYTES_32, PASSWORD, fields, hapi } from './helpers.js';

/** The attributes inspectToken assumes: the default session cookie's. */
const ATTRIBUTES = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const;

/** A token that follows the grammar (its MAC is not checked), with a ciphertext of `chars`. */
function shapedToken(chars: number, expiration = ''): string {
  return [
    'Fe26.2',
    '',
    'ab'.repeat(32),
    'A'.repeat(22),
    'c'.repeat(chars),
    expiration,
    'cd'.repeat(32),
    'M'.repeat(43),
  ].join('*');
}

/** What `run` throws, which must be a SessionError with `code` that does not quote `secret`. */
function refusal(run: () => unknown, code: SessionErrorCode, secret?: string): Error {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isSessionError(thrown, code)).toBe(true);
  const error = thrown as Error;
  if (secret !== undefined && secret !== '') expect(error.message).not.toContain(secret);
  return error;
}

describe('inspectToken', () => {
  it('shows a token without password id or expiration', async () => {
    const token = await seal({ a: 1 }, PASSWORD);
    const header = serializeCookie('h3', token, ATTRIBUTES);
    expect(inspectToken(token)).toEqual({
      format: 'Fe26.2',
      passwordId: null,
      expiration: null,
      encryptionSalt: { present: true, length: 64 },
      integritySalt: { present: true, length: 64 },
      iv: fields(token)[3]!,
      ivBytes: 16,
      ciphertextBytes: 16,
      tokenLength: token.length,
      cookie: {
        name: 'h3',
        setCookie: 'Set-Cookie: h3=<token>; Path=/; HttpOnly; Secure; SameSite=Lax',
        bytes: header.length,
        limit: 4096,
        fits: true,
      },
    } satisfies TokenInspection);
  });

  it('shows the password id and the expiration, past or not as of `now`', async () => {
    const before = Date.now();
    const token = await seal({ a: 1 }, { id: 'k2025', secret: PASSWORD }, { ttl: 60_000 });
    const inspection = inspectToken(token);
    expect(inspection.passwordId).toBe('k2025');
    const ms = Number(fields(token)[5]);
    expect(ms).toBeGreaterThanOrEqual(before + 60_000);
    expect(inspection.expiration).toEqual({ ms, iso: new Date(ms).toISOString(), past: false });
    expect(inspectToken(token, { now: ms - 1 }).expiration?.past).toBe(false);
    expect(inspectToken(token, { now: ms }).expiration?.past).toBe(true);
    expect(inspectToken(token, { now: ms + 1 }).expiration?.past).toBe(true);
  });

  it('gives no ISO time for an expiration past what a Date holds', () => {
    const expiration = inspectToken(shapedToken(24, '9999999999999999')).expiration;
    expect(expiration).toEqual({ ms: Number('9999999999999999'), iso: null, past: false });
  });

  it('shows absent salts for a byte password', async () => {
    const token = await seal({ a: 1 }, BYTES_32);
    const inspection = inspectToken(token);
    expect(inspection.encryptionSalt).toEqual({ present: false, length: 0 });
    expect(inspection.integritySalt).toEqual({ present: false, length: 0 });
  });

  it('reads tokens sealed by @hapi/iron alike', async () => {
    const token = await hapi.seal({ a: 1 }, { id: 'old', secret: PASSWORD }, { ttl: 1000 });
    const inspection = inspectToken(token);
    expect(inspection.passwordId).toBe('old');
    expect(inspection.expiration?.ms).toBe(Number(fields(token)[5]));
    expect(inspection.ciphertextBytes).toBe(16);
  });

  it('counts the cookie as the cookie layer writes it, under any cookie name', async () => {
    const token = await seal({ user: 'ada' }, PASSWORD);
    for (const cookieName of ['h3', '__Host-session', 'a', 'my.session_v2', '!#$%&*+-.^_`|~']) {
      const header = serializeCookie(cookieName, token, ATTRIBUTES);
      const { cookie } = inspectToken(token, { cookieName });
      expect(cookie.name).toBe(cookieName);
      expect(cookie.bytes).toBe(header.length);
      expect(cookie.bytes).toBe(new TextEncoder().encode(header).length);
      expect(cookie.setCookie).toBe(`Set-Cookie: ${header.replace(token, '<token>')}`);
      expect(cookie.limit).toBe(MAX_SET_COOKIE_BYTES);
    }
  });

  it('fits up to exactly 4096 bytes, not one more', () => {
    const overhead = 'h3='.length + '; Path=/; HttpOnly; Secure; SameSite=Lax'.length;
    const base = shapedToken(0).length;
    // Ciphertexts of 4k+1 characters are not base64url: step the cookie name instead.
    const chars = 4096 - overhead - base;
    const token = shapedToken(chars % 4 === 1 ? chars - 1 : chars);
    const name = chars % 4 === 1 ? 'h3x' : 'h3';
    expect(inspectToken(token, { cookieName: name }).cookie).toMatchObject({
      bytes: 4096,
      fits: true,
    });
    expect(inspectToken(token, { cookieName: `${name}y` }).cookie).toMatchObject({
      bytes: 4097,
      fits: false,
    });
  });

  it('says that a large token does not fit', async () => {
    const token = await seal({ blob: 'x'.repeat(3_700) }, PASSWORD);
    expect(token.length).toBeGreaterThan(4096);
    expect(inspectToken(token).cookie.fits).toBe(false);
  });

  it('never puts the token in its result', async () => {
    const token = await seal({ secret: 'data-never-shown' }, PASSWORD, { ttl: 60_000 });
    const text = JSON.stringify(inspectToken(token, { cookieName: 'sid' }));
    expect(text).not.toContain(token);
    expect(text).not.toContain(fields(token)[4]); // the ciphertext
    expect(text).not.toContain(fields(token)[7]); // the MAC
  });

  it('refuses what is not a token with ERR_SEAL_INVALID, as unseal does, without quoting it', async () => {
    const token = await seal({ a: 1 }, PASSWORD);
    const malformed = [
      '',
      'not a token',
      token.replace('Fe26.2', 'Fe26.1'),
      token.slice(0, -1),
      `${token}*extra`,
      ` ${token}`,
      `${token}\n`,
      token.replace(/\*[\w-]{22}\*/, '*short*'),
      shapedToken(5), // a ciphertext of 4k+1 characters
      shapedToken(24, '0123'), // a leading zero in the expiration
    ];
    for (const bad of malformed) {
      const error = refusal(() => inspectToken(bad), 'ERR_SEAL_INVALID', bad);
      expect(error.message).toBe('Not a valid Fe26.2 token');
      await expect(unseal(bad, PASSWORD)).rejects.toMatchObject({
        code: 'ERR_SEAL_INVALID',
        message: error.message,
      });
    }
    const notStrings: unknown[] = [undefined, null, 42, {}, ['Fe26.2']];
    for (const notAString of notStrings) {
      refusal(() => inspectToken(notAString as string), 'ERR_SEAL_INVALID');
    }
  });

  it('refuses a cookie name that cannot name a cookie, without quoting it', async () => {
    const token = await seal({ a: 1 }, PASSWORD);
    for (const cookieName of ['', 'bad name', 'a;b', 'a=b', 'ü', 'tab\tname', 'Hunter2Secret;']) {
      const error = refusal(
        () => inspectToken(token, { cookieName }),
        'ERR_OPTIONS_INVALID',
        cookieName,
      );
      expect(error.message).toContain('cookieName');
      // The cookie layer refuses the same names.
      expect(() => serializeCookie(cookieName, token, ATTRIBUTES)).toThrow();
    }
    refusal(
      () => inspectToken(token, { cookieName: 7 } as unknown as InspectTokenOptions),
      'ERR_OPTIONS_INVALID',
    );
  });

  it('refuses a `now` that is not a finite number', async () => {
    const token = await seal({ a: 1 }, PASSWORD);
    for (const now of [NaN, Infinity, -Infinity, '1700000000000']) {
      const options = { now } as unknown as InspectTokenOptions;
      expect(refusal(() => inspectToken(token, options), 'ERR_OPTIONS_INVALID').message).toContain(
        'now',
      );
    }
  });

  it('checks its options before the token', () => {
    refusal(() => inspectToken('not a token', { cookieName: 'a b' }), 'ERR_OPTIONS_INVALID');
  });
});
