/**
 * Adapter and engine details not covered by the host matrix: the token expiring with the
 * session, a handler's own cookie against the session's, and events of unknown hosts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventHandler, isSessionError, useSession, type AnyHTTPEvent } from '../../src/index.js';
import { toWebHandler } from '../../src/adapters/fetch.js';
import { toNodeListener } from '../../src/adapters/node.js';
import { Hono } from 'hono';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../src/adapters/hono.js';

const password = 'adapter-tests-password-0123456789-abcdef';

describe('token expiry with maxAge', () => {
  it('the token expires when the session does, as the cookie says', async () => {
    const config = { password, maxAge: 600 };
    const handler = toWebHandler(
      eventHandler(async (event) => {
        const session = await useSession(event, config);
        return { createdAt: session.createdAt };
      }),
    );
    const response = await handler(new Request('http://localhost/'));
    const { createdAt } = (await response.json()) as { createdAt: number };
    const [cookie] = response.headers.getSetCookie();
    const token = /^h3=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
    const expiration = Number(token.split('*')[5]);
    expect(expiration).toBe(createdAt + 600_000);
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie ?? '')?.[1] ?? '');
    // The cookie's Expires has whole seconds; the token has milliseconds.
    expect(Math.abs(expires - expiration)).toBeLessThan(1000);
  });
});

describe("a handler's own Set-Cookie for the session cookie", () => {
  const config = { password };
  const handler = eventHandler(async (event) => {
    await useSession(event, config);
    const headers = new Headers({ 'content-type': 'text/plain' });
    headers.append('set-cookie', 'h3=handler-value; Path=/');
    headers.append('set-cookie', 'other=1; Path=/');
    return new Response('ok', { headers });
  });

  it("fetch adapter: one h3 cookie, the handler's, and the other cookie kept", async () => {
    const response = await toWebHandler(handler)(new Request('http://localhost/'));
    const cookies = response.headers.getSetCookie();
    expect(cookies.filter((c) => c.startsWith('h3='))).toEqual(['h3=handler-value; Path=/']);
    expect(cookies).toContain('other=1; Path=/');
  });

  it('node adapter: the same over real HTTP', async () => {
    const server = createServer(toNodeListener(handler)).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      const cookies = response.headers.getSetCookie();
      expect(cookies.filter((c) => c.startsWith('h3='))).toEqual(['h3=handler-value; Path=/']);
      expect(cookies).toContain('other=1; Path=/');
      expect(await response.text()).toBe('ok');
    } finally {
      server.close();
    }
  });
});

describe("Hono: a handler's own Set-Cookie for the session cookie", () => {
  it("one h3 cookie, the handler's, and the other cookie kept, as on node and fetch", async () => {
    const app = new Hono<SessionEnv>();
    app.use(honoSession({ password }));
    app.get('/', (c) => {
      c.header('set-cookie', 'h3=handler-value; Path=/', { append: true });
      c.header('set-cookie', 'other=1; Path=/', { append: true });
      return c.text('ok');
    });
    const response = await app.request('http://localhost/');
    const cookies = response.headers.getSetCookie();
    expect(cookies.filter((c) => c.startsWith('h3='))).toEqual(['h3=handler-value; Path=/']);
    expect(cookies).toContain('other=1; Path=/');
  });
});

describe('events of unknown hosts', () => {
  it.each([
    {},
    null,
    'event',
    { node: {} },
    { node: { req: null, res: {} } },
    { req: {}, res: {} },
  ])('reject with ERR_EVENT_UNSUPPORTED (%j)', async (event) => {
    const pending = useSession(event as unknown as AnyHTTPEvent, { password });
    await expect(pending).rejects.toSatisfy((error: unknown) =>
      isSessionError(error, 'ERR_EVENT_UNSUPPORTED'),
    );
  });
});

describe('failures around the session', () => {
  it('an onInvalidToken observer that throws does not fail the request', async () => {
    const config = {
      password,
      onInvalidToken: () => {
        throw new Error('logging is broken');
      },
    };
    const handler = toWebHandler(
      eventHandler(async (event) => {
        const session = await useSession(event, config);
        return { id: session.id };
      }),
      { onError: () => undefined },
    );
    const response = await handler(
      new Request('http://localhost/', { headers: { cookie: 'h3=junk' } }),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fetch adapter: a 500 after clear() still deletes the cookie, as on node', async () => {
    const config = { password };
    const handler = toWebHandler(
      eventHandler(async (event) => {
        const session = await useSession(event, config);
        await session.clear();
        throw new Error('handler failed after sign-out');
      }),
      { onError: () => undefined },
    );
    const response = await handler(new Request('http://localhost/'));
    expect(response.status).toBe(500);
    const cookies = response.headers.getSetCookie().filter((c) => c.startsWith('h3='));
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/Max-Age=0/);
  });
});

describe('cookies browsers would drop', () => {
  const config = { password };
  const handler = toWebHandler(
    eventHandler(async (event) => {
      const session = await useSession(event, config);
      const size = Number(event.path.slice(1));
      try {
        await session.update({ blob: 'x'.repeat(size) });
        return { written: true };
      } catch (error) {
        return { written: false, code: isSessionError(error) ? error.code : 'other' };
      }
    }),
  );

  it('a session whose Set-Cookie would pass 4096 bytes is split into chunks, each within 4096 bytes', async () => {
    const response = await handler(new Request('http://localhost/4000'));
    expect(await response.json()).toEqual({ written: true });
    const cookies = response.headers.getSetCookie();
    expect(cookies.map((cookie) => cookie.slice(0, cookie.indexOf('=')))).toEqual([
      'h3',
      'h3.1',
      'h3.2',
    ]);
    expect(cookies[0]).toMatch(/^h3=__chunked__2;/);
    for (const cookie of cookies) expect(cookie.length).toBeLessThanOrEqual(4096);
  });

  it('a session whose token would pass 32 KB is refused with ERR_COOKIE_TOO_LARGE', async () => {
    const response = await handler(new Request('http://localhost/30000'));
    expect(await response.json()).toEqual({ written: false, code: 'ERR_COOKIE_TOO_LARGE' });
    // The cookie written for the new session (before the update) is the one that stays.
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]!.length).toBeLessThanOrEqual(4096);
  });

  it('a session just under the limit is written, and its header fits', async () => {
    const response = await handler(new Request('http://localhost/2500'));
    expect(await response.json()).toEqual({ written: true });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]!.length).toBeGreaterThan(3000);
    expect(cookies[0]!.length).toBeLessThanOrEqual(4096);
  });
});
