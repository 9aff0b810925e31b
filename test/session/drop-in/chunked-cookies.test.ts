/**
 * Sessions larger than one cookie, over real HTTP on every host, in h3 2.x's chunked
 * format (`h3=__chunked__N`, then `h3.1` … `h3.N`): each Set-Cookie stays within the
 * 4096 bytes browsers keep, the chunks read back, a smaller rewrite and a clear delete the
 * chunks the browser still holds, and a chunked cookie that cannot be put together (a
 * chunk missing, a count of 0, 101 or not a number) gives a fresh session reported as
 * ERR_COOKIE_INVALID, never a 500.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unsealSession, type SessionConfig } from '../../../src/index.js';
import { secret } from '../matrix/helpers.js';
import {
  cookieHeader,
  cookiesNamed,
  deletedNames,
  hostSession,
  isDeletion,
  jarAfter,
  recorded,
  rejectionCodes,
  setCookiesOf,
  type Recorded,
} from './fixtures.js';
import { hosts, type DropInResponse, type DropInServer, type Routes } from './hosts.js';

const CHUNKED = /^__chunked__(\d+)$/;

function routesFor(config: SessionConfig): Routes {
  return {
    '/write': async (exchange) => {
      const size = Number(exchange.url.searchParams.get('size'));
      const session = await hostSession(exchange, config);
      await session.update({ big: 'x'.repeat(size) });
      return { id: session.id };
    },
    '/read': async (exchange) => {
      const session = await hostSession(exchange, config);
      return { id: session.id, size: String(session.data.big ?? '').length };
    },
    '/clear': async (exchange) => {
      await (await hostSession(exchange, config)).clear();
      return { cleared: true };
    },
  };
}

/** Names `h3.1` … `h3.<count>`. */
function chunkNames(count: number, name = 'h3'): string[] {
  return Array.from({ length: count }, (_, index) => `${name}.${index + 1}`);
}

/**
 * The chunks a response wrote for `h3`: their count from the main cookie, checked against
 * the chunk cookies set, and the token they make joined.
 */
function chunksOf(response: DropInResponse): { count: number; values: string[]; token: string } {
  const main = cookiesNamed(response, 'h3');
  expect(main).toHaveLength(1);
  const count = Number(CHUNKED.exec(main[0]!.value)?.[1]);
  expect(count).toBeGreaterThanOrEqual(2);
  const written = setCookiesOf(response).filter(
    (cookie) => cookie.name.startsWith('h3.') && !isDeletion(cookie),
  );
  expect(written.map((cookie) => cookie.name)).toEqual(chunkNames(count));
  const values = written.map((cookie) => cookie.value);
  return { count, values, token: values.join('') };
}

describe.each(hosts)('chunked session cookies on $name', (host) => {
  let session: Recorded;
  let small: Recorded;
  let server: DropInServer;
  let smallServer: DropInServer;

  beforeAll(async () => {
    // maxAge adds Max-Age and Expires to every header, so the 4096-byte bound is tight.
    session = recorded({ password: secret(), maxAge: 3600 });
    small = recorded({ password: secret(), cookie: { chunkMaxLength: 1000 } });
    [server, smallServer] = await Promise.all([
      host.start(session.config, routesFor(session.config)),
      host.start(small.config, routesFor(small.config)),
    ]);
  });

  afterAll(() => Promise.all([server.close(), smallServer.close()]));

  beforeEach(() => {
    session.rejections.length = 0;
    small.rejections.length = 0;
  });

  /** A browser that signed in with a 9 KB session: its cookies, and the session's id. */
  async function nineKilobytes() {
    const response = await server.request('/write?size=9000');
    expect(response.status).toBe(200);
    return { response, jar: jarAfter(response), id: (response.json as { id: string }).id };
  }

  it('a 9 KB session is written as h3=__chunked__N and h3.1 … h3.N, each Set-Cookie within 4096 bytes, and reads back', async () => {
    const { response, jar, id } = await nineKilobytes();
    const { count, token } = chunksOf(response);
    expect(count).toBeGreaterThanOrEqual(3);
    for (const header of response.setCookies) {
      expect(Buffer.byteLength(header)).toBeLessThanOrEqual(4096);
      // Every piece carries the session cookie's attributes.
      expect(header).toMatch(/; Max-Age=\d+; Expires=.*; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    }
    expect(await unsealSession(session.config, token)).toMatchObject({
      id,
      data: { big: 'x'.repeat(9000) },
    });

    const read = await server.request('/read', { headers: cookieHeader(jar) });
    expect(read.json).toEqual({ id, size: 9000 });
    expect(read.setCookies).toEqual([]);
    expect(session.rejections).toEqual([]);
  });

  it('rewritten to fit one cookie, the session deletes (Max-Age=0) every chunk the request carried', async () => {
    const { response, jar, id } = await nineKilobytes();
    const { count } = chunksOf(response);

    const rewritten = await server.request('/write?size=10', { headers: cookieHeader(jar) });
    const main = cookiesNamed(rewritten, 'h3');
    expect(main).toHaveLength(1);
    expect(main[0]!.value).toMatch(/^Fe26\.2\*/);
    expect(deletedNames(rewritten)).toEqual(chunkNames(count));

    const after = jarAfter(rewritten, jar);
    expect(Object.keys(after)).toEqual(['h3']);
    const read = await server.request('/read', { headers: cookieHeader(after) });
    expect(read.json).toEqual({ id, size: 10 });
  });

  it('rewritten into fewer chunks, the session deletes only the chunks past the new count', async () => {
    const { response, jar, id } = await nineKilobytes();
    const before = chunksOf(response).count;

    const rewritten = await server.request('/write?size=4000', { headers: cookieHeader(jar) });
    const after = chunksOf(rewritten).count;
    expect(after).toBeLessThan(before);
    expect(deletedNames(rewritten)).toEqual(chunkNames(before).slice(after));

    const read = await server.request('/read', {
      headers: cookieHeader(jarAfter(rewritten, jar)),
    });
    expect(read.json).toEqual({ id, size: 4000 });
  });

  it('clear deletes the main cookie and every chunk', async () => {
    const { response, jar } = await nineKilobytes();
    const { count } = chunksOf(response);
    const cleared = await server.request('/clear', { headers: cookieHeader(jar) });
    expect(cleared.status).toBe(200);
    expect(deletedNames(cleared).sort()).toEqual(['h3', ...chunkNames(count)].sort());
    expect(jarAfter(cleared, jar)).toEqual({});
  });

  /**
   * Ways a browser's chunked cookie can come back broken, applied to a good jar, and
   * whether the count still says which chunks the browser holds (then the fresh session's
   * cookie deletes them).
   */
  const broken: [string, (jar: Record<string, string>) => Record<string, string>, boolean][] = [
    [
      'a chunk missing',
      (jar) => {
        const rest = { ...jar };
        Reflect.deleteProperty(rest, 'h3.2');
        return rest;
      },
      true,
    ],
    ['a count of 0', (jar) => ({ ...jar, h3: '__chunked__0' }), false],
    ['a count of 101', (jar) => ({ ...jar, h3: '__chunked__101' }), false],
    ["a count of 'x'", (jar) => ({ ...jar, h3: '__chunked__x' }), false],
  ];

  it.each(broken)(
    'a chunked cookie with %s gives a fresh session, reported as ERR_COOKIE_INVALID, and no 500',
    async (_case, breakJar, countKnown) => {
      const { response, jar, id } = await nineKilobytes();
      const { count } = chunksOf(response);
      const read = await server.request('/read', { headers: cookieHeader(breakJar(jar)) });
      expect(read.status).toBe(200);
      const body = read.json as { id: string; size: number };
      expect(body.id).not.toBe(id);
      expect(body.size).toBe(0);
      expect(rejectionCodes(session.rejections)).toEqual([['cookie', 'ERR_COOKIE_INVALID']]);
      expect(server.errors).toEqual([]);
      // The fresh session's cookie is one plain token.
      expect(cookiesNamed(read, 'h3').map((cookie) => cookie.value)).toEqual([
        expect.stringMatching(/^Fe26\.2\*/) as unknown,
      ]);
      if (countKnown) expect(deletedNames(read)).toEqual(chunkNames(count));
    },
  );

  it('cookie.chunkMaxLength: 1000 makes chunks of at most 1000 characters, which read back', async () => {
    const response = await smallServer.request('/write?size=3000');
    const { count, values, token } = chunksOf(response);
    expect(count).toBeGreaterThanOrEqual(4);
    for (const value of values) expect(value.length).toBeLessThanOrEqual(1000);
    const id = (response.json as { id: string }).id;
    expect((await unsealSession(small.config, token)).id).toBe(id);

    const read = await smallServer.request('/read', { headers: cookieHeader(jarAfter(response)) });
    expect(read.json).toEqual({ id, size: 3000 });
    expect(small.rejections).toEqual([]);
  });
});
