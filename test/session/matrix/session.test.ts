/**
 * The session behaviour every host must show, written once and run over real HTTP against every
 * host (h3's describeMatrix): node, fetch, h3 1.x, h3 2.x, Express, Hono.
 *
 * Middleware hosts (Express, Hono) expose the session only as the manager their middleware
 * made with useSession: the routes needing getSession alone or sealSession (get-only,
 * concurrent, concurrent-mixed, seal, short-direct) do not apply there and are not
 * registered for those hosts (a matrix of what applies, not skipped tests).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  getSession,
  isSessionError,
  sealSession,
  unsealSession,
  type SessionConfig,
  type SessionErrorCode,
} from '../../../src/index.js';
import { unseal } from '../../../src/iron/index.js';
import { hosts, type HostServer } from './hosts.js';

/** `it` / `describe` where a case applies to the host, nothing where it does not. */
const itWhen = (applies: boolean): typeof it =>
  applies ? it : ((() => undefined) as unknown as typeof it);
const describeWhen = (applies: boolean): typeof describe =>
  applies ? describe : ((() => undefined) as unknown as typeof describe);
import {
  aSession,
  attributeNames,
  cookieHeader,
  cookiesNamed,
  makeScenarios,
  MAX_AGE,
  oneCookie,
  rawCookie,
  sealSessionToken,
  secret,
  tamper,
  tokenFields,
  UUID,
  type SessionShape,
} from './helpers.js';
import {
  codeOf,
  expectLate,
  returnRoutes,
  routes,
  SHORT_PASSWORD_CONFIG,
  type View,
} from './routes.js';

type Scenarios = ReturnType<typeof makeScenarios>;
type ScenarioName = keyof Scenarios;
type Running = { [K in ScenarioName]: Scenarios[K] & { readonly server: HostServer } };

interface Twice {
  readonly before: View;
  readonly after: View;
}

describe.each(hosts)('session matrix: $name', (host) => {
  const scenarios = makeScenarios();
  const running = {} as Running;
  let shortServer: HostServer;
  const eventOnly = host.kind !== 'event';

  beforeAll(async () => {
    const table = host.nativeReturn ? { ...routes, ...returnRoutes } : routes;
    await Promise.all(
      (Object.keys(scenarios) as ScenarioName[]).map(async (name) => {
        const server = await host.start(scenarios[name].config, table);
        Object.assign(running, { [name]: { ...scenarios[name], server } });
      }),
    );
    shortServer = await host.start(SHORT_PASSWORD_CONFIG, routes);
  });

  afterAll(async () => {
    await Promise.all([
      ...Object.values(running).map((entry) => entry.server.close()),
      shortServer.close(),
    ]);
  });

  beforeEach(() => {
    for (const entry of Object.values(running)) {
      entry.rejections.length = 0;
      entry.server.errors.length = 0;
    }
    shortServer.errors.length = 0;
  });

  /** A valid cookie token of a scenario for `session`. */
  const tokenOf = (name: ScenarioName, session: SessionShape): Promise<string> =>
    sealSessionToken(running[name].sealWith, session);

  const unsealWith = (name: ScenarioName, token: string): Promise<SessionShape> =>
    unsealSession(undefined, running[name].config, token);

  describe('defaults', () => {
    it('a new session gets one cookie: h3, Path=/, Secure, HttpOnly, SameSite=Lax', async () => {
      const response = await running.defaults.server.request('/read');
      expect(response.status).toBe(200);
      const body = response.json as View;
      expect(body.id).toMatch(UUID);
      expect(body.data).toEqual({});
      const cookie = oneCookie(response, 'h3');
      expect(cookie).toMatchObject({ path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
      expect(cookie.domain).toBeUndefined();
      expect(cookie.maxAge).toBeUndefined();
      expect(cookie.expires).toBeUndefined();
      expect(cookie.value.startsWith('Fe26.2**')).toBe(true);
      const sealed = await unsealWith('defaults', cookie.value);
      expect(sealed).toEqual({ id: body.id, createdAt: body.createdAt, data: {} });
    });

    it('seals { id, createdAt, data } (what h3 seals), then the purpose', async () => {
      const response = await running.defaults.server.request('/update?patch={"user":"vinxi"}');
      const raw = await unseal(oneCookie(response).value, running.defaults.config.password);
      expect(Object.keys(raw as object)).toEqual(['id', 'createdAt', 'data', 'purpose']);
      expect(raw).toMatchObject({ data: { user: 'vinxi' }, purpose: 'h3' });
    });

    it('keeps the id on the next request, and an unchanged read writes no cookie', async () => {
      const first = await running.defaults.server.request('/read');
      const { id } = first.json as View;
      const token = oneCookie(first).value;
      const second = await running.defaults.server.request('/read', {
        headers: cookieHeader('h3', token),
      });
      expect(second.status).toBe(200);
      expect((second.json as View).id).toBe(id);
      expect(second.setCookies).toEqual([]);
      expect(running.defaults.rejections).toEqual([]);
    });

    itWhen(!eventOnly)('getSession alone writes nothing for a new session', async () => {
      const response = await running.defaults.server.request('/get-only');
      expect(response.status).toBe(200);
      expect((response.json as View).id).toMatch(UUID);
      expect(response.setCookies).toEqual([]);
    });

    itWhen(!eventOnly)('getSession alone reads an existing session', async () => {
      const session = aSession({ role: 'admin' });
      const response = await running.defaults.server.request('/get-only', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      expect(response.json).toEqual(session);
      expect(response.setCookies).toEqual([]);
    });

    it('a cookie for another name is not read', async () => {
      const token = await tokenOf('defaults', aSession());
      const response = await running.defaults.server.request('/read', {
        headers: cookieHeader('other', token),
      });
      expect((response.json as View).data).toEqual({});
      expect(oneCookie(response).value).not.toBe(token);
    });

    it('reads the first of two cookies with the session name', async () => {
      const first = aSession({ which: 'first' });
      const second = aSession({ which: 'second' });
      const response = await running.defaults.server.request('/read', {
        headers: {
          cookie: `h3=${await tokenOf('defaults', first)}; h3=${await tokenOf('defaults', second)}`,
        },
      });
      expect((response.json as View).id).toBe(first.id);
    });
  });

  describe('custom name and cookie attributes', () => {
    it('writes the configured name and attributes', async () => {
      const response = await running.named.server.request('/read');
      expect(cookiesNamed(response, 'h3')).toEqual([]);
      const header = rawCookie(response, 'SID');
      const cookie = oneCookie(response, 'SID');
      expect(cookie).toMatchObject({ path: '/app', domain: 'example.test', sameSite: 'strict' });
      const attributes = attributeNames(header);
      expect(attributes).not.toContain('secure');
      expect(attributes).not.toContain('httponly');
    });

    it('reads its own cookie name, ignores h3', async () => {
      const session = aSession({ who: 'named' });
      const token = await tokenOf('named', session);
      const own = await running.named.server.request('/read', {
        headers: cookieHeader('SID', token),
      });
      expect((own.json as View).id).toBe(session.id);
      expect(own.setCookies).toEqual([]);
      const other = await running.named.server.request('/read', {
        headers: cookieHeader('h3', token),
      });
      expect((other.json as View).id).not.toBe(session.id);
    });

    it('derives the default header from the name: x-sid-session', async () => {
      const session = aSession();
      const response = await running.named.server.request('/read', {
        headers: { 'x-sid-session': await tokenOf('named', session) },
      });
      expect((response.json as View).id).toBe(session.id);
    });
  });

  describe('cookie: false', () => {
    it('never writes a cookie, for a new session or an update', async () => {
      const read = await running.noCookie.server.request('/read');
      expect(read.status).toBe(200);
      expect(read.setCookies).toEqual([]);
      const update = await running.noCookie.server.request('/update?patch={"a":1}');
      expect(update.status).toBe(200);
      expect((update.json as View).data).toEqual({ a: 1 });
      expect(update.setCookies).toEqual([]);
      const cleared = await running.noCookie.server.request('/clear-then-read');
      expect(cleared.setCookies).toEqual([]);
    });

    itWhen(!eventOnly)('the session still travels in the header', async () => {
      const session = aSession({ n: 1 });
      const token = await tokenOf('noCookie', session);
      const sealed = await running.noCookie.server.request('/seal', {
        headers: { 'x-h3-session': token },
      });
      const body = sealed.json as { token: string; id: string };
      expect(body.id).toBe(session.id);
      const again = await running.noCookie.server.request('/read', {
        headers: { 'x-h3-session': body.token },
      });
      expect(again.json).toEqual(session);
      expect(again.setCookies).toEqual([]);
    });
  });

  describe('session header', () => {
    it('reads x-h3-session, before the cookie', async () => {
      const fromHeader = aSession({ from: 'header' });
      const fromCookie = aSession({ from: 'cookie' });
      const response = await running.defaults.server.request('/read', {
        headers: {
          'x-h3-session': await tokenOf('defaults', fromHeader),
          ...cookieHeader('h3', await tokenOf('defaults', fromCookie)),
        },
      });
      expect(response.json).toEqual(fromHeader);
      // A session that came in the header is not "unchanged but unwritten": nothing to write.
      expect(response.setCookies).toEqual([]);
    });

    it('an invalid header falls back to a valid cookie, and the reason is reported', async () => {
      const fromCookie = aSession({ from: 'cookie' });
      const response = await running.defaults.server.request('/read', {
        headers: {
          'x-h3-session': tamper(await tokenOf('defaults', aSession())),
          ...cookieHeader('h3', await tokenOf('defaults', fromCookie)),
        },
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual(fromCookie);
      expect(response.setCookies).toEqual([]);
      expect(running.defaults.rejections.map((r) => [r.source, r.error.code, r.name])).toEqual([
        ['header', 'ERR_SEAL_UNSEAL_FAILED', 'h3'],
      ]);
    });

    it('a custom header name is read, lower-cased; the default one is not', async () => {
      const session = aSession();
      const token = await tokenOf('customHeader', session);
      const custom = await running.customHeader.server.request('/read', {
        headers: { 'X-Auth-Token': token },
      });
      expect((custom.json as View).id).toBe(session.id);
      const standard = await running.customHeader.server.request('/read', {
        headers: { 'x-h3-session': token },
      });
      expect((standard.json as View).id).not.toBe(session.id);
      expect(running.customHeader.rejections).toEqual([]);
    });

    it('sessionHeader: false ignores the header, still reads the cookie', async () => {
      const session = aSession();
      const token = await tokenOf('noHeader', session);
      const header = await running.noHeader.server.request('/read', {
        headers: { 'x-h3-session': token },
      });
      expect((header.json as View).id).not.toBe(session.id);
      expect(running.noHeader.rejections).toEqual([]);
      const cookie = await running.noHeader.server.request('/read', {
        headers: cookieHeader('h3', token),
      });
      expect((cookie.json as View).id).toBe(session.id);
    });
  });

  describe('unusable tokens give a fresh session, status 200, and a report', () => {
    interface BadToken {
      readonly label: string;
      readonly scenario: ScenarioName;
      readonly code: SessionErrorCode;
      readonly make: () => Promise<{ token: string; id?: string }>;
    }
    const bad: readonly BadToken[] = [
      {
        label: 'malformed',
        scenario: 'defaults',
        code: 'ERR_SEAL_INVALID',
        make: () => Promise.resolve({ token: 'not-a-token' }),
      },
      {
        label: 'malformed Fe26.2 shape',
        scenario: 'defaults',
        code: 'ERR_SEAL_INVALID',
        make: () => Promise.resolve({ token: 'Fe26.2**a*b*c*d*e*f' }),
      },
      {
        label: 'tampered',
        scenario: 'defaults',
        code: 'ERR_SEAL_UNSEAL_FAILED',
        async make() {
          const session = aSession();
          return { token: tamper(await tokenOf('defaults', session)), id: session.id };
        },
      },
      {
        label: 'sealed with another password',
        scenario: 'defaults',
        code: 'ERR_SEAL_UNSEAL_FAILED',
        async make() {
          const session = aSession();
          return { token: await sealSessionToken(secret(), session), id: session.id };
        },
      },
      {
        label: 'iron-expired',
        scenario: 'defaults',
        code: 'ERR_SEAL_EXPIRED',
        async make() {
          const session = aSession();
          // Sealed "10 minutes ago" with a 1 s ttl: past iron's 60 s skew.
          const token = await sealSessionToken(running.defaults.sealWith, session, {
            ttl: 1000,
            localtimeOffsetMsec: -600_000,
          });
          return { token, id: session.id };
        },
      },
      {
        label: 'older than maxAge',
        scenario: 'maxAge',
        code: 'ERR_SESSION_EXPIRED',
        async make() {
          const session = aSession({}, Date.now() - 2 * MAX_AGE * 1000);
          return { token: await tokenOf('maxAge', session), id: session.id };
        },
      },
      {
        label: 'sealed under a password id not in the map',
        scenario: 'rotation',
        code: 'ERR_PASSWORD_NOT_FOUND',
        async make() {
          const session = aSession();
          const token = await sealSessionToken({ id: '7', secret: secret() }, session);
          return { token, id: session.id };
        },
      },
      {
        label: 'oversized',
        scenario: 'defaults',
        code: 'ERR_COOKIE_TOO_LARGE',
        make: () => Promise.resolve({ token: `Fe26.2**${'a'.repeat(40_000)}` }),
      },
      {
        label: 'authentic but not a session',
        scenario: 'defaults',
        code: 'ERR_COOKIE_INVALID',
        async make() {
          const token = await sealSessionToken(running.defaults.sealWith, {
            id: '',
            createdAt: Date.now(),
            data: {},
          });
          return { token };
        },
      },
    ];

    it.each(bad)('$label cookie → $code', async ({ scenario, code, make }) => {
      const { token, id } = await make();
      const entry = running[scenario];
      const response = await entry.server.request('/read', { headers: cookieHeader('h3', token) });
      expect(response.status).toBe(200);
      const body = response.json as View;
      expect(body.id).toMatch(UUID);
      if (id !== undefined) expect(body.id).not.toBe(id);
      expect(body.data).toEqual({});
      // The fresh session is written (by useSession), replacing the bad cookie.
      const fresh = await unsealWith(scenario, oneCookie(response).value);
      expect(fresh.id).toBe(body.id);
      expect(entry.rejections).toHaveLength(1);
      const [rejection] = entry.rejections;
      expect(rejection!.source).toBe('cookie');
      expect(rejection!.error.code).toBe(code);
      expect(isSessionError(rejection!.error)).toBe(true);
      expect(entry.server.errors).toEqual([]);
    });

    it.each(bad)('$label header → $code', async ({ scenario, code, make }) => {
      const { token, id } = await make();
      const entry = running[scenario];
      const response = await entry.server.request('/read', {
        headers: { 'x-h3-session': token },
      });
      expect(response.status).toBe(200);
      const body = response.json as View;
      if (id !== undefined) expect(body.id).not.toBe(id);
      expect(entry.rejections.map((r) => [r.source, r.error.code])).toEqual([['header', code]]);
    });
  });

  describeWhen(!eventOnly)('concurrent reads', () => {
    it('share one object for a valid cookie', async () => {
      const session = aSession({ n: 1 });
      const response = await running.defaults.server.request('/concurrent', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      const body = response.json as { same: boolean; ids: string[] };
      expect(body.same).toBe(true);
      expect(body.ids).toEqual(Array(5).fill(session.id));
      expect(response.setCookies).toEqual([]);
    });

    it('share one unseal: a bad token is reported once, one fresh session', async () => {
      const response = await running.defaults.server.request('/concurrent', {
        headers: cookieHeader('h3', tamper(await tokenOf('defaults', aSession()))),
      });
      const body = response.json as { same: boolean; ids: string[] };
      expect(body.same).toBe(true);
      expect(new Set(body.ids).size).toBe(1);
      expect(running.defaults.rejections).toHaveLength(1);
    });

    it('useSession and getSession at once see one session', async () => {
      const response = await running.defaults.server.request('/concurrent-mixed');
      const body = response.json as { ids: string[]; sameObject: boolean };
      expect(new Set(body.ids).size).toBe(1);
      expect(body.sameObject).toBe(true);
      expect((await unsealWith('defaults', oneCookie(response).value)).id).toBe(body.ids[0]);
    });
  });

  describe('updateSession', () => {
    it('an object is shallow-merged, and the cookie carries the result', async () => {
      const session = aSession({ a: { x: 1 }, b: 1 });
      const response = await running.defaults.server.request(
        `/update?patch=${encodeURIComponent(JSON.stringify({ a: { y: 2 }, c: 3 }))}`,
        { headers: cookieHeader('h3', await tokenOf('defaults', session)) },
      );
      const expected = { a: { y: 2 }, b: 1, c: 3 };
      expect(response.json).toEqual({ ...session, data: expected });
      const sealed = await unsealWith('defaults', oneCookie(response).value);
      expect(sealed).toEqual({ ...session, data: expected });
    });

    it('a function may mutate (the counter grows over requests, the id stays)', async () => {
      let cookie: Record<string, string> = {};
      let id: string | undefined;
      for (const expected of [1, 2, 3]) {
        const response = await running.defaults.server.request('/inc', { headers: cookie });
        const body = response.json as View;
        expect(body.data).toEqual({ count: expected });
        id ??= body.id;
        expect(body.id).toBe(id);
        cookie = cookieHeader('h3', oneCookie(response).value);
      }
    });

    it('a function may return a partial', async () => {
      const session = aSession({ n: 21 });
      const response = await running.defaults.server.request('/update-fn-return', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      expect((response.json as View).data).toEqual({ n: 21, doubled: 42 });
      expect((await unsealWith('defaults', oneCookie(response).value)).data).toEqual({
        n: 21,
        doubled: 42,
      });
    });

    it('a function may mutate and return a partial', async () => {
      const session = aSession({ n: 1 });
      const response = await running.defaults.server.request('/update-fn-both', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      expect((response.json as View).data).toEqual({ n: 2, touched: true });
      expect((await unsealWith('defaults', oneCookie(response).value)).data).toEqual({
        n: 2,
        touched: true,
      });
    });

    it('many updates in one request write exactly one Set-Cookie', async () => {
      for (const headers of [{}, cookieHeader('h3', await tokenOf('defaults', aSession()))]) {
        const response = await running.defaults.server.request('/update-twice', { headers });
        const body = response.json as View;
        expect(body.data).toEqual({ a: 1, b: 2, c: 3, d: 4 });
        expect(response.setCookies).toHaveLength(1);
        const sealed = await unsealWith('defaults', oneCookie(response).value);
        expect(sealed).toEqual(body);
      }
    });

    it('parallel updates write one Set-Cookie holding every patch', async () => {
      const response = await running.defaults.server.request('/update-parallel');
      expect(response.setCookies).toHaveLength(1);
      const sealed = await unsealWith('defaults', oneCookie(response).value);
      expect(sealed.data).toEqual({ p1: 1, p2: 2, p3: 3 });
    });

    it('one Set-Cookie per (name, domain, path) with a custom cookie too', async () => {
      const response = await running.named.server.request('/update-twice');
      expect(response.setCookies).toHaveLength(1);
      expect(oneCookie(response, 'SID')).toMatchObject({ path: '/app', domain: 'example.test' });
    });
  });

  describe('maxAge', () => {
    it('a new session cookie expires at createdAt + maxAge, with a matching Max-Age', async () => {
      const response = await running.maxAge.server.request('/read');
      const body = response.json as Required<View>;
      const cookie = oneCookie(response);
      expect(cookie.expires).toBeInstanceOf(Date);
      // Expires has one-second resolution.
      expect(Math.abs(cookie.expires!.getTime() - (body.createdAt + MAX_AGE * 1000))).toBeLessThan(
        1000,
      );
      expect(cookie.maxAge).toBeGreaterThanOrEqual(MAX_AGE - 2);
      expect(cookie.maxAge).toBeLessThanOrEqual(MAX_AGE);
    });

    it('an update keeps the expiry counted from createdAt, not from now', async () => {
      const createdAt = Date.now() - (MAX_AGE / 2) * 1000;
      const session = aSession({ n: 1 }, createdAt);
      const response = await running.maxAge.server.request('/inc', {
        headers: cookieHeader('h3', await tokenOf('maxAge', session)),
      });
      expect((response.json as View).id).toBe(session.id);
      const cookie = oneCookie(response);
      const expiresAt = createdAt + MAX_AGE * 1000;
      expect(Math.abs(cookie.expires!.getTime() - expiresAt)).toBeLessThan(1000);
      // Max-Age and Expires name the same moment.
      expect(Math.abs(Date.now() + cookie.maxAge! * 1000 - expiresAt)).toBeLessThan(3000);
      expect(cookie.maxAge).toBeLessThan(MAX_AGE / 2 + 2);
      // iron's own expiration (ttl = maxAge from sealing) never ends before the cookie does.
      const expiration = Number(tokenFields(cookie.value)[5]);
      expect(expiration).toBeGreaterThanOrEqual(expiresAt - 1000);
    });

    it('a session older than maxAge is replaced by a fresh one', async () => {
      const session = aSession({ old: true }, Date.now() - 2 * MAX_AGE * 1000);
      const response = await running.maxAge.server.request('/read', {
        headers: cookieHeader('h3', await tokenOf('maxAge', session)),
      });
      const body = response.json as Required<View>;
      expect(body.id).not.toBe(session.id);
      expect(body.data).toEqual({});
      expect(Math.abs(body.createdAt - Date.now())).toBeLessThan(5000);
      expect(running.maxAge.rejections.map((r) => r.error.code)).toEqual(['ERR_SESSION_EXPIRED']);
    });
  });

  describe('clearSession', () => {
    it('deletes the cookie (Max-Age=0), and a later read never revives the old id', async () => {
      const session = aSession({ user: 'mallory' });
      const response = await running.defaults.server.request('/clear-then-read', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      expect(response.status).toBe(200);
      const body = response.json as Twice;
      expect(body.before.id).toBe(session.id);
      expect(body.after.id).not.toBe(session.id);
      expect(body.after.data).toEqual({});
      const cookie = oneCookie(response);
      expect(cookie.value).toBe('');
      expect(cookie.maxAge).toBe(0);
      expect(cookie.path).toBe('/');
      expect(cookie.expires!.getTime()).toBe(0);
    });

    it('a later update starts a new session under a new id, in one Set-Cookie', async () => {
      const session = aSession({ user: 'mallory', role: 'guest' });
      const response = await running.defaults.server.request(
        `/clear-then-update?patch=${encodeURIComponent('{"user":"alice"}')}`,
        { headers: cookieHeader('h3', await tokenOf('defaults', session)) },
      );
      const body = response.json as Twice;
      expect(body.before.id).toBe(session.id);
      expect(body.after.id).toMatch(UUID);
      expect(body.after.id).not.toBe(session.id);
      expect(body.after.data).toEqual({ user: 'alice' });
      const cookie = oneCookie(response);
      expect(cookie.maxAge).toBeUndefined();
      const sealed = await unsealWith('defaults', cookie.value);
      expect(sealed.id).toBe(body.after.id);
      expect(sealed.data).toEqual({ user: 'alice' });
    });

    it("the manager's clear() forgets the session; its update() starts a new one", async () => {
      const session = aSession({ user: 'mallory' });
      const response = await running.defaults.server.request('/manager-clear', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      const body = response.json as {
        before: View;
        cleared: { id: null; data: object };
        after: View;
      };
      expect(body.before.id).toBe(session.id);
      expect(body.cleared).toEqual({ id: null, data: {} });
      expect(body.after.id).toMatch(UUID);
      expect(body.after.id).not.toBe(session.id);
      expect(body.after.data).toEqual({ afterClear: true });
      expect((await unsealWith('defaults', oneCookie(response).value)).id).toBe(body.after.id);
    });

    it('deletes with the configured name, domain and path', async () => {
      const response = await running.named.server.request('/clear-then-read');
      const cookie = oneCookie(response, 'SID');
      expect(cookie).toMatchObject({
        value: '',
        maxAge: 0,
        path: '/app',
        domain: 'example.test',
      });
    });
  });

  describe('regenerate', () => {
    it('keeps the data under a new id, in one Set-Cookie', async () => {
      const session = aSession({ role: 'user' });
      const response = await running.defaults.server.request('/regenerate', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      const body = response.json as Twice;
      expect(body.before.id).toBe(session.id);
      expect(body.after.id).not.toBe(session.id);
      expect(body.after.data).toEqual({ role: 'user' });
      const sealed = await unsealWith('defaults', oneCookie(response).value);
      expect(sealed).toEqual(body.after);
    });

    it('regenerate then update: one Set-Cookie under the new id', async () => {
      const session = aSession({ role: 'user' });
      const response = await running.defaults.server.request('/regenerate-update', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      const body = response.json as Twice;
      expect(body.after.data).toEqual({ role: 'user', afterRegenerate: true });
      const sealed = await unsealWith('defaults', oneCookie(response).value);
      expect(sealed.id).toBe(body.after.id);
      expect(sealed.id).not.toBe(session.id);
      expect(sealed.data).toEqual(body.after.data);
    });
  });

  describe('password rotation', () => {
    it("a token of the old id '1' opens and is resealed under '2'", async () => {
      const session = aSession({ user: 'rotated' });
      const token = await sealSessionToken(
        { id: '1', secret: running.rotation.oldSecret },
        session,
      );
      expect(tokenFields(token)[1]).toBe('1');
      const response = await running.rotation.server.request('/read', {
        headers: cookieHeader('h3', token),
      });
      expect(response.json).toEqual(session);
      const cookie = oneCookie(response);
      expect(tokenFields(cookie.value)[1]).toBe('2');
      expect(await unsealWith('rotation', cookie.value)).toEqual(session);
      // The new token opens with the new secret alone.
      expect(await unseal(cookie.value, { id: '2', secret: running.rotation.newSecret })).toEqual({
        ...session,
        purpose: 'h3',
      });
      expect(running.rotation.rejections).toEqual([]);
    });

    it("a token of the current id '2' is left alone", async () => {
      const session = aSession();
      const response = await running.rotation.server.request('/read', {
        headers: cookieHeader('h3', await tokenOf('rotation', session)),
      });
      expect((response.json as View).id).toBe(session.id);
      expect(response.setCookies).toEqual([]);
    });

    it("a new session is sealed under '2'", async () => {
      const response = await running.rotation.server.request('/read');
      expect(tokenFields(oneCookie(response).value)[1]).toBe('2');
    });
  });

  describe('sealSession and unsealSession', () => {
    itWhen(!eventOnly)('sealSession returns a string token that unsealSession opens', async () => {
      const session = aSession({ n: 5 });
      const response = await running.defaults.server.request('/seal', {
        headers: cookieHeader('h3', await tokenOf('defaults', session)),
      });
      const body = response.json as { token: string; type: string; id: string };
      expect(body.type).toBe('string');
      expect(body.token.startsWith('Fe26.2*')).toBe(true);
      expect(await unsealWith('defaults', body.token)).toEqual(session);
      const opened = await running.defaults.server.request('/unseal', {
        headers: { 'x-token': body.token },
      });
      expect(opened.json).toEqual({ ok: true, session });
    });

    it.each([
      ['malformed', 'ERR_SEAL_INVALID'],
      ['tampered', 'ERR_SEAL_UNSEAL_FAILED'],
      ['expired', 'ERR_SESSION_EXPIRED'],
    ] as const)('unsealSession rejects a %s token with a SessionError (%s)', async (kind, code) => {
      const scenario: ScenarioName = kind === 'expired' ? 'maxAge' : 'defaults';
      const session = aSession(
        {},
        kind === 'expired' ? Date.now() - 2 * MAX_AGE * 1000 : Date.now(),
      );
      const valid = await tokenOf(scenario, session);
      const token =
        kind === 'malformed' ? 'Fe26.2*nope' : kind === 'tampered' ? tamper(valid) : valid;
      const response = await running[scenario].server.request('/unseal', {
        headers: { 'x-token': token },
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        ok: false,
        isSessionError: true,
        name: 'SessionError',
        code,
      });
    });
  });

  describe('misconfiguration', () => {
    it('a password under 32 characters is a 500 naming the rule, at the first call', async () => {
      const response = await shortServer.request('/read');
      expect(response.status).toBe(500);
      expect(response.setCookies).toEqual([]);
      expect(shortServer.errors).toHaveLength(1);
      expect(codeOf(shortServer.errors[0])).toBe('ERR_PASSWORD_INVALID');
      expect(String(shortServer.errors[0])).toContain('32');
    });

    itWhen(!eventOnly)(
      'every function rejects (never throws) with ERR_PASSWORD_INVALID',
      async () => {
        // Served by a valid-config server: the route calls the functions with the short config.
        const response = await running.defaults.server.request('/short-direct');
        const outcome = { sync: false, code: 'ERR_PASSWORD_INVALID' };
        expect(response.json).toEqual({
          useSession: outcome,
          getSession: outcome,
          updateSession: outcome,
          clearSession: outcome,
          regenerateSession: outcome,
          sealSession: outcome,
          unsealSession: outcome,
        });
      },
    );
  });

  describe('after the response was sent', () => {
    it('an update is a clear ERR_HEADERS_SENT rejection, not a crash', async () => {
      const tag = randomUUID();
      const late = expectLate(tag);
      const response = await running.defaults.server.request(`/late-update?tag=${tag}`);
      expect(response.status).toBe(200);
      expect(await late).toBe('ERR_HEADERS_SENT');
      expect(running.defaults.server.errors).toEqual([]);
      // The server still answers.
      expect((await running.defaults.server.request('/read')).status).toBe(200);
    });
  });

  describeWhen(host.nativeReturn)('handler return values', () => {
    it('a string is text/html', async () => {
      const response = await running.defaults.server.request('/ret-string');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.text).toBe('<p>hello</p>');
      oneCookie(response);
    });

    it('an object is JSON', async () => {
      const response = await running.defaults.server.request('/ret-object');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.json).toEqual({ hello: 'world' });
      oneCookie(response);
    });

    it('a Response passes through, with the session cookie merged', async () => {
      const response = await running.defaults.server.request('/ret-response');
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toBe('text/plain');
      expect(response.headers.get('x-own')).toBe('kept');
      expect(response.text).toBe('made by hand');
      expect(cookiesNamed(response, 'own')).toHaveLength(1);
      const session = oneCookie(response);
      expect(session.value.startsWith('Fe26.2**')).toBe(true);
    });

    it('bytes are application/octet-stream', async () => {
      const response = await running.defaults.server.request('/ret-bytes');
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect([...response.bytes]).toEqual([0, 1, 2, 250]);
    });

    it('nothing is 204, with the session cookie', async () => {
      const response = await running.defaults.server.request('/ret-undefined');
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      oneCookie(response);
    });
  });
});

describe('direct calls', () => {
  const config: SessionConfig = { password: secret(), maxAge: 60 };

  it('unsealSession rejects with a SessionError for a bad token', async () => {
    await expect(unsealSession(undefined, config, 'garbage')).rejects.toMatchObject({
      name: 'SessionError',
      code: 'ERR_SEAL_INVALID',
    });
  });

  it('unsealSession rejects an expired session with ERR_SESSION_EXPIRED', async () => {
    const token = await sealSessionToken(config.password, aSession({}, Date.now() - 120_000));
    await expect(unsealSession(undefined, config, token)).rejects.toMatchObject({
      name: 'SessionError',
      code: 'ERR_SESSION_EXPIRED',
    });
  });

  it('a short password rejects unsealSession and sealSession', async () => {
    const token = await sealSessionToken(secret(), aSession());
    await expect(unsealSession(undefined, SHORT_PASSWORD_CONFIG, token)).rejects.toMatchObject({
      code: 'ERR_PASSWORD_INVALID',
    });
    // A minimal h3 2.x-shaped event: enough for the functions to find their transport.
    const event = {
      req: { headers: new Headers() },
      res: { headers: new Headers() },
      context: {},
    };
    await expect(sealSession(event, SHORT_PASSWORD_CONFIG)).rejects.toMatchObject({
      code: 'ERR_PASSWORD_INVALID',
    });
    let thrown: unknown;
    let promise: Promise<unknown> | undefined;
    try {
      promise = getSession(event, SHORT_PASSWORD_CONFIG);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeUndefined();
    await expect(promise).rejects.toMatchObject({ code: 'ERR_PASSWORD_INVALID' });
  });
});
