/**
 * Store mode ("server-side sessions") over real HTTP on 127.0.0.1, on every host of the
 * session matrix (node, fetch, h3 1.x, h3 2.x, Express, Hono), through the public API only,
 * with a real `memoryStore()` under a probe that counts the engine's store calls
 * (probe-store.ts). What it proves, per host:
 *
 * - The cookie holds only a sealed reference `{ ref, createdAt, stored, purpose }`, never
 *   the data. A request without a session cookie does no store I/O (it works even while
 *   the store is down); useSession on a new visitor writes the reference (stored=false)
 *   and no record; a session whose data never changes never gets a record.
 * - Data round-trips through the store. The first change writes the record and rewrites
 *   the cookie (stored=true); later changes write only the keys that changed (set/unset)
 *   and send no Set-Cookie; an unchanged update writes nothing; an unchanged read sends no
 *   Set-Cookie.
 * - A write never recreates a record that is gone: an update after its record was revoked
 *   rejects with ERR_SESSION_REVOKED and leaves it gone; a cookie whose record was written
 *   and is gone gets a fresh session, and onInvalidToken sees ERR_SESSION_REVOKED.
 * - With `userKey`, a sign-in (by update) moves the session to a new id `<userTag>.<random>`
 *   and deletes the old record; a sign-out by update moves it to an id of no user.
 *   revokeUserSessions signs a user out everywhere (another device's next request is
 *   fresh, ERR_SESSION_REVOKED reported), `except` keeps the current session,
 *   listSessions shows the live sessions oldest first, revokeSession ends one.
 * - clear() deletes the record and the cookie; regenerate() writes the new record and
 *   deletes the old one.
 * - A cookie-mode token (same password and name, no store) is refused in store mode, and a
 *   store-mode reference is refused in cookie mode (ERR_COOKIE_INVALID, no store I/O).
 * - sealSession/unsealSession round-trip a reference (unsealSession gives the stored data),
 *   and the sealed reference works as the session header; once revoked it no longer opens.
 * - `maxAge`/`idleTimeout`: store mode without either is a config error; with
 *   `idleTimeout` the record is touched (and the cookie rewritten) only once more than half
 *   of the window passed; an idle session, and one past `maxAge`, is fresh with
 *   ERR_SESSION_EXPIRED reported. (The clock is moved with a faked `Date`, no sleeps.)
 * - A store that rejects, or never answers (timeout 200 ms), gives 503 on every host
 *   (Express through `err.status`, Hono through its middleware), within the deadline plus
 *   slack, with no Set-Cookie that replaces or deletes the session cookie, for a read, an
 *   update and a clear; once the store is back the session is as it was.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  isSessionError,
  listSessions,
  memoryStore,
  revokeSession,
  revokeUserSessions,
  unsealSession,
  type SessionConfig,
  type SessionRejection,
} from '../../../src/index.js';
import { userTagOf } from '../../../src/store/session-id.js';
import type { HostResponse, HostServer } from '../matrix/hosts.js';
import { secret } from '../matrix/helpers.js';
import { ProbeStore } from './probe-store.js';
import { storeHosts } from './store-hosts.js';
import {
  Browser,
  codeOf,
  isDeletion,
  referenceOf,
  routesFor,
  setCookiesFor,
  userKey,
  type View,
} from './store-routes.js';

const MAX_AGE = 3600;
const FAIL_TIMEOUT_MS = 200;
/** What a request may take beyond the store's deadline: HTTP, sealing, a loaded machine. */
const SLACK_MS = 1_000;

interface Fixture {
  readonly config: SessionConfig;
  readonly probe: ProbeStore;
  readonly rejections: SessionRejection[];
  server: HostServer;
}

function fixture(
  options: Omit<SessionConfig, 'password' | 'store' | 'onInvalidToken'>,
  probe = new ProbeStore(memoryStore()),
  password = secret(),
): Fixture {
  const rejections: SessionRejection[] = [];
  return {
    config: {
      password,
      store: probe,
      ...options,
      onInvalidToken: (rejection) => rejections.push(rejection),
    },
    probe,
    rejections,
    server: undefined as unknown as HostServer,
  };
}

/** `it` where a case applies to the host; nothing (not a skipped test) where it does not. */
const itWhen = (applies: boolean): typeof it =>
  applies ? it : ((() => undefined) as unknown as typeof it);

/** The HTTP status an error carries (`status`, or `statusCode` as h3 1.x names it). */
function statusOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  return status ?? statusCode;
}

const codes = (rejections: readonly SessionRejection[]): string[] =>
  rejections.map((rejection) => rejection.error.code);

/** A fresh user key, so tests never share a user's index. */
const aUser = (): string => `user-${crypto.randomUUID()}@example.test`;

describe.each(storeHosts)('store mode: $name', (host) => {
  const routes = routesFor(host.kind);
  const eventHost = host.kind === 'event';
  const password = secret();
  const main = fixture({ maxAge: MAX_AGE, userKey }, undefined, password);
  /** Same password and name as `main`, no store: a cookie-mode session. */
  const cookieMode = fixture({ maxAge: MAX_AGE }, undefined, password);
  const failing = fixture(
    { maxAge: MAX_AGE, userKey },
    new ProbeStore(memoryStore(), FAIL_TIMEOUT_MS),
  );
  const idle = fixture(
    { idleTimeout: 60, maxAge: 100, userKey },
    new ProbeStore(memoryStore({ now: () => Date.now() })),
  );
  const noLifetime = fixture({});
  const all = [main, cookieMode, failing, idle, noLifetime];

  beforeAll(async () => {
    await Promise.all(
      all.map(async (entry) => {
        entry.server = await host.start(
          entry === cookieMode ? { ...entry.config, store: undefined } : entry.config,
          routes,
        );
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(all.map((entry) => entry.server.close()));
  });

  beforeEach(() => {
    for (const entry of all) {
      entry.rejections.length = 0;
      entry.server.errors.length = 0;
      entry.probe.reset();
      entry.probe.fail('ok');
    }
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** A request with `browser`'s cookie; the browser takes the response's cookie. */
  async function visit(
    entry: Fixture,
    browser: Browser,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<HostResponse> {
    const response = await entry.server.request(path, {
      headers: { ...browser.headers(), ...headers },
    });
    browser.take(response);
    return response;
  }

  const bodyOf = (response: HostResponse): View => {
    expect(response.status, response.text).toBe(200);
    return response.json as View;
  };

  /** A browser whose session holds `data` in a record (cookie says stored=true). */
  async function storedSession(
    entry: Fixture,
    data: Record<string, unknown> = { cart: 1 },
  ): Promise<{ browser: Browser; id: string }> {
    const browser = new Browser();
    const body = bodyOf(await visit(entry, browser, `/update?patch=${JSON.stringify(data)}`));
    expect((await referenceOf(entry.config, browser.token!)).stored).toBe(true);
    return { browser, id: body.id! };
  }

  /** A browser signed in as `user` (a visit, then the sign-in). */
  async function signedIn(entry: Fixture, user: string): Promise<{ browser: Browser; id: string }> {
    const browser = new Browser();
    const body = bodyOf(await visit(entry, browser, `/sign-in?user=${encodeURIComponent(user)}`));
    return { browser, id: body.id! };
  }

  const recordOf = (entry: Fixture, id: string) => entry.probe.inner.get(id);

  describe('references and records', () => {
    it('a visit without a cookie does no store I/O; useSession writes a reference and no record', async () => {
      const browser = new Browser();
      const response = await visit(main, browser, '/read');
      const body = bodyOf(response);
      expect(setCookiesFor(response)).toHaveLength(1);
      expect(main.probe.count()).toBe(0);
      const reference = await referenceOf(main.config, browser.token!);
      expect(reference).toMatchObject({ ref: body.id, createdAt: body.createdAt, stored: false });
      expect(reference.data).toBeUndefined();
      expect(reference.id).toBeUndefined();
      expect(body.data).toEqual({});
      expect(await recordOf(main, body.id!)).toBeUndefined();
    });

    itWhen(eventHost)(
      'getSession without a cookie does no store I/O and sets no cookie',
      async () => {
        const response = await main.server.request('/get-only');
        expect(bodyOf(response).data).toEqual({});
        expect(response.setCookies).toEqual([]);
        expect(main.probe.count()).toBe(0);
      },
    );

    it('a session whose data never changes never gets a record, and its cookie is left alone', async () => {
      const browser = new Browser();
      const id = bodyOf(await visit(main, browser, '/read')).id!;
      main.probe.reset();
      for (let i = 0; i < 3; i++) {
        const response = await visit(main, browser, '/read');
        expect(bodyOf(response).id).toBe(id);
        expect(response.setCookies).toEqual([]);
      }
      // An update that changes nothing is no change either.
      expect((await visit(main, browser, '/update?patch={}')).setCookies).toEqual([]);
      expect(main.probe.count('write')).toBe(0);
      expect(main.probe.count('touch')).toBe(0);
      expect(main.probe.count('get')).toBe(4);
      expect(await recordOf(main, id)).toBeUndefined();
      expect(main.rejections).toEqual([]);
    });

    it('data round-trips; only changed keys are written; the cookie changes only when the reference does', async () => {
      const browser = new Browser();
      const id = bodyOf(await visit(main, browser, '/read')).id!;
      const first = browser.token;
      main.probe.reset();

      // First change: the record is created and the cookie now says stored=true.
      const created = await visit(main, browser, '/update?patch={"a":1,"b":"x"}');
      expect(bodyOf(created)).toMatchObject({ id, data: { a: 1, b: 'x' } });
      expect(setCookiesFor(created)).toHaveLength(1);
      expect(browser.token).not.toBe(first);
      expect(await referenceOf(main.config, browser.token!)).toMatchObject({
        ref: id,
        stored: true,
      });
      expect(main.probe.writes()).toEqual([
        expect.objectContaining({ mode: 'create', set: { a: '1', b: '"x"' }, unset: [] }),
      ]);

      // A change of one key: only that key, and no Set-Cookie.
      main.probe.reset();
      const changed = await visit(main, browser, '/update?patch={"b":"y"}');
      expect(bodyOf(changed).data).toEqual({ a: 1, b: 'y' });
      expect(changed.setCookies).toEqual([]);
      expect(main.probe.writes()).toEqual([
        expect.objectContaining({ mode: 'update', set: { b: '"y"' }, unset: [] }),
      ]);

      // A deleted key is an unset of that key alone.
      main.probe.reset();
      const unset = await visit(main, browser, '/unset?key=a');
      expect(bodyOf(unset).data).toEqual({ b: 'y' });
      expect(unset.setCookies).toEqual([]);
      expect(main.probe.writes()).toEqual([
        expect.objectContaining({ mode: 'update', set: {}, unset: ['a'] }),
      ]);

      // An unchanged update and a read: no write, no Set-Cookie.
      main.probe.reset();
      const same = await visit(main, browser, '/update?patch={"b":"y"}');
      const read = await visit(main, browser, '/read');
      expect(same.setCookies).toEqual([]);
      expect(read.setCookies).toEqual([]);
      expect(bodyOf(read)).toMatchObject({ id, data: { b: 'y' } });
      expect(main.probe.count('write')).toBe(0);
      expect((await recordOf(main, id))?.data).toEqual({ b: '"y"' });
    });

    it('an update whose record was revoked is refused with ERR_SESSION_REVOKED and brings nothing back', async () => {
      const { browser, id } = await storedSession(main);
      const response = await visit(main, browser, '/revoke-self-then-update');
      expect(response.json).toEqual({ code: 'ERR_SESSION_REVOKED' });
      expect(await recordOf(main, id)).toBeUndefined();
      // The next request on that cookie is a fresh session, and says why.
      const next = bodyOf(await visit(main, browser, '/read'));
      expect(next.id).not.toBe(id);
      expect(next.data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
      expect(main.rejections[0]!.source).toBe('cookie');
      expect(await recordOf(main, id)).toBeUndefined();
    });
  });

  describe('users', () => {
    it('sign-in moves the session to <userTag>.<random> and deletes the old record', async () => {
      const user = aUser();
      const { browser, id: anonymousId } = await storedSession(main, { cart: 3 });
      const before = browser.copy();
      const response = await visit(main, browser, `/sign-in?user=${encodeURIComponent(user)}`);
      const body = bodyOf(response);
      expect(body.data).toEqual({ cart: 3, userId: user });
      expect(body.id!.startsWith(`${userTagOf(user)}.`)).toBe(true);
      expect(body.id!.length).toBeGreaterThan(userTagOf(user).length + 8);
      expect(body.id).not.toBe(anonymousId);
      expect(setCookiesFor(response)).toHaveLength(1);
      expect(await referenceOf(main.config, browser.token!)).toMatchObject({
        ref: body.id,
        stored: true,
      });
      expect(await recordOf(main, anonymousId)).toBeUndefined();
      expect((await recordOf(main, body.id!))?.data).toEqual({
        cart: '3',
        userId: JSON.stringify(user),
      });
      expect((await listSessions(main.config, user)).map((s) => s.id)).toEqual([body.id]);
      // The pre-sign-in cookie no longer opens anything.
      const planted = bodyOf(await visit(main, before, '/read'));
      expect(planted.id).not.toBe(anonymousId);
      expect(planted.data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
    });

    it('a sign-in of a session that never had a record moves it too', async () => {
      const user = aUser();
      const browser = new Browser();
      const anonymousId = bodyOf(await visit(main, browser, '/read')).id!;
      const body = bodyOf(await visit(main, browser, `/sign-in?user=${encodeURIComponent(user)}`));
      expect(body.id!.startsWith(`${userTagOf(user)}.`)).toBe(true);
      expect(body.id).not.toBe(anonymousId);
      expect(bodyOf(await visit(main, browser, '/read'))).toMatchObject({
        id: body.id,
        data: { userId: user },
      });
    });

    it('sign-out by update moves the session to an id of no user and leaves the index', async () => {
      const user = aUser();
      const { browser, id } = await signedIn(main, user);
      await visit(main, browser, '/update?patch={"cart":2}');
      const body = bodyOf(await visit(main, browser, '/sign-out'));
      expect(body.data).toEqual({ cart: 2 });
      expect(body.id).not.toBe(id);
      expect(body.id!.startsWith(`${userTagOf(user)}.`)).toBe(false);
      expect(await recordOf(main, id)).toBeUndefined();
      expect(await listSessions(main.config, user)).toEqual([]);
      expect(bodyOf(await visit(main, browser, '/read'))).toMatchObject({
        id: body.id,
        data: { cart: 2 },
      });
    });

    it('sign out everywhere: every device of the user gets a fresh session, ERR_SESSION_REVOKED reported', async () => {
      const user = aUser();
      const laptop = await signedIn(main, user);
      const phone = await signedIn(main, user);
      const other = await signedIn(main, aUser());
      expect(laptop.id).not.toBe(phone.id);
      const revoked = await visit(main, laptop.browser, '/revoke-everywhere');
      expect(revoked.json).toMatchObject({ revoked: 2 });
      const onPhone = bodyOf(await visit(main, phone.browser, '/read'));
      expect(onPhone.id).not.toBe(phone.id);
      expect(onPhone.data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
      expect(bodyOf(await visit(main, laptop.browser, '/read')).data).toEqual({});
      expect(await listSessions(main.config, user)).toEqual([]);
      // Another user is untouched.
      expect(bodyOf(await visit(main, other.browser, '/read')).id).toBe(other.id);
    });

    it('sign out everywhere else: `except` keeps the current session', async () => {
      const user = aUser();
      const laptop = await signedIn(main, user);
      const phone = await signedIn(main, user);
      const tablet = await signedIn(main, user);
      const revoked = await visit(main, laptop.browser, '/revoke-everywhere?except=1');
      expect(revoked.json).toMatchObject({ revoked: 2, id: laptop.id });
      expect(bodyOf(await visit(main, laptop.browser, '/read'))).toMatchObject({
        id: laptop.id,
        data: { userId: user },
      });
      for (const device of [phone, tablet]) {
        expect(bodyOf(await visit(main, device.browser, '/read')).data).toEqual({});
      }
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED', 'ERR_SESSION_REVOKED']);
      expect((await listSessions(main.config, user)).map((s) => s.id)).toEqual([laptop.id]);
    });

    it('listSessions shows the live sessions oldest first; revokeSession ends one of them', async () => {
      const user = aUser();
      const laptop = await signedIn(main, user);
      const phone = await signedIn(main, user);
      const listed = await listSessions(main.config, user);
      expect(new Set(listed.map((s) => s.id))).toEqual(new Set([laptop.id, phone.id]));
      expect(listed).toHaveLength(2);
      for (const info of listed) {
        expect(Object.keys(info).sort()).toEqual(['createdAt', 'id', 'lastSeenAt']);
        expect(info.lastSeenAt).toBeGreaterThanOrEqual(info.createdAt);
      }
      expect(listed[0]!.createdAt).toBeLessThanOrEqual(listed[1]!.createdAt);
      await revokeSession(main.config, phone.id);
      expect((await listSessions(main.config, user)).map((s) => s.id)).toEqual([laptop.id]);
      expect(bodyOf(await visit(main, phone.browser, '/read')).data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
      expect(bodyOf(await visit(main, laptop.browser, '/read')).id).toBe(laptop.id);
      expect(await revokeUserSessions(main.config, user)).toBe(1);
    });
  });

  describe('clear and regenerate', () => {
    it('clear() deletes the record and the cookie', async () => {
      const { browser, id } = await storedSession(main);
      const copy = browser.copy();
      main.probe.reset();
      const response = await visit(main, browser, '/logout');
      expect(response.status).toBe(200);
      const cookies = setCookiesFor(response);
      expect(cookies).toHaveLength(1);
      expect(isDeletion(cookies[0]!)).toBe(true);
      expect(browser.token).toBeUndefined();
      expect(main.probe.calls.filter((c) => c.method === 'delete').map((c) => c.key)).toEqual([id]);
      expect(await recordOf(main, id)).toBeUndefined();
      // A copy of the cookie kept elsewhere opens nothing.
      expect(bodyOf(await visit(main, copy, '/read')).data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
    });

    it('regenerate() writes the new record with the data and deletes the old one', async () => {
      const { browser, id } = await storedSession(main, { cart: 5 });
      const copy = browser.copy();
      const response = await visit(main, browser, '/regenerate');
      const body = bodyOf(response);
      expect(body.data).toEqual({ cart: 5 });
      expect(body.id).not.toBe(id);
      expect(setCookiesFor(response)).toHaveLength(1);
      expect(await referenceOf(main.config, browser.token!)).toMatchObject({
        ref: body.id,
        stored: true,
      });
      expect((await recordOf(main, body.id!))?.data).toEqual({ cart: '5' });
      expect(await recordOf(main, id)).toBeUndefined();
      expect(bodyOf(await visit(main, browser, '/read'))).toMatchObject({
        id: body.id,
        data: { cart: 5 },
      });
      expect(bodyOf(await visit(main, copy, '/read')).data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_SESSION_REVOKED']);
    });

    it("regenerate() of a signed-in session keeps it in the user's index under a new id", async () => {
      const user = aUser();
      const { browser, id } = await signedIn(main, user);
      const body = bodyOf(await visit(main, browser, '/regenerate'));
      expect(body.id).not.toBe(id);
      expect(body.id!.startsWith(`${userTagOf(user)}.`)).toBe(true);
      expect((await listSessions(main.config, user)).map((s) => s.id)).toEqual([body.id]);
    });
  });

  describe('tokens', () => {
    it('a cookie-mode token is refused in store mode, and a reference in cookie mode', async () => {
      const cookieBrowser = new Browser();
      await visit(cookieMode, cookieBrowser, '/update?patch={"a":1}');
      expect((await referenceOf(cookieMode.config, cookieBrowser.token!)).data).toEqual({ a: 1 });
      const inStore = bodyOf(await visit(main, cookieBrowser.copy(), '/read'));
      expect(inStore.data).toEqual({});
      expect(codes(main.rejections)).toEqual(['ERR_COOKIE_INVALID']);
      // Refused before the store is asked.
      expect(main.probe.count()).toBe(0);

      const { browser: storeBrowser, id } = await storedSession(main, { a: 2 });
      const inCookieMode = bodyOf(await visit(cookieMode, storeBrowser.copy(), '/read'));
      expect(inCookieMode.data).toEqual({});
      expect(inCookieMode.id).not.toBe(id);
      expect(codes(cookieMode.rejections)).toEqual(['ERR_COOKIE_INVALID']);
    });

    itWhen(eventHost)(
      'sealSession/unsealSession round-trip a reference; revoked, it opens no more',
      async () => {
        const browser = new Browser();
        const sealed = bodyOf(await visit(main, browser, '/seal?patch={"a":1}')) as View & {
          token: string;
        };
        const reference = await referenceOf(main.config, sealed.token);
        expect(reference).toMatchObject({ ref: sealed.id, stored: true });
        expect(reference.data).toBeUndefined();
        const session = await unsealSession(main.config, sealed.token);
        expect(session).toMatchObject({
          id: sealed.id,
          createdAt: sealed.createdAt,
          data: { a: 1 },
        });
        // The token as the session header opens the stored session, without a cookie.
        const byHeader = await main.server.request('/read', {
          headers: { 'x-h3-session': sealed.token },
        });
        expect(bodyOf(byHeader)).toMatchObject({ id: sealed.id, data: { a: 1 } });
        expect(byHeader.setCookies).toEqual([]);
        await revokeSession(main.config, sealed.id!);
        const error: unknown = await unsealSession(main.config, sealed.token).catch(
          (e: unknown) => e,
        );
        expect(isSessionError(error, 'ERR_SESSION_REVOKED')).toBe(true);
      },
    );
  });

  describe('lifetimes', () => {
    it('a store without maxAge or idleTimeout is a config error', async () => {
      const response = await noLifetime.server.request('/read');
      expect(response.status).toBe(500);
      expect(response.setCookies).toEqual([]);
      expect(noLifetime.server.errors.map(codeOf)).toContain('ERR_CONFIG_INVALID');
      expect(noLifetime.probe.count()).toBe(0);
      const error: unknown = await listSessions(noLifetime.config, 'x').catch((e: unknown) => e);
      expect(isSessionError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    });

    it('idleTimeout: the record is touched, and the cookie rewritten, only past half the window', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = Date.now();
      const browser = new Browser();
      const id = bodyOf(await visit(idle, browser, '/update?patch={"a":1}')).id!;
      const at = (seconds: number): void => {
        vi.setSystemTime(start + seconds * 1000);
      };
      idle.probe.reset();

      at(29); // under half of the 60 s window: nothing to do
      const early = await visit(idle, browser, '/read');
      expect(bodyOf(early).data).toEqual({ a: 1 });
      expect(early.setCookies).toEqual([]);
      expect(idle.probe.count('touch') + idle.probe.count('write')).toBe(0);

      at(31); // past half: one touch, and the cookie carries the new window
      const renewed = await visit(idle, browser, '/read');
      expect(bodyOf(renewed).data).toEqual({ a: 1 });
      expect(setCookiesFor(renewed)).toHaveLength(1);
      expect(idle.probe.count('touch')).toBe(1);
      expect(idle.probe.count('write')).toBe(0);
      expect((await recordOf(idle, id))?.lastSeenAt).toBe(start + 31_000);
      expect((await referenceOf(idle.config, browser.token!)).lastSeenAt).toBe(start + 31_000);

      at(60); // 29 s after the touch: nothing again
      idle.probe.reset();
      const later = await visit(idle, browser, '/read');
      expect(later.setCookies).toEqual([]);
      expect(idle.probe.count('touch')).toBe(0);

      at(31 + 61); // idle for longer than the window: a fresh session
      const expired = bodyOf(await visit(idle, browser, '/read'));
      expect(expired.id).not.toBe(id);
      expect(expired.data).toEqual({});
      expect(codes(idle.rejections)).toEqual(['ERR_SESSION_EXPIRED']);
    });

    it('maxAge ends an active session, however often it is touched', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = Date.now();
      const browser = new Browser();
      const id = bodyOf(await visit(idle, browser, '/update?patch={"a":1}')).id!;
      for (const seconds of [40, 80]) {
        vi.setSystemTime(start + seconds * 1000);
        expect(bodyOf(await visit(idle, browser, '/read')).id).toBe(id);
      }
      vi.setSystemTime(start + 101_000);
      expect(bodyOf(await visit(idle, browser, '/read')).id).not.toBe(id);
      expect(codes(idle.rejections)).toEqual(['ERR_SESSION_EXPIRED']);
    });
  });

  describe('a store that is down', () => {
    /** The request's 503, timed, with no Set-Cookie for the session cookie. */
    async function unavailable(browser: Browser, path: string): Promise<number> {
      const began = performance.now();
      const response = await failing.server.request(path, { headers: browser.headers() });
      const took = performance.now() - began;
      expect(response.status, response.text).toBe(503);
      expect(setCookiesFor(response)).toEqual([]);
      // h3 1.x wraps the error with the store's own error as `cause`, and keeps the status.
      for (const error of failing.server.errors) {
        expect(codeOf(error) === 'ERR_STORE_UNAVAILABLE' || statusOf(error) === 503).toBe(true);
      }
      return took;
    }

    it('a visit without a cookie still works: it does no store I/O', async () => {
      failing.probe.fail('reject');
      const browser = new Browser();
      const response = await visit(failing, browser, '/read');
      expect(bodyOf(response).data).toEqual({});
      expect(setCookiesFor(response)).toHaveLength(1);
      expect(failing.probe.count()).toBe(0);
    });

    for (const mode of ['reject', 'hang'] as const) {
      it(`a read: 503, the cookie left as it is (${mode})`, async () => {
        const { browser, id } = await storedSession(failing, { a: 1 });
        const token = browser.token;
        failing.probe.fail(mode);
        const took = await unavailable(browser, '/read');
        if (mode === 'hang') expect(took).toBeGreaterThanOrEqual(FAIL_TIMEOUT_MS - 5);
        expect(took).toBeLessThan(FAIL_TIMEOUT_MS + SLACK_MS);
        expect(failing.rejections).toEqual([]);
        failing.probe.fail('ok');
        const after = await visit(failing, browser, '/read');
        expect(bodyOf(after)).toMatchObject({ id, data: { a: 1 } });
        expect(browser.token).toBe(token);
      });

      it(`an update: 503, nothing written, the cookie left as it is (${mode})`, async () => {
        const { browser, id } = await storedSession(failing, { a: 1 });
        const token = browser.token;
        failing.probe.fail(mode, ['write']);
        const took = await unavailable(browser, '/update?patch={"a":2}');
        expect(took).toBeLessThan(FAIL_TIMEOUT_MS + SLACK_MS);
        failing.probe.fail('ok');
        expect(bodyOf(await visit(failing, browser, '/read'))).toMatchObject({
          id,
          data: { a: 1 },
        });
        expect(browser.token).toBe(token);
      });

      it(`a sign-in: 503, the session neither moved nor its cookie replaced (${mode})`, async () => {
        const user = aUser();
        const { browser, id } = await storedSession(failing, { cart: 1 });
        failing.probe.fail(mode, ['write']);
        await unavailable(browser, `/sign-in?user=${encodeURIComponent(user)}`);
        failing.probe.fail('ok');
        expect(bodyOf(await visit(failing, browser, '/read'))).toMatchObject({
          id,
          data: { cart: 1 },
        });
        expect(await listSessions(failing.config, user)).toEqual([]);
      });

      it(`a clear: 503, the record kept and the cookie not deleted (${mode})`, async () => {
        const { browser, id } = await storedSession(failing, { a: 1 });
        failing.probe.fail(mode, ['delete']);
        const took = await unavailable(browser, '/logout');
        expect(took).toBeLessThan(FAIL_TIMEOUT_MS + SLACK_MS);
        expect(browser.token).toBeDefined();
        failing.probe.fail('ok');
        expect(await recordOf(failing, id)).toBeDefined();
        expect(bodyOf(await visit(failing, browser, '/read'))).toMatchObject({
          id,
          data: { a: 1 },
        });
      });
    }

    it('listSessions and the revocations reject with ERR_STORE_UNAVAILABLE', async () => {
      failing.probe.fail('reject');
      for (const call of [
        () => listSessions(failing.config, 'u'),
        () => revokeSession(failing.config, 'id'),
        () => revokeUserSessions(failing.config, 'u'),
      ]) {
        const error: unknown = await call().catch((e: unknown) => e);
        expect(isSessionError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
        expect((error as { status?: number }).status).toBe(503);
      }
    });
  });
});
