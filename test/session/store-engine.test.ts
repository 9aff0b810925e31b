/**
 * Store mode in the session engine on its own: an engine over the package's iron and a
 * clock the test moves, a real memoryStore, and an in-memory transport. What needs a clock
 * or an exact count of store calls is proven here (lifetimes checked from the record's own
 * times, the touch throttle, which calls a request makes, deadlines, a write superseded by
 * a clear); the store matrix proves the behaviour over real HTTP on every host.
 */
import { describe, expect, it } from 'vitest';
import type { CookieIdentity } from '../../src/cookie/set-cookie.js';
import { replaceSetCookie } from '../../src/cookie/set-cookie.js';
import { isSessionError, type SessionErrorCode } from '../../src/errors.js';
import { iron } from '../../src/iron/instance.js';
import { createRequestContext, type RequestContext } from '../../src/session/request-state.js';
import { createSessionEngine } from '../../src/session/session-engine.js';
import type { SessionTransport } from '../../src/session/transport.js';
import type { SessionConfig, SessionRejection } from '../../src/session/types.js';
import { memoryStore } from '../../src/store/memory.js';
import { userTagInId, userTagOf } from '../../src/store/session-id.js';
import { STORE_METHODS, type SessionStore, type StoreMethod } from '../../src/store/store.js';

const PASSWORD = 'store-engine-unit-test-password-0123456789abc';
const MINUTE = 60_000;

/** A request carrying `cookie` (if any), collecting the Set-Cookie headers it answers with. */
function fakeRequest(cookie?: string): { request: RequestContext; setCookies: () => string[] } {
  let cookies: string[] = [];
  const transport: SessionTransport = {
    getRequestHeader: (name) => (name === 'cookie' ? cookie : undefined),
    setCookie(header: string, identity: CookieIdentity) {
      cookies = replaceSetCookie(cookies, header, identity);
    },
    headersSent: () => false,
  };
  return { request: createRequestContext(transport), setCookies: () => cookies };
}

/** The `name=value` of the session cookie a response set, for the next request. */
function cookieOf(setCookies: readonly string[]): string | undefined {
  const line = setCookies.find((header) => header.startsWith('h3='));
  return line?.slice(0, line.indexOf(';'));
}

/** A store that forwards to `inner` except where `overrides` says otherwise. */
function storeWith(
  inner: SessionStore,
  overrides: Partial<Pick<SessionStore, StoreMethod>>,
  extra: Partial<Pick<SessionStore, 'kind' | 'timeout'>> = {},
): SessionStore {
  const store: Record<string, unknown> = { kind: inner.kind, ...extra };
  for (const method of STORE_METHODS) {
    store[method] =
      overrides[method] ??
      ((...args: unknown[]) =>
        (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args));
  }
  return store as unknown as SessionStore;
}

/** A real memoryStore whose calls are counted by method. */
function countingStore(inner: SessionStore = memoryStore()): {
  store: SessionStore;
  calls: Record<string, number>;
  total: () => number;
} {
  const calls: Record<string, number> = {};
  const counted: Partial<Pick<SessionStore, StoreMethod>> = {};
  for (const method of STORE_METHODS) {
    (counted as Record<string, unknown>)[method] = (...args: unknown[]) => {
      calls[method] = (calls[method] ?? 0) + 1;
      return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  return {
    store: storeWith(inner, counted, { timeout: inner.timeout }),
    calls,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
  };
}

function setup(extra: Partial<SessionConfig> = {}, inner?: SessionStore) {
  let offset = 0;
  const engine = createSessionEngine({ iron, now: () => Date.now() + offset });
  const counted = countingStore(inner);
  const rejections: SessionRejection[] = [];
  const unawaited: unknown[] = [];
  const config: SessionConfig = {
    password: PASSWORD,
    maxAge: 3600,
    store: counted.store,
    userKey: (data: { user?: string }) => data.user,
    onInvalidToken: (rejection) => rejections.push(rejection),
    onUnawaitedError: (error) => unawaited.push(error),
    ...extra,
  };
  return {
    engine,
    config,
    ...counted,
    rejections,
    unawaited,
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

async function expectCode(promise: Promise<unknown>, code: SessionErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isSessionError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

describe('store mode in the engine', () => {
  it('a visit without a cookie, and a session that never changes, cost no store call', async () => {
    const { engine, config, total } = setup();
    const first = fakeRequest();
    const manager = await engine.useSession(first.request, config);
    expect(manager.id).toBeTypeOf('string');
    const cookie = cookieOf(first.setCookies());
    expect(cookie).toBeDefined();
    expect(total()).toBe(0);
    // The next request reads the reference: one get, which finds no record, and the id holds.
    const second = fakeRequest(cookie);
    const again = await engine.useSession(second.request, config);
    expect(again.id).toBe(manager.id);
    expect(second.setCookies()).toEqual([]);
    await engine.updateSession(second.request, config, {});
    expect(total()).toBe(1);
  });

  it('the first change writes the record and marks the reference; later changes send only the keys that changed', async () => {
    const { engine, config, calls, store } = setup();
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1, b: 'x' });
    const cookie = cookieOf(first.setCookies());
    expect(calls.write).toBe(1);
    const second = fakeRequest(cookie);
    const session = await engine.updateSession(second.request, config, { b: 'y' });
    expect(session.data).toEqual({ a: 1, b: 'y' });
    // The reference already says "stored": nothing to rewrite in the cookie.
    expect(second.setCookies()).toEqual([]);
    const record = await store.get(session.id);
    expect(record?.data).toEqual({ a: '1', b: '"y"' });
    // An update that changes nothing writes nothing.
    await engine.updateSession(second.request, config, { b: 'y' });
    expect(calls.write).toBe(2);
  });

  it('a session past maxAge is refused although the store still holds its record', async () => {
    const { engine, config, rejections, advance } = setup({ maxAge: 60 });
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const cookie = cookieOf(first.setCookies());
    // The memory store runs on the real clock and still holds the record; the engine's
    // clock says the session ended.
    advance(61_000);
    const late = fakeRequest(cookie);
    const session = await engine.getSession(late.request, config);
    expect(session.data).toEqual({});
    expect(rejections.map((r) => r.error.code)).toEqual([
      expect.stringMatching(/^ERR_(SEAL|SESSION)_EXPIRED$/),
    ]);
  });

  it('idleTimeout: the record is touched only past half the window, and ends after a whole idle window', async () => {
    const { engine, config, calls, rejections, advance, store } = setup({
      maxAge: undefined,
      idleTimeout: 600,
    });
    const first = fakeRequest();
    const written = await engine.updateSession(first.request, config, { a: 1 });
    let cookie = cookieOf(first.setCookies());
    advance(2 * MINUTE);
    const early = fakeRequest(cookie);
    await engine.getSession(early.request, config);
    expect(calls.touch).toBeUndefined();
    expect(early.setCookies()).toEqual([]);
    advance(4 * MINUTE);
    const renewal = fakeRequest(cookie);
    await engine.getSession(renewal.request, config);
    expect(calls.touch).toBe(1);
    cookie = cookieOf(renewal.setCookies());
    expect(cookie).toBeDefined();
    const record = await store.get(written.id);
    expect(record!.lastSeenAt).toBeGreaterThan(record!.createdAt + 5 * MINUTE);
    // Active again 9 minutes later: within the window counted from the touch.
    advance(9 * MINUTE);
    const active = fakeRequest(cookie);
    expect((await engine.getSession(active.request, config)).data).toEqual({ a: 1 });
    cookie = cookieOf(active.setCookies()) ?? cookie;
    advance(11 * MINUTE);
    const idle = fakeRequest(cookie);
    expect((await engine.getSession(idle.request, config)).data).toEqual({});
    expect(rejections.at(-1)?.error.code).toMatch(/^ERR_(SEAL|SESSION)_EXPIRED$/);
  });

  it('a user change moves the session to a new id in the user slot and deletes the old record', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    const anonymous = await engine.updateSession(first.request, config, { cart: [1] });
    const anonymousId = anonymous.id;
    const signIn = fakeRequest(cookieOf(first.setCookies()));
    const signedIn = await engine.updateSession(signIn.request, config, { user: 'ada' });
    expect(signedIn.id).not.toBe(anonymousId);
    expect(userTagInId(signedIn.id)).toBe(userTagOf('ada'));
    expect(await store.get(anonymousId)).toBeUndefined();
    expect((await store.get(signedIn.id))?.data).toEqual({ cart: '[1]', user: '"ada"' });
    expect(await engine.listSessions(config, 'ada')).toEqual([
      expect.objectContaining({ id: signedIn.id }),
    ]);
    // Signing out by removing the user moves it again, out of the index.
    const signOut = fakeRequest(cookieOf(signIn.setCookies()));
    const out = await engine.updateSession(signOut.request, config, (data) => {
      delete data.user;
    });
    expect(userTagInId(out.id)).toBeUndefined();
    expect(await store.get(signedIn.id)).toBeUndefined();
    expect(await engine.listSessions(config, 'ada')).toEqual([]);
  });

  it('an update whose record was revoked meanwhile is refused and does not bring it back', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    const session = await engine.updateSession(first.request, config, { user: 'bob' });
    const slow = fakeRequest(cookieOf(first.setCookies()));
    await engine.getSession(slow.request, config);
    expect(await engine.revokeUserSessions(config, 'bob')).toBe(1);
    await expectCode(engine.updateSession(slow.request, config, { n: 1 }), 'ERR_SESSION_REVOKED');
    expect(await store.get(session.id)).toBeUndefined();
    expect(slow.setCookies()).toEqual([]);
  });

  it('a regenerate that a clear overtakes leaves no record behind', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    const before = await engine.updateSession(first.request, config, { user: 'cy', n: 1 });
    const request = fakeRequest(cookieOf(first.setCookies()));
    await engine.getSession(request.request, config);
    const regenerated = engine.regenerateSession(request.request, config);
    const cleared = engine.clearSession(request.request, config);
    const after = await regenerated;
    await cleared;
    expect(await store.get(before.id)).toBeUndefined();
    expect(await store.get(after.id)).toBeUndefined();
    expect(await engine.listSessions(config, 'cy')).toEqual([]);
    expect(request.setCookies().join('\n')).toMatch(/^h3=;/m);
  });

  it('a clear before any read deletes the record the cookie refers to', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    const session = await engine.updateSession(first.request, config, { a: 1 });
    const request = fakeRequest(cookieOf(first.setCookies()));
    await engine.clearSession(request.request, config);
    expect(await store.get(session.id)).toBeUndefined();
  });

  it('a store that does not answer fails the request within its deadline, cookie untouched', async () => {
    const hanging = storeWith(
      memoryStore(),
      { get: () => new Promise(() => undefined), delete: () => new Promise(() => undefined) },
      { kind: 'hanging', timeout: 50 },
    );
    const { engine, config } = setup({}, hanging);
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const request = fakeRequest(cookieOf(first.setCookies()));
    const started = performance.now();
    await expectCode(engine.getSession(request.request, config), 'ERR_STORE_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(1000);
    await expectCode(engine.clearSession(request.request, config), 'ERR_STORE_UNAVAILABLE');
    expect(request.setCookies()).toEqual([]);
  });

  it('a failing store gives ERR_STORE_UNAVAILABLE with the cause and status 503', async () => {
    const cause = new Error('connection refused');
    const failing = storeWith(memoryStore(), { get: () => Promise.reject(cause) });
    const { engine, config } = setup({}, failing);
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const request = fakeRequest(cookieOf(first.setCookies()));
    const error = await engine.getSession(request.request, config).catch((e: unknown) => e);
    expect(isSessionError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
    expect((error as Error).cause).toBe(cause);
    expect((error as { status?: number }).status).toBe(503);
  });

  it('a flash is taken from the record atomically: one of two requests gets it', async () => {
    const { engine, config } = setup();
    const first = fakeRequest();
    await engine.setFlash(first.request, config, 'notice', 'saved');
    const cookie = cookieOf(first.setCookies());
    const a = fakeRequest(cookie);
    const b = fakeRequest(cookie);
    await Promise.all([engine.getSession(a.request, config), engine.getSession(b.request, config)]);
    const taken = await Promise.all([
      engine.takeFlash(a.request, config, 'notice'),
      engine.takeFlash(b.request, config, 'notice'),
    ]);
    expect(taken.filter((value) => value === 'saved')).toHaveLength(1);
  });

  it('a clear that comes while takeFlash waits for the store wins: nothing comes back', async () => {
    const inner = memoryStore();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { engine, config } = setup(
      {},
      storeWith(inner, {
        takeFlash: async (id, key) => {
          await gate;
          return inner.takeFlash(id, key);
        },
      }),
    );
    const first = fakeRequest();
    await engine.setFlash(first.request, config, 'notice', 'saved');
    const second = fakeRequest(cookieOf(first.setCookies()));
    await engine.getSession(second.request, config);
    const taking = engine.takeFlash(second.request, config, 'notice');
    // The take is at the store, waiting at the gate, when the clear comes.
    await new Promise((resolve) => setImmediate(resolve));
    const cleared = engine.clearSession(second.request, config);
    open();
    expect(await taking).toBeUndefined();
    await cleared;
    const after = await engine.getSession(second.request, config);
    expect(after.data).toEqual({});
  });

  it('an application id shaped like a user id is never read as one', async () => {
    const { engine, config } = setup({
      generateId: () => 'AAAAAAAAAAAAAAAAAAAAAA.rest',
      userKey: undefined,
    });
    const request = fakeRequest();
    const session = await engine.updateSession(request.request, config, { a: 1 });
    expect(session.id).toBe('_AAAAAAAAAAAAAAAAAAAAAA.rest');
    expect(userTagInId(session.id)).toBeUndefined();
  });

  it('sealSession and unsealSession carry the reference; unseal reads the record', async () => {
    const { engine, config } = setup();
    const request = fakeRequest();
    await engine.updateSession(request.request, config, { a: 1 });
    const token = await engine.sealSession(request.request, config);
    expect((await engine.unsealSession(config, token)).data).toEqual({ a: 1 });
    await engine.clearSession(request.request, config);
    await expectCode(engine.unsealSession(config, token), 'ERR_SESSION_REVOKED');
  });

  it('a clear in a request that brought no cookie costs no store call', async () => {
    const { engine, config, total } = setup();
    const request = fakeRequest();
    await engine.useSession(request.request, config);
    await engine.clearSession(request.request, config);
    expect(total()).toBe(0);
  });

  it('a userKey that gives something other than a user key fails the write, naming the rule', async () => {
    const { engine, config } = setup({ userKey: (data: { user?: unknown }) => data.user });
    const request = fakeRequest();
    const error = await engine
      .updateSession(request.request, config, { user: { id: 1 } })
      .catch((caught: unknown) => caught);
    expect(isSessionError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/userKey must give/);
  });

  it('a reference sealed without a purpose is refused, whatever acceptUnboundTokens says', async () => {
    const { engine, config, rejections } = setup();
    const unbound = await iron.seal(
      { ref: 'someone-elses-id', createdAt: Date.now(), stored: true },
      PASSWORD,
      { ttl: 60_000 },
    );
    const request = fakeRequest(`h3=${unbound}`);
    expect((await engine.getSession(request.request, config)).id).not.toBe('someone-elses-id');
    expect(rejections.map((r) => r.error.code)).toEqual(['ERR_PURPOSE_MISSING']);
  });

  it('revokeSession with userKey revokes only a session of that user', async () => {
    const { engine, config } = setup();
    const request = fakeRequest();
    const session = await engine.updateSession(request.request, config, { user: 'dee' });
    expect(await engine.revokeSession(config, session.id, { userKey: 'eve' })).toBe(false);
    expect(await engine.listSessions(config, 'dee')).toHaveLength(1);
    expect(await engine.revokeSession(config, session.id, { userKey: 'dee' })).toBe(true);
    expect(await engine.listSessions(config, 'dee')).toEqual([]);
    expect(await engine.revokeSession(config, session.id)).toBe(false);
  });

  it('a sign-out with the id from before a move follows the move marker to the session', async () => {
    const { engine, config } = setup();
    const first = fakeRequest();
    const before = await engine.updateSession(first.request, config, { user: 'fay' });
    const beforeId = before.id;
    const moving = fakeRequest(cookieOf(first.setCookies()));
    const after = await engine.regenerateSession(moving.request, config);
    expect(after.id).not.toBe(beforeId);
    expect(await engine.revokeSession(config, beforeId)).toBe(true);
    expect(await engine.listSessions(config, 'fay')).toEqual([]);
  });

  it('a header token sealed before the first write is refused once its user session is revoked', async () => {
    const { engine, config, rejections } = setup();
    const request = fakeRequest();
    await engine.useSession(request.request, config);
    const signIn = fakeRequest(cookieOf(request.setCookies()));
    const session = await engine.updateSession(signIn.request, config, { user: 'gil' });
    const token = await engine.sealSession(signIn.request, config);
    await engine.revokeUserSessions(config, 'gil');
    const headerRequest = createRequestContext({
      getRequestHeader: (name) => (name === 'x-h3-session' ? token : undefined),
      setCookie: () => undefined,
      headersSent: () => false,
    });
    const read = await engine.getSession(headerRequest, config);
    expect(read.id).not.toBe(session.id);
    expect(read.data).toEqual({});
    expect(rejections.at(-1)?.error.code).toBe('ERR_SESSION_REVOKED');
  });

  it("a regenerate of a user's session makes one id, already in the user's slot", async () => {
    let made = 0;
    const { engine, config } = setup({
      generateId: () => `id-${++made}`,
    });
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { user: 'hal' });
    const before = made;
    const request = fakeRequest(cookieOf(first.setCookies()));
    const after = await engine.regenerateSession(request.request, config);
    expect(made - before).toBe(1);
    expect(after.id).toBe(`${userTagOf('hal')}.id-${made}`);
  });

  it('a move whose marker cannot be written fails with the store and undoes its new record', async () => {
    const inner = memoryStore();
    const failing = storeWith(inner, {
      markMoved: () => Promise.reject(new Error('connection lost')),
    });
    const { engine, config } = setup({}, failing);
    const first = fakeRequest();
    const before = await engine.updateSession(first.request, config, { user: 'ivy' });
    const request = fakeRequest(cookieOf(first.setCookies()));
    await expectCode(engine.regenerateSession(request.request, config), 'ERR_STORE_UNAVAILABLE');
    expect(request.setCookies()).toEqual([]);
    // The session the cookie names lives on, alone: the record made for the move is gone.
    expect(await engine.listSessions(config, 'ivy')).toEqual([
      expect.objectContaining({ id: before.id }),
    ]);
    expect((await inner.get(before.id))?.data).toEqual({ user: '"ivy"' });
  });

  it("a regenerate's catch-up that finds its new record revoked is refused and brings nothing back", async () => {
    const inner = memoryStore();
    let meanwhile: ((to: string) => Promise<void>) | undefined;
    const racing = storeWith(inner, {
      markMoved: async (id, to, until) => {
        const run = meanwhile;
        meanwhile = undefined;
        await run?.(to);
        return inner.markMoved(id, to, until);
      },
    });
    const { engine, config } = setup({}, racing);
    const first = fakeRequest();
    const before = await engine.updateSession(first.request, config, { user: 'jo', n: 1 });
    const cookie = cookieOf(first.setCookies());
    const request = fakeRequest(cookie);
    await engine.getSession(request.request, config);
    let newId: string | undefined;
    meanwhile = async (to) => {
      newId = to;
      // Another request changes the old record (the catch-up must carry it over), and the
      // new id is revoked before the catch-up writes it.
      await engine.updateSession(fakeRequest(cookie).request, config, { n: 2 });
      expect(await engine.revokeSession(config, to)).toBe(true);
    };
    await expectCode(engine.regenerateSession(request.request, config), 'ERR_SESSION_REVOKED');
    expect(newId).toBeDefined();
    expect(await inner.get(newId!)).toBeUndefined();
    expect(await inner.get(before.id)).toBeUndefined();
    expect(await engine.listSessions(config, 'jo')).toEqual([]);
    expect(request.setCookies()).toEqual([]);
  });

  it('a sign-out follows a long chain of moves to its end, and past the limit fails rather than claim it', async () => {
    const { engine, config } = setup();
    const chain = async (moves: number) => {
      let request = fakeRequest();
      const first = await engine.updateSession(request.request, config, { user: 'kim' });
      const firstId = first.id;
      for (let i = 0; i < moves; i++) {
        const next = fakeRequest(cookieOf(request.setCookies()));
        await engine.regenerateSession(next.request, config);
        request = next;
      }
      return firstId;
    };
    expect(await engine.revokeSession(config, await chain(1000))).toBe(true);
    expect(await engine.listSessions(config, 'kim')).toEqual([]);

    const error = await engine.revokeSession(config, await chain(1001)).catch((e: unknown) => e);
    expect(isSessionError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/more than 1000 times.*revoke the user's sessions/);
    // The session was not ended, and the user's revocation reaches it.
    expect(await engine.listSessions(config, 'kim')).toHaveLength(1);
    expect(await engine.revokeUserSessions(config, 'kim')).toBe(1);
  });

  it('with idleTimeout, an update that changes nothing within half the window makes no call and no cookie', async () => {
    const { engine, config, calls, advance } = setup({ maxAge: undefined, idleTimeout: 600 });
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    advance(MINUTE);
    const again = fakeRequest(cookieOf(first.setCookies()));
    const session = await engine.updateSession(again.request, config, { a: 1 });
    expect(session.data).toEqual({ a: 1 });
    expect(calls.write).toBe(1);
    expect(calls.touch).toBeUndefined();
    expect(again.setCookies()).toEqual([]);
  });

  it('an idle renewal that finds its record revoked fails, and the cookie stays as it was', async () => {
    const inner = memoryStore();
    const revoking = storeWith(inner, {
      touch: async (id, lastSeenAt, expiresAt) => {
        await inner.delete(id);
        return inner.touch(id, lastSeenAt, expiresAt);
      },
    });
    const { engine, config, advance } = setup({ maxAge: undefined, idleTimeout: 600 }, revoking);
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { user: 'lee' });
    advance(6 * MINUTE);
    const renewal = fakeRequest(cookieOf(first.setCookies()));
    await engine.getSession(renewal.request, config);
    await expectCode(engine.updateSession(renewal.request, config), 'ERR_SESSION_REVOKED');
    expect(renewal.setCookies()).toEqual([]);
    expect(await engine.listSessions(config, 'lee')).toEqual([]);
  });

  it('a sign-in whose new record cannot be created is refused, the old session kept', async () => {
    const inner = memoryStore();
    const refusing = storeWith(inner, {
      write: (id, change) =>
        change.mode === 'create' && userTagInId(id) !== undefined
          ? Promise.resolve(false)
          : inner.write(id, change),
    });
    const { engine, config } = setup({}, refusing);
    const first = fakeRequest();
    const anonymous = await engine.updateSession(first.request, config, { cart: [1] });
    const anonymousId = anonymous.id;
    const signIn = fakeRequest(cookieOf(first.setCookies()));
    await expectCode(
      engine.updateSession(signIn.request, config, { user: 'max' }),
      'ERR_SESSION_REVOKED',
    );
    expect(signIn.setCookies()).toEqual([]);
    expect((await inner.get(anonymousId))?.data).toEqual({ cart: '[1]' });
  });

  it('listSessions leaves out a session past its idle window that the store still holds', async () => {
    const { engine, config, advance } = setup({ maxAge: undefined, idleTimeout: 600 });
    const first = fakeRequest();
    const session = await engine.updateSession(first.request, config, { user: 'ned' });
    expect((await engine.listSessions(config, 'ned')).map((info) => info.id)).toEqual([session.id]);
    advance(11 * MINUTE);
    expect(await engine.listSessions(config, 'ned')).toEqual([]);
  });

  it('revokeUserSessions keeps the sessions named in except, one id or several', async () => {
    const { engine, config } = setup();
    const signIn = async () => {
      const request = fakeRequest();
      return (await engine.updateSession(request.request, config, { user: 'ora' })).id;
    };
    const ids = [await signIn(), await signIn(), await signIn()];
    expect(await engine.revokeUserSessions(config, 'ora', { except: ids[0]! })).toBe(2);
    expect((await engine.listSessions(config, 'ora')).map((info) => info.id)).toEqual([ids[0]]);
    const more = [await signIn(), await signIn()];
    expect(await engine.revokeUserSessions(config, 'ora', { except: [ids[0]!, more[1]!] })).toBe(1);
    expect((await engine.listSessions(config, 'ora')).map((info) => info.id).sort()).toEqual(
      [ids[0], more[1]].sort(),
    );
  });

  it('a numeric user key is a user like its decimal string', async () => {
    const { engine, config } = setup({
      userKey: (data: { userId?: number }) => data.userId,
    });
    const request = fakeRequest();
    const session = await engine.updateSession(request.request, config, { userId: 42 });
    expect(userTagInId(session.id)).toBe(userTagOf('42'));
    expect((await engine.listSessions(config, 42)).map((info) => info.id)).toEqual([session.id]);
    expect((await engine.listSessions(config, '42')).map((info) => info.id)).toEqual([session.id]);
  });

  it("a clear before any read in a request with a session header deletes the header's session", async () => {
    const { engine, config, store } = setup();
    const signIn = fakeRequest();
    const session = await engine.updateSession(signIn.request, config, { user: 'pia' });
    const token = await engine.sealSession(signIn.request, config);
    const cookies: string[] = [];
    const headerRequest = createRequestContext({
      getRequestHeader: (name) => (name === 'x-h3-session' ? token : undefined),
      setCookie: (header) => {
        cookies.push(header);
      },
      headersSent: () => false,
    });
    await engine.clearSession(headerRequest, config);
    expect(await store.get(session.id)).toBeUndefined();
    // A session from the header is the API client's: its cookie is not touched.
    expect(cookies).toEqual([]);
  });

  it("the record's own times decide: a record older than the reference says is refused", async () => {
    const inner = memoryStore();
    let age = { created: 0, seen: 0 };
    const aging = storeWith(inner, {
      get: async (id) => {
        const record = await inner.get(id);
        return (
          record && {
            ...record,
            createdAt: record.createdAt - age.created,
            lastSeenAt: record.lastSeenAt - age.seen,
          }
        );
      },
    });
    const { engine, config, rejections } = setup({ maxAge: 3600, idleTimeout: 600 }, aging);
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const cookie = cookieOf(first.setCookies());
    age = { created: 3601_000, seen: 0 };
    expect((await engine.getSession(fakeRequest(cookie).request, config)).data).toEqual({});
    age = { created: 0, seen: 601_000 };
    expect((await engine.getSession(fakeRequest(cookie).request, config)).data).toEqual({});
    expect(rejections.map((r) => [r.error.code, r.error.message])).toEqual([
      ['ERR_SESSION_EXPIRED', 'The session has expired'],
      ['ERR_SESSION_EXPIRED', 'The session was idle for too long'],
    ]);
  });

  it('a record whose values are not JSON, or carry a prototype key, is refused with its reason', async () => {
    const inner = memoryStore();
    let values: Record<string, string> = {};
    const corrupt = storeWith(inner, {
      get: async (id) => {
        const record = await inner.get(id);
        return record && { ...record, data: values };
      },
    });
    const { engine, config, rejections } = setup({}, corrupt);
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const cookie = cookieOf(first.setCookies());
    values = { a: 'not json' };
    expect((await engine.getSession(fakeRequest(cookie).request, config)).data).toEqual({});
    values = { a: '{"__proto__": {"polluted": true}}' };
    expect((await engine.getSession(fakeRequest(cookie).request, config)).data).toEqual({});
    expect(rejections.map((r) => r.error.code)).toEqual(['ERR_COOKIE_INVALID', 'ERR_DATA_INVALID']);
  });

  it('a top-level key named __proto__ stays data through the store, and changes no prototype', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    // A computed key defines an own property; a plain `__proto__:` would set the prototype.
    const session = await engine.updateSession(first.request, config, {
      ['__proto__']: { admin: true },
      a: 1,
    });
    expect((await store.get(session.id))?.data).toEqual({
      ['__proto__']: '{"admin":true}',
      a: '1',
    });
    const read = await engine.getSession(fakeRequest(cookieOf(first.setCookies())).request, config);
    expect(Object.getPrototypeOf(read.data)).toBe(Object.prototype);
    expect(Object.hasOwn(read.data, '__proto__')).toBe(true);
    expect(read.data['__proto__']).toEqual({ admin: true });
    expect((read.data as { admin?: unknown }).admin).toBeUndefined();
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it('a __proto__ key stays data when the session moves to a new id (a change of user)', async () => {
    const { engine, config, store } = setup({ userKey: (data) => data['user'] as string });
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { a: 1 });
    const second = fakeRequest(cookieOf(first.setCookies()));
    const moved = await engine.updateSession(second.request, config, {
      ['__proto__']: { admin: true },
      user: 'hal',
    });
    expect((await store.get(moved.id))?.data).toEqual({
      ['__proto__']: '{"admin":true}',
      a: '1',
      user: '"hal"',
    });
  });

  it('with the cookie off, a store session is written to the store and sets no cookie', async () => {
    const { engine, config, store } = setup({ cookie: false });
    const request = fakeRequest();
    const session = await engine.updateSession(request.request, config, { a: 1 });
    expect(request.setCookies()).toEqual([]);
    expect((await store.get(session.id))?.data).toEqual({ a: '1' });
  });

  it('a clear with a refused session header falls back to the cookie and ends its session', async () => {
    const { engine, config, store } = setup();
    const first = fakeRequest();
    const session = await engine.updateSession(first.request, config, { a: 1 });
    const cookie = cookieOf(first.setCookies())!;
    const cookies: string[] = [];
    const request = createRequestContext({
      getRequestHeader: (name) =>
        name === 'x-h3-session' ? 'Fe26.2**not-a-token' : name === 'cookie' ? cookie : undefined,
      setCookie: (header) => {
        cookies.push(header);
      },
      headersSent: () => false,
    });
    await engine.clearSession(request, config);
    expect(await store.get(session.id)).toBeUndefined();
    expect(cookies.join('\n')).toMatch(/^h3=;/m);
  });

  it('refuses configurations that break the store rules', async () => {
    const store = memoryStore();
    const cases: [Partial<SessionConfig>, RegExp][] = [
      [{ store, maxAge: undefined }, /maxAge or idleTimeout/],
      [{ store: undefined, userKey: (d: { user?: string }) => d.user }, /userKey needs a store/],
      [{ store: { kind: 'x' } as unknown as SessionStore }, /store must have the methods/],
      [{ store: storeWith(store, {}, { timeout: -1 }) }, /store.timeout/],
      [{ store: storeWith(store, {}, { timeout: 2 ** 31 }) }, /store.timeout/],
      [{ store, userKey: 'user' as unknown as () => string }, /userKey must be a function/],
    ];
    for (const [extra, message] of cases) {
      const { engine, config } = setup(extra);
      const error = await engine.getSession(fakeRequest().request, config).catch((e: unknown) => e);
      expect(isSessionError(error, 'ERR_CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    const { engine } = setup();
    await expectCode(engine.listSessions({ password: PASSWORD }, 'x'), 'ERR_CONFIG_INVALID');
    const { config } = setup();
    await expectCode(engine.listSessions(config, ''), 'ERR_CONFIG_INVALID');
    const { config: noUserKey } = setup({ userKey: undefined });
    await expectCode(engine.listSessions(noUserKey, 'x'), 'ERR_CONFIG_INVALID');
    await expectCode(engine.revokeUserSessions(noUserKey, 'x'), 'ERR_CONFIG_INVALID');
    await expectCode(engine.revokeSession(config, ''), 'ERR_CONFIG_INVALID');
  });
});
