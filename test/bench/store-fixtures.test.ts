/**
 * The store-mode benchmark's fixtures must compute the right answer, or bench/store.mjs
 * measures nothing useful: each server signs in, reads the signed-in user, and counts
 * writes (in Redis for the store-backed ones, which really keep their sessions there, on
 * the machine's Redis at 127.0.0.1:6379); the memory measurement fills the store it says.
 * No load: a few requests per server. Runs against the built package, as the benchmark.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM benchmark module without type declarations
import * as fixtures from '../../bench/store/fixtures.mjs';

interface RunningServer {
  port: number;
  stop: () => Promise<void>;
}
interface Fixtures {
  STORE_SERVERS: readonly string[];
  SESSION_DATA: { user: { id: number }; count: number };
  REDIS_URL: string;
  runPrefix: () => string;
  startStoreServer: (name: string, prefix: string) => Promise<RunningServer>;
  login: (port: number) => Promise<string>;
  call: (port: number, path: string, cookie: string) => Promise<unknown>;
  deleteKeys: (
    client: { sendCommand(args: string[]): Promise<unknown> },
    prefix: string,
  ) => Promise<number>;
}
const {
  STORE_SERVERS,
  SESSION_DATA,
  REDIS_URL,
  runPrefix,
  startStoreServer,
  login,
  call,
  deleteKeys,
} = fixtures as Fixtures;

const COOKIE_MODE = 'sealed-node-cookie';
/** The Express floor: the same routes, no session (its count lives in the process). */
const NO_SESSION = 'express-bare';

/** One request; its JSON body and the `name=value` of the cookies it set. */
async function request(port: number, path: string, cookie: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { cookie } });
  expect(response.status).toBe(200);
  const body: unknown = await response.json();
  const setCookies = response.headers.getSetCookie().map((header) => header.split(';')[0]!);
  return { body, setCookies };
}

describe('store benchmark fixtures', () => {
  const client = createClient({ url: REDIS_URL });
  client.on('error', () => undefined);
  const prefix = runPrefix();
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await deleteKeys(client, prefix);
    client.destroy();
  });

  it('compares the servers of the brief, the disableTouch variant and the Express floor', () => {
    expect([...STORE_SERVERS].sort()).toEqual(
      [
        'express-session',
        'express-session-notouch',
        'sealed-express-redis',
        'sealed-node-redis',
        COOKIE_MODE,
        NO_SESSION,
      ].sort(),
    );
  });

  it.each([...STORE_SERVERS])(
    '%s signs in, reads the signed-in user and counts writes',
    async (name) => {
      const server = await startStoreServer(name, prefix);
      stops.push(() => server.stop());
      const cookie = await login(server.port);

      // Read: the signed-in session, and nothing changes (no cookie is written).
      const read = await request(server.port, '/read', cookie);
      expect(read.body).toEqual({ data: SESSION_DATA });
      expect(read.setCookies).toEqual([]);
      const again = await request(server.port, '/read', cookie);
      expect(again.body).toEqual({ data: SESSION_DATA });
      if (name !== NO_SESSION) {
        // Without the cookie there is no signed-in session.
        const stranger = (await call(server.port, '/read', 'other=1')) as { data?: unknown };
        expect(stranger.data ?? {}).not.toEqual(SESSION_DATA);
      }

      // Write: the counter goes up by one each request.
      const first = await request(server.port, '/write', cookie);
      expect(first.body).toEqual({ count: SESSION_DATA.count + 1 });
      if (name === COOKIE_MODE) {
        // Cookie mode: the count travels in the cookie each write sets.
        expect(first.setCookies).toHaveLength(1);
        const next = await request(server.port, '/write', first.setCookies[0]!);
        expect(next.body).toEqual({ count: SESSION_DATA.count + 2 });
      } else {
        // Kept on the server: the same cookie sees the count go up.
        const next = await request(server.port, '/write', cookie);
        expect(next.body).toEqual({ count: SESSION_DATA.count + 2 });
        if (name !== NO_SESSION) {
          expect(await call(server.port, '/read', cookie)).toEqual({
            data: { ...SESSION_DATA, count: SESSION_DATA.count + 2 },
          });
        }
      }
      if (name.startsWith('sealed-') && name !== COOKIE_MODE) {
        // Store mode writes only the changed record, never a new cookie.
        expect(first.setCookies).toEqual([]);
      }

      // The store-backed servers keep their sessions in Redis under the run's prefix (and
      // these deletes leave nothing behind); cookie mode and bare Express keep nothing there.
      const deleted = await deleteKeys(client, `${prefix}${name}:`);
      if (name === COOKIE_MODE || name === NO_SESSION) expect(deleted).toBe(0);
      else expect(deleted).toBeGreaterThan(0);
    },
  );

  it.each(['contract', 'contract-users', 'api'])(
    'memory (%s) fills the store with every session, and reports a size',
    async (mode) => {
      const script = fileURLToPath(new URL('../../bench/store/memory.mjs', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--expose-gc',
        script,
        mode,
        '300',
      ]);
      const result = JSON.parse(stdout) as {
        records: number;
        count: number;
        releaseBytesPerSession: number;
      };
      expect(result.count).toBe(300);
      expect(result.records).toBe(300);
      // The size itself is the benchmark's to judge: 300 sessions are within the heap's
      // noise (a collection can free more than they take), so only its form is checked.
      expect(Number.isFinite(result.releaseBytesPerSession)).toBe(true);
    },
  );
});
