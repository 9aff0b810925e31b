/**
 * The sealed-session side of the cross-implementation suites (h3 1.x and 2.x): an app on
 * our node adapter with the routes each peer app also has, the request helpers, and the
 * registry of servers a test started.
 *
 * Routes: `/read` (useSession), `/write` (useSession, then update with the JSON of the
 * `x-data` header), `/seal` (the session's sealed token). Every route but `/seal` answers
 * the session's id, createdAt and data.
 */
import {
  eventHandler,
  getSession,
  sealSession,
  useSession,
  type SessionConfig,
  type SessionRejection,
} from '../../../src/index.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import { listen, type RunningServer } from './harness.js';

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
export async function startOurs(
  config: Omit<SessionConfig, 'onInvalidToken'>,
): Promise<RunningServer & { rejections: SessionRejection[] }> {
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
