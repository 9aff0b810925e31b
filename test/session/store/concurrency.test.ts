/**
 * Store mode under real concurrency, over real HTTP on 127.0.0.1, on the node host and on
 * Express, with `memoryStore()` and with `redisStore` on the machine's Redis at
 * 127.0.0.1:6379 through both clients (node-redis v5 `createClient`, ioredis), each Redis
 * suite under a random key prefix of its own. Races are arranged, not hoped for: a request
 * loads its session, then waits at a gate the test opens once the other side is done.
 * What it proves, on every store and host:
 *
 * - A slow request that loaded the session before a sign-out cannot bring it back: after
 *   "sign out everywhere" (revokeUserSessions) or a clear() in another request, its update
 *   rejects with ERR_SESSION_REVOKED (the response is an error, with the status that error
 *   carries, and sets no cookie), the
 *   record stays gone, and the user stays signed out on every device. The same holds for
 *   a slow regenerate() and a slow sign-out by update: a session that was revoked is not
 *   written again under a new id either.
 * - Two parallel requests of one session that change different keys both keep their
 *   change, whether the record existed or both are its first write; when they change the
 *   same key, the last write wins. That holds for a sign-in too (a change of `userId` that
 *   moves the session to a new id): a key another request changed meanwhile is kept, and
 *   the old id's record is deleted even when the other request was the one that wrote it.
 * - A flash set once and taken by 10 parallel requests (all of which loaded it) is
 *   returned to exactly one of them, and then is gone.
 * - Redis only: two server instances on one Redis (each with its own client, one
 *   node-redis and one ioredis) share sessions, and a revocation through one is seen by
 *   the other at its next request (fresh session, ERR_SESSION_REVOKED), also by a slow
 *   request it had in flight.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  listSessions,
  memoryStore,
  type SessionConfig,
  type SessionRejection,
  type SessionStore,
} from '../../../src/index.js';
import { httpStatusOf, SessionError } from '../../../src/errors.js';
import { redisStore } from '../../../src/store/redis.js';
import type { HostResponse, HostServer } from '../matrix/hosts.js';
import { secret } from '../matrix/helpers.js';
import { storeHosts } from './store-hosts.js';
import {
  Browser,
  codeOf,
  newGate,
  routesFor,
  setCookiesFor,
  userKey,
  type View,
} from './store-routes.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** The status a host answers for ERR_SESSION_REVOKED: the error's own (an error status). */
const REVOKED_STATUS = httpStatusOf(new SessionError('ERR_SESSION_REVOKED', 'revoked'));
const MAX_AGE = 3600;

type NodeRedis = ReturnType<typeof createClient>;

/** The stores a suite runs on: the store its hosts use, and for Redis a second instance's. */
interface StoreKit {
  readonly store: SessionStore;
  /** Another store on the same data through another client (Redis only). */
  readonly second: SessionStore | undefined;
  close(): Promise<void>;
}

interface StoreKind {
  readonly name: string;
  open(): Promise<StoreKit>;
}

async function nodeRedis(): Promise<NodeRedis> {
  const client = createClient({ url: REDIS_URL });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function ioredis(): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 2 });
  client.on('error', () => undefined);
  await client.ping();
  return client;
}

/** Deletes every key under `prefix` (SCAN, so a shared server is never blocked). */
async function deleteKeys(client: NodeRedis, prefix: string): Promise<void> {
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await client.sendCommand<[string, string[]]>([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      '1000',
    ]);
    if (keys.length > 0) await client.sendCommand(['DEL', ...keys]);
    cursor = next;
    if (cursor === '0') return;
  }
}

/** Redis through `primary` ('node-redis' or 'ioredis'); the second instance uses the other. */
function redisKind(primary: 'node-redis' | 'ioredis'): StoreKind {
  return {
    name: `redis (${primary})`,
    async open() {
      const prefix = `test-store-concurrency:${randomUUID()}:`;
      const node = await nodeRedis();
      const io = await ioredis().catch(async (error: unknown) => {
        await node.quit();
        throw error;
      });
      const onNode = redisStore({ client: node, prefix });
      const onIo = redisStore({ client: io, prefix });
      return {
        store: primary === 'node-redis' ? onNode : onIo,
        second: primary === 'node-redis' ? onIo : onNode,
        async close() {
          try {
            await deleteKeys(node, prefix);
          } finally {
            await Promise.allSettled([node.quit(), io.quit()]);
          }
        },
      };
    },
  };
}

const storeKinds: readonly StoreKind[] = [
  {
    name: 'memory',
    open: () =>
      Promise.resolve({ store: memoryStore(), second: undefined, close: () => Promise.resolve() }),
  },
  redisKind('node-redis'),
  redisKind('ioredis'),
];

const concurrencyHosts = storeHosts.filter((host) => ['node', 'express'].includes(host.name));

interface Instance {
  readonly config: SessionConfig;
  readonly rejections: SessionRejection[];
  server: HostServer;
}

function instance(store: SessionStore, password: string): Instance {
  const rejections: SessionRejection[] = [];
  return {
    config: {
      password,
      maxAge: MAX_AGE,
      store,
      userKey,
      onInvalidToken: (rejection) => rejections.push(rejection),
    },
    rejections,
    server: undefined as unknown as HostServer,
  };
}

const aUser = (): string => `user-${randomUUID()}@example.test`;

const codes = (rejections: readonly SessionRejection[]): string[] =>
  rejections.map((rejection) => rejection.error.code);

/** `it` where a case applies; nothing (not a skipped test) where it does not. */
const itWhen = (applies: boolean): typeof it =>
  applies ? it : ((() => undefined) as unknown as typeof it);

describe.each(storeKinds)('store concurrency: $name', (kind) => {
  let kit: StoreKit | undefined;

  beforeAll(async () => {
    kit = await kind.open();
  });

  afterAll(async () => {
    await kit?.close();
  });

  describe.each(concurrencyHosts)('on $name', (host) => {
    const routes = routesFor(host.kind);
    const password = secret();
    let one: Instance;
    /** A second server instance on the same data, for Redis. */
    let two: Instance | undefined;

    beforeAll(async () => {
      one = instance(kit!.store, password);
      one.server = await host.start(one.config, routes);
      if (kit!.second !== undefined) {
        two = instance(kit!.second, password);
        two.server = await host.start(two.config, routes);
      }
    });

    afterAll(async () => {
      await Promise.all([one.server.close(), two?.server.close()]);
    });

    beforeEach(() => {
      for (const entry of [one, two]) {
        if (entry === undefined) continue;
        entry.rejections.length = 0;
        entry.server.errors.length = 0;
      }
    });

    async function visit(entry: Instance, browser: Browser, path: string): Promise<HostResponse> {
      const response = await entry.server.request(path, { headers: browser.headers() });
      browser.take(response);
      return response;
    }

    const bodyOf = (response: HostResponse): View => {
      expect(response.status, response.text).toBe(200);
      return response.json as View;
    };

    async function signedIn(user: string, entry = one): Promise<{ browser: Browser; id: string }> {
      const browser = new Browser();
      const body = bodyOf(await visit(entry, browser, `/sign-in?user=${encodeURIComponent(user)}`));
      return { browser, id: body.id! };
    }

    /** How many sessions a `/revoke-everywhere` response says it revoked. */
    const revokedBy = (response: HostResponse): unknown =>
      (bodyOf(response) as View & { revoked?: number }).revoked;

    async function storedSession(
      data: Record<string, unknown>,
    ): Promise<{ browser: Browser; id: string }> {
      const browser = new Browser();
      const body = bodyOf(await visit(one, browser, `/update?patch=${JSON.stringify(data)}`));
      return { browser, id: body.id! };
    }

    /** Starts a request that loads its session and waits at a new gate; resolves once it is there. */
    async function held(
      entry: Instance,
      browser: Browser,
      path: string,
    ): Promise<{ response: Promise<HostResponse>; release: () => void }> {
      const gate = newGate();
      const separator = path.includes('?') ? '&' : '?';
      const response = entry.server.request(`${path}${separator}gate=${gate.key}`, {
        headers: browser.headers(),
      });
      try {
        await gate.arrivals(1);
      } catch (error) {
        gate.open();
        throw error;
      }
      return {
        response,
        release: () => {
          gate.open();
        },
      };
    }

    /** The held request's response, once released: the error's status, and no cookie set. */
    function refused(response: HostResponse, entry: Instance): void {
      expect(REVOKED_STATUS).toBeGreaterThanOrEqual(400);
      expect(response.status, response.text).toBe(REVOKED_STATUS);
      expect(setCookiesFor(response)).toEqual([]);
      expect(entry.server.errors.map(codeOf)).toEqual(['ERR_SESSION_REVOKED']);
    }

    it('a slow update that loaded the session before "sign out everywhere" cannot bring it back', async () => {
      const user = aUser();
      const laptop = await signedIn(user);
      const phone = await signedIn(user);
      const slow = await held(one, laptop.browser, '/slow-update?patch={"late":1}');
      try {
        expect(revokedBy(await visit(one, phone.browser, '/revoke-everywhere'))).toBe(2);
      } finally {
        slow.release();
      }
      refused(await slow.response, one);
      expect(await kit!.store.get(laptop.id)).toBeUndefined();
      expect(await listSessions(one.config, user)).toEqual([]);
      for (const device of [laptop, phone]) {
        expect(bodyOf(await visit(one, device.browser, '/read')).data).toEqual({});
      }
      expect(codes(one.rejections)).toEqual(['ERR_SESSION_REVOKED', 'ERR_SESSION_REVOKED']);
    });

    it('a slow update that loaded the session before a clear() in another tab cannot bring it back', async () => {
      const { browser, id } = await storedSession({ cart: 1 });
      const otherTab = browser.copy();
      const slow = await held(one, browser, '/slow-update?patch={"cart":2}');
      try {
        expect(bodyOf(await visit(one, otherTab, '/logout'))).toEqual({ cleared: true });
      } finally {
        slow.release();
      }
      refused(await slow.response, one);
      expect(await kit!.store.get(id)).toBeUndefined();
      expect(bodyOf(await visit(one, browser, '/read')).data).toEqual({});
      expect(codes(one.rejections)).toEqual(['ERR_SESSION_REVOKED']);
    });

    it('a slow regenerate() that loaded the session before "sign out everywhere" does not sign the user back in', async () => {
      const user = aUser();
      const laptop = await signedIn(user);
      const phone = await signedIn(user);
      const slow = await held(one, laptop.browser, '/slow-regenerate');
      try {
        expect(revokedBy(await visit(one, phone.browser, '/revoke-everywhere'))).toBe(2);
      } finally {
        slow.release();
      }
      const response = await slow.response;
      expect(await listSessions(one.config, user)).toEqual([]);
      refused(response, one);
      laptop.browser.take(response);
      expect(bodyOf(await visit(one, laptop.browser, '/read')).data).toEqual({});
    });

    it('a slow sign-out by update after the session was revoked does not write it again under a new id', async () => {
      const user = aUser();
      const laptop = await signedIn(user);
      await visit(one, laptop.browser, '/update?patch={"cart":7}');
      const phone = await signedIn(user);
      const slow = await held(one, laptop.browser, '/slow-sign-out');
      try {
        expect(revokedBy(await visit(one, phone.browser, '/revoke-everywhere'))).toBe(2);
      } finally {
        slow.release();
      }
      const response = await slow.response;
      laptop.browser.take(response);
      // The revoked session's data does not live on under another id.
      const after = bodyOf(await visit(one, laptop.browser, '/read'));
      expect(after.data).toEqual({});
      refused(response, one);
    });

    it('two parallel requests changing different keys both keep their change', async () => {
      const { browser, id } = await storedSession({ base: 0 });
      const gate = newGate();
      const requests = ['{"a":1}', '{"b":2}'].map((patch) =>
        one.server.request(`/slow-update?gate=${gate.key}&patch=${patch}`, {
          headers: browser.headers(),
        }),
      );
      try {
        // Both loaded the record as { base: 0 } before either writes.
        await gate.arrivals(2);
      } finally {
        gate.open();
      }
      for (const response of await Promise.all(requests)) {
        expect(response.status, response.text).toBe(200);
        expect(setCookiesFor(response)).toEqual([]);
      }
      expect(bodyOf(await visit(one, browser, '/read'))).toEqual({
        id,
        createdAt: expect.any(Number) as number,
        data: { base: 0, a: 1, b: 2 },
      });
    });

    it('two parallel first writes of a new session both keep their change', async () => {
      const browser = new Browser();
      const id = bodyOf(await visit(one, browser, '/read')).id!;
      const gate = newGate();
      const requests = ['{"a":1}', '{"b":2}'].map((patch) =>
        one.server.request(`/slow-update?gate=${gate.key}&patch=${patch}`, {
          headers: browser.headers(),
        }),
      );
      try {
        await gate.arrivals(2);
      } finally {
        gate.open();
      }
      for (const response of await Promise.all(requests)) browser.take(response);
      expect(bodyOf(await visit(one, browser, '/read'))).toMatchObject({
        id,
        data: { a: 1, b: 2 },
      });
    });

    it('a sign-in racing the first write of the same new session leaves no record under the old id', async () => {
      const user = aUser();
      const browser = new Browser();
      const anonymousId = bodyOf(await visit(one, browser, '/read')).id!;
      // Both load the new session (no record yet); the cart is written first, then the sign-in.
      const cart = await held(one, browser, '/slow-update?patch={"cart":1}');
      const signIn = await held(one, browser, `/slow-sign-in?user=${encodeURIComponent(user)}`);
      cart.release();
      browser.take(await cart.response);
      signIn.release();
      const signedInResponse = await signIn.response;
      const body = bodyOf(signedInResponse);
      browser.take(signedInResponse);
      expect(body.id!.startsWith(anonymousId)).toBe(false);
      expect((await listSessions(one.config, user)).map((s) => s.id)).toEqual([body.id]);
      // The pre-sign-in id ends with the sign-in, whoever wrote its record.
      expect(await kit!.store.get(anonymousId)).toBeUndefined();
    });

    it('a sign-in takes only what it saw: a key another request added meanwhile stays behind', async () => {
      const user = aUser();
      const { browser } = await storedSession({ visits: 1 });
      const cart = await held(one, browser, '/slow-update?patch={"cart":1}');
      const signIn = await held(one, browser, `/slow-sign-in?user=${encodeURIComponent(user)}`);
      cart.release();
      expect((await cart.response).status).toBe(200);
      signIn.release();
      browser.take(await signIn.response);
      // A change of privilege carries nothing into the new session that it did not see.
      expect(bodyOf(await visit(one, browser, '/read')).data).toEqual({
        visits: 1,
        userId: user,
      });
    });

    it('a regenerate racing a change of another key keeps both changes', async () => {
      const user = aUser();
      const laptop = await signedIn(user);
      const tab = laptop.browser.copy();
      const cart = await held(one, tab, '/slow-update?patch={"cart":1}');
      const regenerate = await held(one, laptop.browser, '/slow-regenerate');
      cart.release();
      expect((await cart.response).status).toBe(200);
      regenerate.release();
      laptop.browser.take(await regenerate.response);
      expect(bodyOf(await visit(one, laptop.browser, '/read')).data).toEqual({
        userId: user,
        cart: 1,
      });
    });

    it('a sign-out sent with the cookie from before a regenerate still ends the moved session', async () => {
      const user = aUser();
      const laptop = await signedIn(user);
      const before = laptop.browser.copy();
      // The regenerate answers first; the sign-out was sent with the old cookie meanwhile.
      expect((await visit(one, laptop.browser, '/regenerate')).status).toBe(200);
      expect((await visit(one, before, '/logout')).status).toBe(200);
      expect(await listSessions(one.config, user)).toEqual([]);
      expect(bodyOf(await visit(one, laptop.browser, '/read')).data).toEqual({});
    });

    it('two parallel requests changing the same key: the last write wins', async () => {
      const { browser } = await storedSession({ k: 'initial', other: true });
      const first = await held(one, browser, '/slow-update?patch={"k":"first"}');
      const second = await held(one, browser, '/slow-update?patch={"k":"second"}');
      first.release();
      expect((await first.response).status).toBe(200);
      second.release();
      expect((await second.response).status).toBe(200);
      expect(bodyOf(await visit(one, browser, '/read')).data).toEqual({ k: 'second', other: true });
    });

    it('a flash set once and taken by 10 parallel requests is returned to exactly one', async () => {
      const browser = new Browser();
      bodyOf(await visit(one, browser, '/flash-set?value=hello'));
      const gate = newGate();
      const takers = Array.from({ length: 10 }, () =>
        one.server.request(`/slow-take?gate=${gate.key}`, { headers: browser.headers() }),
      );
      try {
        // All ten loaded the session with its flash before any takes it.
        await gate.arrivals(10);
      } finally {
        gate.open();
      }
      const values = (await Promise.all(takers)).map(
        (response) => (bodyOf(response) as { value?: unknown }).value,
      );
      expect(values.filter((value) => value !== undefined)).toEqual(['hello']);
      expect((bodyOf(await visit(one, browser, '/flash-take')) as { value?: unknown }).value).toBe(
        undefined,
      );
    });

    itWhen(kind.name !== 'memory')(
      'a revocation through one server instance is seen by another on the same Redis',
      async () => {
        const other = two!;
        const user = aUser();
        const laptop = await signedIn(user, one);
        // The other instance opens the same session from the same cookie.
        expect(bodyOf(await visit(other, laptop.browser, '/read'))).toMatchObject({
          id: laptop.id,
          data: { userId: user },
        });
        const slow = await held(other, laptop.browser, '/slow-update?patch={"late":1}');
        const phone = await signedIn(user, one);
        try {
          expect(revokedBy(await visit(one, phone.browser, '/revoke-everywhere'))).toBe(2);
        } finally {
          slow.release();
        }
        refused(await slow.response, other);
        const next = bodyOf(await visit(other, laptop.browser, '/read'));
        expect(next.id).not.toBe(laptop.id);
        expect(next.data).toEqual({});
        expect(codes(other.rejections)).toEqual(['ERR_SESSION_REVOKED']);
        expect(await listSessions(other.config, user)).toEqual([]);
      },
    );
  });
});
