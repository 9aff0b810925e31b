/**
 * `idleTimeout`, h3 2.x's sliding lifetime. First on the engine with an injected clock and
 * an in-memory transport, so whole days of activity take no time: renewal past half the
 * window (and not before), expiry after it, `maxAge` as an absolute cap, the header
 * session that cannot slide, and the cookie's (and token's) end at the earlier of both
 * limits. Then over real HTTP on every host with tokens sealed to have been last seen a
 * given time ago, so the same rules are shown on the wall clock without sleeping; there a
 * read made after the response head went out (a streamed response) must still give the
 * session, since the renewal it cannot write is only a courtesy.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSetCookie } from 'cookie';
import type { CookieIdentity } from '../../../src/cookie/set-cookie.js';
import { replaceSetCookie } from '../../../src/cookie/set-cookie.js';
import { seal, unseal } from '../../../src/iron/index.js';
import { iron } from '../../../src/iron/instance.js';
import { createRequestContext } from '../../../src/session/request-state.js';
import { createSessionEngine } from '../../../src/session/session-engine.js';
import type { SessionTransport } from '../../../src/session/transport.js';
import { getSession, unsealSession, type SessionConfig } from '../../../src/index.js';
import { secret } from '../matrix/helpers.js';
import {
  cookieHeader,
  cookiesNamed,
  hostSession,
  itWhen,
  onlyCookie,
  outcomeOf,
  recorded,
  rejectionCodes,
  type Recorded,
} from './fixtures.js';
import { hosts, type DropInServer } from './hosts.js';

const SECOND = 1000;

/** A request over an in-memory transport: request headers in, Set-Cookie headers out. */
function memoryRequest(headers: Record<string, string> = {}) {
  let cookies: string[] = [];
  const transport: SessionTransport = {
    getRequestHeader: (name) => headers[name],
    setCookie(header: string, identity: CookieIdentity) {
      cookies = replaceSetCookie(cookies, header, identity);
    },
    headersSent: () => false,
  };
  return { request: createRequestContext(transport), setCookies: () => cookies };
}

/**
 * An engine whose clock starts at the wall clock and moves only when the test says so.
 * It only moves forward: iron checks a token's own expiry against the wall clock, and a
 * token sealed on this clock expires no earlier than the wall clock's.
 */
function engineOnClock() {
  let now = Date.now();
  const engine = createSessionEngine({ iron, now: () => now });
  return {
    engine,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** The `h3` token of a response's Set-Cookie headers, or undefined when none was set. */
function tokenIn(setCookies: readonly string[]): string | undefined {
  const header = setCookies.find((line) => line.startsWith('h3='));
  return header === undefined ? undefined : parseSetCookie(header).value;
}

interface Sealed {
  id: string;
  createdAt: number;
  lastSeenAt?: number;
  data: Record<string, unknown>;
}

/** What a token holds, read with iron alone (no session rules applied). */
async function payloadOf(config: SessionConfig, token: string): Promise<Sealed> {
  return (await unseal(token, config.password, config.seal)) as Sealed;
}

describe('idleTimeout on the engine clock', () => {
  const IDLE = 1800;
  const WINDOW = IDLE * SECOND;

  function setup(extra: Partial<SessionConfig> = {}) {
    const clock = engineOnClock();
    const { config, rejections } = recorded({ password: secret(), idleTimeout: IDLE, ...extra });
    /** A request carrying `token` in the cookie: getSession, then useSession. */
    const readWithCookie = async (token: string) => {
      const { request, setCookies } = memoryRequest({ cookie: `h3=${token}` });
      const session = await clock.engine.getSession(request, config);
      await clock.engine.useSession(request, config);
      return { session, setCookies: setCookies() };
    };
    const signIn = async () => {
      const { request, setCookies } = memoryRequest();
      const session = await clock.engine.updateSession(request, config, { user: 'ada' });
      return { session, setCookies: setCookies(), token: tokenIn(setCookies())! };
    };
    return { ...clock, config, rejections, readWithCookie, signIn };
  }

  it('a read until half the window writes nothing; the first read past half reseals, moving lastSeenAt to now and keeping id and createdAt', async () => {
    const { advance, now, config, readWithCookie, signIn, rejections } = setup();
    const start = now();
    const signedIn = await signIn();
    expect(await payloadOf(config, signedIn.token)).toMatchObject({
      createdAt: start,
      lastSeenAt: start,
    });

    advance(WINDOW / 4);
    expect((await readWithCookie(signedIn.token)).setCookies).toEqual([]);
    advance(WINDOW / 4);
    const atHalf = await readWithCookie(signedIn.token);
    expect(atHalf.session.id).toBe(signedIn.session.id);
    expect(atHalf.setCookies).toEqual([]);

    advance(1);
    const pastHalf = await readWithCookie(signedIn.token);
    expect(pastHalf.session.id).toBe(signedIn.session.id);
    // getSession and useSession in one request share one renewal: one Set-Cookie.
    expect(pastHalf.setCookies).toHaveLength(1);
    expect(await payloadOf(config, tokenIn(pastHalf.setCookies)!)).toEqual({
      id: signedIn.session.id,
      createdAt: start,
      lastSeenAt: start + WINDOW / 2 + 1,
      data: { user: 'ada' },
      purpose: 'h3',
    });
    expect(rejections).toEqual([]);
  });

  it('an active user is never signed out: a read every 0.6 window keeps the session for ten windows', async () => {
    const { advance, readWithCookie, signIn, rejections } = setup();
    const signedIn = await signIn();
    let token = signedIn.token;
    for (let read = 1; read <= 17; read++) {
      advance(0.6 * WINDOW);
      const { session, setCookies } = await readWithCookie(token);
      expect(session.id, `read ${read}`).toBe(signedIn.session.id);
      expect(session.data).toEqual({ user: 'ada' });
      token = tokenIn(setCookies) ?? token;
    }
    expect(rejections).toEqual([]);
  });

  it('idle for the whole window the session still opens; idle one millisecond longer it expires (ERR_SESSION_EXPIRED through onInvalidToken) and a fresh session starts', async () => {
    const { advance, readWithCookie, signIn, rejections } = setup();
    const signedIn = await signIn();

    advance(WINDOW);
    expect((await readWithCookie(signedIn.token)).session.id).toBe(signedIn.session.id);
    expect(rejections).toEqual([]);

    advance(1);
    const expired = await readWithCookie(signedIn.token);
    expect(expired.session.id).not.toBe(signedIn.session.id);
    expect(expired.session.data).toEqual({});
    // getSession reported it; useSession then wrote the fresh session.
    expect(rejectionCodes(rejections)).toEqual([['cookie', 'ERR_SESSION_EXPIRED']]);
    expect(rejections[0]!.error.message).toMatch(/idle/);
    expect(expired.setCookies).toHaveLength(1);
  });

  it('maxAge stays an absolute cap: a session read every 0.6 window still ends at createdAt + maxAge', async () => {
    const { advance, readWithCookie, signIn, rejections } = setup({ maxAge: 2 * IDLE });
    const signedIn = await signIn();
    let token = signedIn.token;
    // Reads at 0.6, 1.2 and 1.8 windows: within maxAge (2 windows), each renewing.
    for (let read = 1; read <= 3; read++) {
      advance(0.6 * WINDOW);
      const { session, setCookies } = await readWithCookie(token);
      expect(session.id).toBe(signedIn.session.id);
      token = tokenIn(setCookies) ?? token;
    }
    expect(rejections).toEqual([]);
    // 2.4 windows after creation, last seen 0.6 window ago: past maxAge.
    advance(0.6 * WINDOW);
    const capped = await readWithCookie(token);
    expect(capped.session.id).not.toBe(signedIn.session.id);
    expect(rejectionCodes(rejections)).toEqual([['cookie', 'ERR_SESSION_EXPIRED']]);
  });

  it('a session from the session header never slides: no cookie past half the window, and it expires one window after its seal however often it is read', async () => {
    const { advance, engine, config, signIn, rejections } = setup();
    const signedIn = await signIn();
    const readWithHeader = async () => {
      const { request, setCookies } = memoryRequest({ 'x-h3-session': signedIn.token });
      const session = await engine.getSession(request, config);
      await engine.useSession(request, config);
      return { session, setCookies: setCookies() };
    };

    advance(0.75 * WINDOW);
    const read = await readWithHeader();
    expect(read.session.id).toBe(signedIn.session.id);
    expect(read.setCookies).toEqual([]);

    advance(0.26 * WINDOW);
    const expired = await readWithHeader();
    expect(expired.session.id).not.toBe(signedIn.session.id);
    expect(rejectionCodes(rejections)).toEqual([['header', 'ERR_SESSION_EXPIRED']]);
  });

  it('the cookie (Max-Age, Expires) and the token end at min(createdAt + maxAge, lastSeenAt + idleTimeout)', async () => {
    const { advance, now, config, readWithCookie, signIn } = setup({ maxAge: 2 * IDLE });
    const start = now();
    const expectEnd = (setCookies: readonly string[], end: number) => {
      const cookie = parseSetCookie(setCookies.find((line) => line.startsWith('h3='))!);
      expect(cookie.maxAge).toBe(Math.floor((end - now()) / SECOND));
      expect(cookie.expires?.getTime()).toBe(Math.floor(end / SECOND) * SECOND);
      // The token's own iron expiry (its sixth field) is the same instant.
      expect(tokenIn(setCookies)!.split('*')[5]).toBe(String(end));
    };

    // Signed in: the idle end comes first.
    const signedIn = await signIn();
    expectEnd(signedIn.setCookies, start + WINDOW);

    // Renewed at 0.6 window: idle end at 1.6 windows, before maxAge (2 windows).
    advance(0.6 * WINDOW);
    const renewed = await readWithCookie(signedIn.token);
    expectEnd(renewed.setCookies, start + 1.6 * WINDOW);

    // Renewed at 1.2 windows: the idle end (2.2 windows) is past maxAge, which now decides.
    advance(0.6 * WINDOW);
    const capped = await readWithCookie(tokenIn(renewed.setCookies)!);
    expectEnd(capped.setCookies, start + 2 * WINDOW);
    expect((await payloadOf(config, tokenIn(capped.setCookies)!)).lastSeenAt).toBe(now());
  });
});

describe.each(hosts)('idleTimeout over HTTP on $name', (host) => {
  const IDLE = 600;
  const MAX_AGE = 3600;
  const WINDOW = IDLE * SECOND;
  let session: Recorded;
  let server: DropInServer;

  beforeAll(async () => {
    session = recorded({ password: secret(), idleTimeout: IDLE, maxAge: MAX_AGE });
    server = await host.start(session.config, {
      '/read': async (exchange) => {
        const manager = await hostSession(exchange, session.config);
        return { id: manager.id, createdAt: manager.createdAt, data: { ...manager.data } };
      },
      // A read after the response head went out, as in a streamed response.
      '/read-streaming': async (exchange) => {
        const stream = exchange.stream!;
        stream.head();
        const read = await outcomeOf(() => getSession(exchange.event!, session.config));
        stream.end(JSON.stringify(read.ok ? { id: read.value.id } : { code: read.code }));
        return undefined;
      },
    });
  });

  afterAll(() => server.close());

  beforeEach(() => {
    session.rejections.length = 0;
  });

  /**
   * A token as the server would have sealed it, created and last seen the given time ago.
   * It carries no iron expiry, so what decides is the session's own times.
   */
  const tokenLastSeen = (createdAgo: number, lastSeenAgo: number, id = randomUUID()) => {
    const now = Date.now();
    const payload = {
      id,
      createdAt: now - createdAgo,
      lastSeenAt: now - lastSeenAgo,
      data: { n: 1 },
    };
    return seal(payload, session.config.password).then((token) => ({ token, payload }));
  };

  it('last seen a quarter window ago: the same session, and no Set-Cookie', async () => {
    const { token, payload } = await tokenLastSeen(WINDOW, WINDOW / 4);
    const response = await server.request('/read', { headers: cookieHeader({ h3: token }) });
    expect(response.json).toEqual({ id: payload.id, createdAt: payload.createdAt, data: { n: 1 } });
    expect(response.setCookies).toEqual([]);
    expect(session.rejections).toEqual([]);
  });

  it('last seen 0.75 window ago: the same session, resealed with lastSeenAt now and the cookie ending one window from now', async () => {
    const { token, payload } = await tokenLastSeen(WINDOW, 0.75 * WINDOW);
    const before = Date.now();
    const response = await server.request('/read', { headers: cookieHeader({ h3: token }) });
    const after = Date.now();
    expect(response.json).toEqual({ id: payload.id, createdAt: payload.createdAt, data: { n: 1 } });
    const cookie = onlyCookie(response, 'h3');
    const opened = await unsealSession(session.config, cookie.value);
    expect(opened).toMatchObject({ id: payload.id, createdAt: payload.createdAt, data: { n: 1 } });
    expect(opened.lastSeenAt).toBeGreaterThanOrEqual(before);
    expect(opened.lastSeenAt).toBeLessThanOrEqual(after);
    expect(cookie.expires?.getTime()).toBe(
      Math.floor((opened.lastSeenAt! + WINDOW) / SECOND) * SECOND,
    );
    expect(session.rejections).toEqual([]);
  });

  it('last seen 1.5 windows ago: refused with ERR_SESSION_EXPIRED and a fresh session, never a 500', async () => {
    const { token, payload } = await tokenLastSeen(2 * WINDOW, 1.5 * WINDOW);
    const response = await server.request('/read', { headers: cookieHeader({ h3: token }) });
    expect(response.status).toBe(200);
    const body = response.json as { id: string; data: object };
    expect(body.id).not.toBe(payload.id);
    expect(body.data).toEqual({});
    expect(rejectionCodes(session.rejections)).toEqual([['cookie', 'ERR_SESSION_EXPIRED']]);
    expect(server.errors).toEqual([]);
  });

  it('maxAge caps an active session: created past maxAge, last seen seconds ago, it is refused', async () => {
    const { token, payload } = await tokenLastSeen(MAX_AGE * SECOND + 5 * SECOND, 10 * SECOND);
    const response = await server.request('/read', { headers: cookieHeader({ h3: token }) });
    expect((response.json as { id: string }).id).not.toBe(payload.id);
    expect(rejectionCodes(session.rejections)).toEqual([['cookie', 'ERR_SESSION_EXPIRED']]);
  });

  it('near the end of maxAge a renewal ends the cookie at createdAt + maxAge, not one window on', async () => {
    const { token, payload } = await tokenLastSeen(MAX_AGE * SECOND - 300 * SECOND, 0.75 * WINDOW);
    const response = await server.request('/read', { headers: cookieHeader({ h3: token }) });
    const cookie = onlyCookie(response, 'h3');
    expect(cookie.expires?.getTime()).toBe(
      Math.floor((payload.createdAt + MAX_AGE * SECOND) / SECOND) * SECOND,
    );
  });

  itWhen(host.name === 'node' || host.name === 'h3-v1')(
    'on a response already streaming, a read past half the window still gives the session: the renewal it cannot write does not fail the read',
    async () => {
      const { token, payload } = await tokenLastSeen(WINDOW, 0.75 * WINDOW);
      const response = await server.request('/read-streaming', {
        headers: cookieHeader({ h3: token }),
      });
      expect(response.json).toEqual({ id: payload.id });
      expect(session.rejections).toEqual([]);
    },
  );

  it('a session from the session header past half the window is read but never resealed into a cookie', async () => {
    const { token, payload } = await tokenLastSeen(WINDOW, 0.75 * WINDOW);
    const response = await server.request('/read', { headers: { 'x-h3-session': token } });
    expect((response.json as { id: string }).id).toBe(payload.id);
    expect(cookiesNamed(response, 'h3')).toEqual([]);
    expect(session.rejections).toEqual([]);
  });
});
