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
