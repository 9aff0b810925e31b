/**
 * Cross-implementation with the real h3 2.x (`h3-v2`): an h3 2.x app using its own
 * `useSession` and a sealed-session app, both on 127.0.0.1 with the same password and
 * session name.
 *
 * h3 2.x seals with 8192 PBKDF2 iterations (its defaults), so sealed-session shares its
 * cookies when given the same `seal` options (README, "From h3 2.x"). Every h3 2.x token
 * carries new salts, so each one read here derives two keys at 8192 iterations: the node
 * backend does that on the thread pool (test/iron/key-derivation.test.ts shows it yields).
 * Both read tokens sealed with iron's default of 1 iteration through the legacy fallback,
 * and reseal them at 8192; both read each other's chunked cookies (sessions over 4 KB).
 */
import {
  H3,
  getSession as h3GetSession,
  sealSession as h3SealSession,
  toNodeHandler,
  useSession as h3UseSession,
  type SessionConfig as H3SessionConfig,
} from 'h3-v2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATA,
  describeSessionExchange,
  expectRefusedByOurs,
  NAME,
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

/** h3 2.x's own defaults, which sealed-session needs to share its cookies. */
const H3_V2_SEAL = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };

/** h3 2.x app with the routes of our app (see apps.ts). */
async function startH3(config: H3SessionConfig): Promise<RunningServer> {
  const app = new H3();
  app.all('/**', async (event) => {
    const path = pathOf(event.url.pathname);
    const session = await h3UseSession(event, config);
    if (path === '/write') await session.update(updateOf(event.req.headers.get('x-data')));
    if (path === '/seal') return { token: await h3SealSession(event, config) };
    const full = await h3GetSession(event, config);
    return { id: full.id, createdAt: full.createdAt, data: full.data };
  });
  const server = await listen(toNodeHandler(app));
  running.push(server);
  return server;
}

describeSessionExchange('h3 2.x', () => startH3({ password: SECRET, name: NAME }), {
  seal: H3_V2_SEAL,
});

describe('iteration counts that differ', () => {
  it('without h3 2.x seal options, ours refuses an h3 2.x cookie as unverifiable and starts a fresh session', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME });
    await expectRefusedByOurs(h3, ours, 'ERR_SEAL_UNSEAL_FAILED');
  });

  it('h3 2.x reads a cookie ours sealed at iron’s default of 1 iteration (its legacy fallback) and rewrites it for itself', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME });

    const written = await getJson(`${ours.origin}/write`, withData(DATA));
    const ourToken = onlySetCookie(written.response, NAME).value;

    const read = await getJson(`${h3.origin}/read`, cookieHeader(ourToken));
    expect(read.body).toEqual(written.body);
    const rewritten = onlySetCookie(read.response, NAME).value;
    expect(rewritten).not.toBe(ourToken);

    // The rewritten cookie is at h3 2.x's 8192 iterations: h3 reads it without rewriting
    // it again, and so does ours once given the same options.
    const readAgain = await getJson(`${h3.origin}/read`, cookieHeader(rewritten));
    expect(readAgain.body).toEqual(written.body);
    expect(setCookiesOf(readAgain.response, NAME)).toEqual([]);
    const oursAt8192 = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });
    expect((await getJson(`${oursAt8192.origin}/read`, cookieHeader(rewritten))).body).toEqual(
      written.body,
    );
    expect(oursAt8192.rejections).toEqual([]);
  });
});

describe('sessions over 4 KB: h3 2.x chunked cookies, both ways', () => {
  it('ours reads a session h3 2.x split into chunks, and h3 2.x reads the chunks ours writes', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });
    const big = { big: 'x'.repeat(9000) };

    const written = await getJson(`${h3.origin}/write`, withData(big));
    const h3Cookies = written.response.headers.getSetCookie().map((raw) => raw.split(';')[0]!);
    // h3 2.x writes `name=__chunked__N` and the pieces as `name.1` ... `name.N`.
    expect(h3Cookies[0]).toMatch(new RegExp(`^${NAME}=__chunked__\\d+$`));
    const read = await getJson(`${ours.origin}/read`, { cookie: h3Cookies.join('; ') });
    expect(read.body).toEqual(written.body);
    expect(ours.rejections).toEqual([]);

    const oursWritten = await getJson(`${ours.origin}/write`, withData(big));
    const ourSetCookies = oursWritten.response.headers.getSetCookie();
    expect(ourSetCookies[0]).toMatch(new RegExp(`^${NAME}=__chunked__\\d+;`));
    for (const header of ourSetCookies) expect(header.length).toBeLessThanOrEqual(4096);
    const ourCookies = ourSetCookies.map((raw) => raw.split(';')[0]!).join('; ');
    const readByH3 = await getJson(`${h3.origin}/read`, { cookie: ourCookies });
    expect(readByH3.body).toEqual(oursWritten.body);
  });
});

describe('legacySealFallback, as h3 2.x', () => {
  it('with 8192 iterations, ours reads a 1-iteration cookie (vinxi, h3 1.x) and reseals it at 8192', async () => {
    const vinxiLike = await startOurs({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });
    const h3 = await startH3({ password: SECRET, name: NAME });

    const written = await getJson(`${vinxiLike.origin}/write`, withData(DATA));
    const oldToken = onlySetCookie(written.response, NAME).value;
    const read = await getJson(`${ours.origin}/read`, cookieHeader(oldToken));
    expect(read.body).toEqual(written.body);
    expect(ours.rejections).toEqual([]);
    // Resealed at the first read, at 8192 iterations: h3 2.x reads it without its own fallback
    // (it would rewrite a 1-iteration cookie).
    const resealed = onlySetCookie(read.response, NAME).value;
    expect(resealed).not.toBe(oldToken);
    const readByH3 = await getJson(`${h3.origin}/read`, cookieHeader(resealed));
    expect(readByH3.body).toEqual(written.body);
    expect(setCookiesOf(readByH3.response, NAME)).toEqual([]);
  });

  it('legacySealFallback: false refuses a 1-iteration cookie', async () => {
    const vinxiLike = await startOurs({ password: SECRET, name: NAME });
    const strict = await startOurs({
      password: SECRET,
      name: NAME,
      seal: H3_V2_SEAL,
      legacySealFallback: false,
    });
    await expectRefusedByOurs(vinxiLike, strict, 'ERR_SEAL_UNSEAL_FAILED');
  });
});
