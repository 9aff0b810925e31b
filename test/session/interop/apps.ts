/**
 * The sealed-session side of the cross-implementation suites (h3 1.x and 2.x): an app on
 * our node adapter with the routes each peer app also has, the request helpers, and the
 * registry of servers a test started.
 *
 * Routes: `/read` (useSession), `/write` (useSession, then update with the JSON of the
 * `x-data` header), `/seal` (the session's sealed token). Every route but `/seal` answers
 * the session's id, createdAt and data. {@link describeSessionExchange} holds the scenarios
 * every peer must pass.
 */
import { describe, expect, it } from 'vitest';
import {
  eventHandler,
  getSession,
  sealSession,
  useSession,
  type SessionConfig,
  type SessionRejection,
} from '../../../src/index.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import { getJson, listen, onlySetCookie, setCookiesOf, type RunningServer } from './harness.js';

export const SECRET = 'interop_secret_shared_by_h3_and_sealed_session_0123456789';
export const OLD_SECRET = 'interop_old_secret_still_in_the_rotation_map_987654321';

/** The session (and cookie) name both sides use. */
export const NAME = 'interop';
/** The session header for {@link NAME}, as both sides derive it. */
export const HEADER = `x-${NAME}-session`;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const DATA = {
  user: 'alice',
  roles: ['admin', 'editor'],
  n: 1,
  text: 'ünïcödé 😀 "quoted" ;=,',
  nested: { a: null, b: [1.5, -2, true] },
};

/** Servers the current test started; {@link closeRunning} after each test. */
export const running: RunningServer[] = [];

export async function closeRunning(): Promise<void> {
  await Promise.all(running.splice(0).map((server) => server.close()));
}

/** The update a request asks for: the `x-data` header's value, URI-encoded JSON. */
export function updateOf(raw: string | string[] | null | undefined): Record<string, unknown> {
  return typeof raw === 'string'
    ? (JSON.parse(decodeURIComponent(raw)) as Record<string, unknown>)
    : {};
}

export function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!;
}

/** Request headers asking `/write` to merge `data` into the session. */
export function withData(data: unknown): Record<string, string> {
  return { 'x-data': encodeURIComponent(JSON.stringify(data)) };
}

/** Request headers sending `value` as the session cookie. */
export function cookieHeader(value: string): Record<string, string> {
  return { cookie: `${NAME}=${value}` };
}

/** Starts the sealed-session app; `rejections` collects what `onInvalidToken` reported. */
export async function startOurs(config: Omit<SessionConfig, 'onInvalidToken'>): Promise<OurServer> {
  const rejections: SessionRejection[] = [];
  const full: SessionConfig = {
    ...config,
    onInvalidToken: (rejection) => rejections.push(rejection),
  };
  const server = await listen(
    toNodeListener(
      eventHandler(async (event) => {
        const path = pathOf(event.path);
        const session = await useSession(event, full);
        if (path === '/write' && event.node !== undefined) {
          await session.update(updateOf(event.node.req.headers['x-data']));
        }
        if (path === '/seal') return { token: await sealSession(event, full) };
        const read = await getSession(event, full);
        return { id: read.id, createdAt: read.createdAt, data: read.data };
      }),
    ),
  );
  running.push(server);
  return Object.assign(server, { rejections });
}

/** Our app as {@link startOurs} starts it. */
export type OurServer = RunningServer & { rejections: SessionRejection[] };

/**
 * A session written by `writer`, its cookie then sent to `ours`, which must refuse it: a
 * fresh session (new id, no data, a new cookie), never a 500, and the one rejection
 * reported with `code`.
 */
export async function expectRefusedByOurs(
  writer: RunningServer,
  ours: OurServer,
  code: string,
): Promise<void> {
  const written = await getJson(`${writer.origin}/write`, withData(DATA));
  const token = onlySetCookie(written.response, NAME).value;
  const read = await getJson(`${ours.origin}/read`, cookieHeader(token));
  expect(read.body.id).toMatch(UUID);
  expect(read.body.id).not.toBe(written.body.id);
  expect(read.body.data).toEqual({});
  expect(ours.rejections.map((r) => [r.source, r.error.code])).toEqual([['cookie', code]]);
  expect(onlySetCookie(read.response, NAME).value).not.toBe(token);
}

/** The shape of a token sealed with a string password and no password id. */
const FE26 = /^Fe26\.2\*\*[0-9a-f]{64}\*[\w-]{22}\*[\w-]+\*\d*\*[0-9a-f]{64}\*[\w-]{43}$/;

/**
 * The exchanges every peer app must pass with ours, with the same password and session
 * name: cookies both ways, a session updated in turn by each side, and tokens handed over
 * in the session header both ways.
 *
 * @param peer - the peer's name in test titles
 * @param startPeer - starts the peer app (routes as in this module) with `SECRET` and `NAME`
 * @param ourConfig - what our app needs beyond `SECRET` and `NAME` to share the peer's cookies
 */
export function describeSessionExchange(
  peer: string,
  startPeer: () => Promise<RunningServer>,
  ourConfig: Omit<SessionConfig, 'onInvalidToken' | 'password' | 'name'> = {},
): void {
  const startOursForPeer = () => startOurs({ ...ourConfig, password: SECRET, name: NAME });

  describe(`${peer} useSession ↔ sealed-session (same password and name)`, () => {
    it(`a cookie written by ${peer} (after update) is read by ours: same id, createdAt, data`, async () => {
      const theirs = await startPeer();
      const ours = await startOursForPeer();

      const written = await getJson(`${theirs.origin}/write`, withData(DATA));
      const cookie = onlySetCookie(written.response, NAME);
      expect(cookie.value).toMatch(FE26);
      expect(written.body.id).toMatch(UUID);
      expect(written.body.data).toEqual(DATA);

      const read = await getJson(`${ours.origin}/read`, cookieHeader(cookie.value));
      expect(read.body).toEqual(written.body);
      expect(ours.rejections).toEqual([]);
      // An existing, unchanged session writes nothing.
      expect(setCookiesOf(read.response, NAME)).toEqual([]);
    });

    it(`a cookie written by ours is read by ${peer}: same id, createdAt, data`, async () => {
      const theirs = await startPeer();
      const ours = await startOursForPeer();

      const written = await getJson(`${ours.origin}/write`, withData(DATA));
      const cookie = onlySetCookie(written.response, NAME);
      expect(written.body.data).toEqual(DATA);

      const read = await getJson(`${theirs.origin}/read`, cookieHeader(cookie.value));
      expect(read.body).toEqual(written.body);
      // h3 rewrites an existing session's cookie only when something is off (1.x: never;
      // 2.x: when it needed its legacy 1-iteration fallback): none means it read ours as is.
      expect(setCookiesOf(read.response, NAME)).toEqual([]);
    });

    it('a session goes back and forth, each side updating what the other wrote', async () => {
      const theirs = await startPeer();
      const ours = await startOursForPeer();

      const first = await getJson(`${theirs.origin}/write`, withData({ step: 1, by: peer }));
      let token = onlySetCookie(first.response, NAME).value;
      const second = await getJson(`${ours.origin}/write`, {
        ...cookieHeader(token),
        ...withData({ step: 2, ours: true }),
      });
      token = onlySetCookie(second.response, NAME).value;
      const third = await getJson(`${theirs.origin}/write`, {
        ...cookieHeader(token),
        ...withData({ step: 3, by: `${peer} again` }),
      });
      token = onlySetCookie(third.response, NAME).value;
      const last = await getJson(`${ours.origin}/read`, cookieHeader(token));

      expect(last.body).toEqual({
        id: first.body.id,
        createdAt: first.body.createdAt,
        data: { step: 3, by: `${peer} again`, ours: true },
      });
      expect(ours.rejections).toEqual([]);
    });

    it('tokens handed over in the session header are read both ways', async () => {
      const theirs = await startPeer();
      const ours = await startOursForPeer();

      const theirSession = await getJson(`${theirs.origin}/write`, withData({ from: peer }));
      const theirToken = await getJson(
        `${theirs.origin}/seal`,
        cookieHeader(onlySetCookie(theirSession.response, NAME).value),
      );
      const readByOurs = await getJson(`${ours.origin}/read`, {
        [HEADER]: theirToken.body.token!,
      });
      expect(readByOurs.body).toEqual(theirSession.body);

      const ourSession = await getJson(`${ours.origin}/write`, withData({ from: 'ours' }));
      const ourToken = await getJson(
        `${ours.origin}/seal`,
        cookieHeader(onlySetCookie(ourSession.response, NAME).value),
      );
      const readByPeer = await getJson(`${theirs.origin}/read`, {
        [HEADER]: ourToken.body.token!,
      });
      expect(readByPeer.body).toEqual(ourSession.body);
      expect(ours.rejections).toEqual([]);
    });
  });
}
