/**
 * The HTTP benchmark's servers must compute the right answer, or the benchmark measures
 * nothing useful: each one signs in, reads the session back and counts writes.
 */
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM benchmark module without type declarations
import * as fixtures from '../../bench/http/fixtures.mjs';

interface Fixtures {
  SERVERS: string[];
  SESSION_DATA: { count: number };
  startServer: (name: string) => Promise<{ port: number; stop: () => Promise<void> }>;
  login: (port: number) => Promise<string>;
  call: (port: number, path: string, cookie: string) => Promise<unknown>;
}
const { SERVERS, SESSION_DATA, startServer, login, call } = fixtures as Fixtures;

describe('HTTP benchmark fixtures', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('the baseline and the floor send a cookie as long as the session cookie', async () => {
    const lengths: Record<string, number> = {};
    for (const name of ['bare-node-http', 'fe26-floor', 'sealed-session']) {
      const server = await startServer(name);
      stops.push(() => server.stop());
      lengths[name] = (await login(server.port)).length;
    }
    expect(lengths['bare-node-http']).toBe(lengths['sealed-session']);
    expect(lengths['fe26-floor']).toBe(lengths['sealed-session']);
  });

  it.each(SERVERS)('%s signs in, reads the session and counts writes', async (name) => {
    const server = await startServer(name);
    stops.push(() => server.stop());
    const cookie = await login(server.port);
    await expect(call(server.port, '/read', cookie)).resolves.toEqual({ data: SESSION_DATA });
    // Every server but the bare baseline really keeps a session: without the cookie,
    // /read has no data.
    if (name !== 'bare-node-http') {
      const fresh = (await call(server.port, '/read', 'other=1')) as { data?: unknown };
      expect(fresh.data ?? {}).not.toEqual(SESSION_DATA);
    }
    await expect(call(server.port, '/write', cookie)).resolves.toEqual({
      count: SESSION_DATA.count + 1,
    });
  });
});
