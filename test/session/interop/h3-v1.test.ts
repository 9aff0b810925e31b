/**
 * Cross-implementation with the real h3 1.x (`h3-v1`, what vinxi ships): an h3 app using
 * h3's own `useSession` and a sealed-session app on our node adapter, both on 127.0.0.1
 * with the same password and session name, read each other's cookies (and session-header
 * tokens): same id, createdAt and data, in both directions, with password ids and maxAge.
 *
 * What h3 1.x itself cannot do is pinned too (it cannot unseal with password maps): it passes the password
 * to iron-webcrypto 1.x, which seals with `{ id, secret }` but cannot unseal with it (it
 * looks the token's id up as a key of the password object), and which unseals with a map
 * `{ v1: secret }` but cannot seal with one. So h3 is given `{ id, secret }` to write and a
 * map to read; these tests show our side accepts both shapes in both roles.
 */
import {
  createApp,
  eventHandler as h3EventHandler,
  getSession as h3GetSession,
  sealSession as h3SealSession,
  toNodeListener as h3ToNodeListener,
  useSession as h3UseSession,
  type SessionConfig as H3SessionConfig,
} from 'h3-v1';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATA,
  describeSessionExchange,
  expectRefusedByOurs,
  NAME,
  OLD_SECRET,
  SECRET,
  closeRunning,
  cookieHeader,
  pathOf,
  running,
  startOurs,
  updateOf,
  withData,
} from './apps.js';
import { getJson, listen, onlySetCookie, setCookiesOf, type RunningServer } from './harness.js';

afterEach(closeRunning);

/**
 * h3 1.x app: `/read` (useSession), `/write` (useSession + update with `x-data`), `/seal`
 * (the session's sealed token). Every route answers the session's id, createdAt and data.
 */
async function startH3(config: H3SessionConfig): Promise<RunningServer> {
  const app = createApp();
  app.use(
    h3EventHandler(async (event) => {
      const path = pathOf(event.node.req.url);
      const session = await h3UseSession(event, config);
      if (path === '/write') await session.update(updateOf(event.node.req.headers['x-data']));
      if (path === '/seal') return { token: await h3SealSession(event, config) };
      const full = await h3GetSession(event, config);
      return { id: full.id, createdAt: full.createdAt, data: full.data };
    }),
  );
  const server = await listen(h3ToNodeListener(app));
  running.push(server);
  return server;
}

/** The password-id field of an Fe26.2 token. */
function passwordIdOf(token: string): string | undefined {
  return token.split('*')[1];
}

describeSessionExchange('h3 1.x', () => startH3({ password: SECRET, name: NAME }));

describe('h3 1.x and ours with different passwords', () => {
  it('a different password on one side gives a fresh session there, never a 500', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: OLD_SECRET, name: NAME });
    await expectRefusedByOurs(h3, ours, 'ERR_SEAL_UNSEAL_FAILED');
  });
});

describe('password ids', () => {
  // h3's SessionConfig types `password` as a string; at run time it hands any shape on to
  // iron-webcrypto 1.x, which is what these tests exercise.
  const h3Password = (password: unknown): string => password as string;

  it('h3 sealing with { id: "v1", secret } is read by ours with a map { v1 } and with { id: "v1", secret }', async () => {
    const h3 = await startH3({ password: h3Password({ id: 'v1', secret: SECRET }), name: NAME });
    const withMap = await startOurs({ password: { v1: SECRET }, name: NAME });
    const withObject = await startOurs({ password: { id: 'v1', secret: SECRET }, name: NAME });

    const written = await getJson(`${h3.origin}/write`, withData(DATA));
    const token = onlySetCookie(written.response, NAME).value;
    expect(passwordIdOf(token)).toBe('v1');

    for (const ours of [withMap, withObject]) {
      const read = await getJson(`${ours.origin}/read`, cookieHeader(token));
      expect(read.body).toEqual(written.body);
      expect(ours.rejections).toEqual([]);
      // Sealed under the current id: nothing to reseal.
      expect(setCookiesOf(read.response, NAME)).toEqual([]);
    }
  });

  it('documents the h3 1.x defect: h3 cannot unseal its own { id, secret } cookie', async () => {
    const h3 = await startH3({ password: h3Password({ id: 'v1', secret: SECRET }), name: NAME });
    const written = await getJson(`${h3.origin}/write`, withData(DATA));
    const again = await getJson(
      `${h3.origin}/read`,
      cookieHeader(onlySetCookie(written.response, NAME).value),
    );
    // iron-webcrypto 1.x throws "Cannot find password: v1"; h3 swallows it: a new session.
    expect(again.body.id).not.toBe(written.body.id);
    expect(again.body.data).toEqual({});
  });

  it('ours sealing with a map whose current id is "v1" is read by h3 given the map { v1 }', async () => {
    const ours = await startOurs({ password: { v1: SECRET }, name: NAME });
    // iron-webcrypto 1.x unseals with a map (it looks the token's id up in it) but cannot
    // seal with one, so this h3 app can only read valid sessions: a new session would
    // fail to seal. Reading is what it does here.
    const h3Reader = await startH3({ password: h3Password({ v1: SECRET }), name: NAME });
    const h3WithObject = await startH3({
      password: h3Password({ id: 'v1', secret: SECRET }),
      name: NAME,
    });

    const written = await getJson(`${ours.origin}/write`, withData(DATA));
    const token = onlySetCookie(written.response, NAME).value;
    expect(passwordIdOf(token)).toBe('v1');

    const read = await getJson(`${h3Reader.origin}/read`, cookieHeader(token));
    expect(read.body).toEqual(written.body);
    expect(setCookiesOf(read.response, NAME)).toEqual([]);

    // The same h3 defect from this side: with { id, secret } it does not find "v1".
    const notRead = await getJson(`${h3WithObject.origin}/read`, cookieHeader(token));
    expect(notRead.body.id).not.toBe(written.body.id);
    expect(notRead.body.data).toEqual({});
  });

  it('rotation: an h3 cookie under id "1" is read by ours with { 1: old, 2: new }, resealed under "2", and read back by h3 with { 2: new }', async () => {
    const h3Writer = await startH3({
      password: h3Password({ id: '1', secret: OLD_SECRET }),
      name: NAME,
    });
    const ours = await startOurs({ password: { 1: OLD_SECRET, 2: SECRET }, name: NAME });
    const h3Reader = await startH3({ password: h3Password({ 2: SECRET }), name: NAME });

    const written = await getJson(`${h3Writer.origin}/write`, withData(DATA));
    const oldToken = onlySetCookie(written.response, NAME).value;
    expect(passwordIdOf(oldToken)).toBe('1');

    const read = await getJson(`${ours.origin}/read`, cookieHeader(oldToken));
    expect(read.body).toEqual(written.body);
    expect(ours.rejections).toEqual([]);
    const resealed = onlySetCookie(read.response, NAME).value;
    expect(passwordIdOf(resealed)).toBe('2');

    const readBack = await getJson(`${h3Reader.origin}/read`, cookieHeader(resealed));
    expect(readBack.body).toEqual(written.body);
  });
});

describe('maxAge on both sides', () => {
  const MAX_AGE = 3600;

  it('h3 and ours agree on createdAt, Expires and the token expiry, both ways', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME, maxAge: MAX_AGE });
    const ours = await startOurs({ password: SECRET, name: NAME, maxAge: MAX_AGE });

    const before = Date.now();
    const written = await getJson(`${h3.origin}/write`, withData(DATA));
    const h3Cookie = onlySetCookie(written.response, NAME);
    const createdAt = written.body.createdAt!;
    expect(createdAt).toBeGreaterThanOrEqual(before);
    const expires = new Date(createdAt + MAX_AGE * 1000).toUTCString();
    expect(h3Cookie.attributes['expires']).toBe(expires);
    const h3Expiration = Number(h3Cookie.value.split('*')[5]);
    expect(h3Expiration).toBeGreaterThanOrEqual(createdAt + MAX_AGE * 1000);

    // Ours reads h3's session, then rewrites it: same createdAt, so the same Expires, and
    // a Max-Age that agrees with it.
    const updated = await getJson(`${ours.origin}/write`, {
      ...cookieHeader(h3Cookie.value),
      ...withData({ touched: 'by ours' }),
    });
    expect(updated.body).toEqual({
      id: written.body.id,
      createdAt,
      data: { ...DATA, touched: 'by ours' },
    });
    expect(ours.rejections).toEqual([]);
    const ourCookie = onlySetCookie(updated.response, NAME);
    expect(ourCookie.attributes['expires']).toBe(expires);
    const maxAge = Number(ourCookie.attributes['max-age']);
    const remaining = (createdAt + MAX_AGE * 1000 - Date.now()) / 1000;
    expect(maxAge).toBeLessThanOrEqual(MAX_AGE);
    expect(Math.abs(maxAge - remaining)).toBeLessThanOrEqual(2);
    expect(Number(ourCookie.value.split('*')[5])).toBeGreaterThanOrEqual(
      createdAt + MAX_AGE * 1000,
    );

    const readByH3 = await getJson(`${h3.origin}/read`, cookieHeader(ourCookie.value));
    expect(readByH3.body).toEqual(updated.body);
  });

  it('a session older than maxAge is refused by both sides', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME, maxAge: 1 });
    const ours = await startOurs({ password: SECRET, name: NAME, maxAge: 1 });

    const fromH3 = await getJson(`${h3.origin}/write`, withData(DATA));
    const fromOurs = await getJson(`${ours.origin}/write`, withData(DATA));
    const h3Token = onlySetCookie(fromH3.response, NAME).value;
    const ourToken = onlySetCookie(fromOurs.response, NAME).value;

    // Fresh: each side reads the other's.
    expect((await getJson(`${ours.origin}/read`, cookieHeader(h3Token))).body).toEqual(fromH3.body);
    expect((await getJson(`${h3.origin}/read`, cookieHeader(ourToken))).body).toEqual(
      fromOurs.body,
    );

    // Past maxAge (the iron ttl of 1 s is still within iron's 60 s skew, so it is the
    // createdAt check that refuses them, on both sides).
    await new Promise((resolve) => setTimeout(resolve, 1_150));
    const staleOnOurs = await getJson(`${ours.origin}/read`, cookieHeader(h3Token));
    expect(staleOnOurs.body.id).not.toBe(fromH3.body.id);
    expect(staleOnOurs.body.data).toEqual({});
    expect(ours.rejections.map((r) => r.error.code)).toEqual(['ERR_SESSION_EXPIRED']);

    const staleOnH3 = await getJson(`${h3.origin}/read`, cookieHeader(ourToken));
    expect(staleOnH3.body.id).not.toBe(fromOurs.body.id);
    expect(staleOnH3.body.data).toEqual({});
  });
});
