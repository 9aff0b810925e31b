/**
 * Cross-implementation with the real h3 2.x (`h3-v2`): an h3 2.x app using its own
 * `useSession` and a sealed-session app, both on 127.0.0.1 with the same password and
 * session name.
 *
 * h3 2.x seals with 8192 PBKDF2 iterations (its defaults), so sealed-session shares its
 * cookies when given the same `seal` options (README, "From h3 2.x"). Every h3 2.x token
 * carries new salts, so each one read here derives two keys at 8192 iterations: the node
 * backend does that on the thread pool (test/iron/key-derivation.test.ts shows it yields).
 * h3 2.x reads tokens sealed with iron's default of 1 iteration through its legacy
 * fallback, and rewrites them at 8192.
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
  HEADER,
  NAME,
  SECRET,
  UUID,
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

/** The PBKDF2 iteration count a token was sealed with cannot be read off it; its shape can. */
const FE26 = /^Fe26\.2\*\*[0-9a-f]{64}\*[\w-]{22}\*[\w-]+\*\d*\*[0-9a-f]{64}\*[\w-]{43}$/;

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

describe('h3 2.x useSession ↔ sealed-session with h3 2.x seal options', () => {
  it('a cookie written by h3 2.x is read by ours: same id, createdAt, data, nothing rewritten', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });

    const written = await getJson(`${h3.origin}/write`, withData(DATA));
    const cookie = onlySetCookie(written.response, NAME);
    expect(cookie.value).toMatch(FE26);
    expect(written.body.id).toMatch(UUID);
    expect(written.body.data).toEqual(DATA);

    const read = await getJson(`${ours.origin}/read`, cookieHeader(cookie.value));
    expect(read.body).toEqual(written.body);
    expect(ours.rejections).toEqual([]);
    expect(setCookiesOf(read.response, NAME)).toEqual([]);
  });

  it('a cookie written by ours is read by h3 2.x without its legacy fallback', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });

    const written = await getJson(`${ours.origin}/write`, withData(DATA));
    const read = await getJson(
      `${h3.origin}/read`,
      cookieHeader(onlySetCookie(written.response, NAME).value),
    );
    expect(read.body).toEqual(written.body);
    // h3 2.x rewrites an existing session's cookie only when its legacy (1-iteration)
    // fallback was needed: no Set-Cookie means it verified ours at 8192 iterations.
    expect(setCookiesOf(read.response, NAME)).toEqual([]);
  });

  it('a session goes back and forth, each side updating what the other wrote', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });

    const first = await getJson(`${h3.origin}/write`, withData({ step: 1, by: 'h3' }));
    let token = onlySetCookie(first.response, NAME).value;
    const second = await getJson(`${ours.origin}/write`, {
      ...cookieHeader(token),
      ...withData({ step: 2, ours: true }),
    });
    token = onlySetCookie(second.response, NAME).value;
    const third = await getJson(`${h3.origin}/write`, {
      ...cookieHeader(token),
      ...withData({ step: 3, by: 'h3 again' }),
    });
    token = onlySetCookie(third.response, NAME).value;
    const last = await getJson(`${ours.origin}/read`, cookieHeader(token));

    expect(last.body).toEqual({
      id: first.body.id,
      createdAt: first.body.createdAt,
      data: { step: 3, by: 'h3 again', ours: true },
    });
    expect(ours.rejections).toEqual([]);
  });

  it('tokens handed over in the session header are read both ways', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });

    const h3Session = await getJson(`${h3.origin}/write`, withData({ from: 'h3' }));
    const h3Token = await getJson(
      `${h3.origin}/seal`,
      cookieHeader(onlySetCookie(h3Session.response, NAME).value),
    );
    const readByOurs = await getJson(`${ours.origin}/read`, { [HEADER]: h3Token.body.token! });
    expect(readByOurs.body).toEqual(h3Session.body);

    const ourSession = await getJson(`${ours.origin}/write`, withData({ from: 'ours' }));
    const ourToken = await getJson(
      `${ours.origin}/seal`,
      cookieHeader(onlySetCookie(ourSession.response, NAME).value),
    );
    const readByH3 = await getJson(`${h3.origin}/read`, { [HEADER]: ourToken.body.token! });
    expect(readByH3.body).toEqual(ourSession.body);
    expect(ours.rejections).toEqual([]);
  });
});

describe('iteration counts that differ', () => {
  it('without h3 2.x seal options, ours refuses an h3 2.x cookie as unverifiable and starts a fresh session', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME });

    const written = await getJson(`${h3.origin}/write`, withData(DATA));
    const read = await getJson(
      `${ours.origin}/read`,
      cookieHeader(onlySetCookie(written.response, NAME).value),
    );
    expect(read.body.id).toMatch(UUID);
    expect(read.body.id).not.toBe(written.body.id);
    expect(read.body.data).toEqual({});
    expect(ours.rejections.map((r) => [r.source, r.error.code])).toEqual([
      ['cookie', 'ERR_SEAL_UNSEAL_FAILED'],
    ]);
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

describe('what sealed-session does not read yet', () => {
  it('a session h3 2.x split into chunked cookies (over 4 KB) starts fresh here, the reason reported', async () => {
    const h3 = await startH3({ password: SECRET, name: NAME });
    const ours = await startOurs({ password: SECRET, name: NAME, seal: H3_V2_SEAL });

    const written = await getJson(`${h3.origin}/write`, withData({ big: 'x'.repeat(5000) }));
    const cookies = written.response.headers.getSetCookie().map((raw) => raw.split(';')[0]!);
    // h3 2.x writes `name=__chunked__N` and the pieces as `name.1` ... `name.N`.
    expect(cookies.length).toBeGreaterThan(2);
    expect(cookies[0]).toMatch(new RegExp(`^${NAME}=__chunked__\\d+$`));

    const read = await getJson(`${ours.origin}/read`, { cookie: cookies.join('; ') });
    expect(read.body.id).not.toBe(written.body.id);
    expect(read.body.data).toEqual({});
    expect(ours.rejections.map((r) => [r.source, r.error.code])).toEqual([
      ['cookie', 'ERR_SEAL_INVALID'],
    ]);
  });
});
