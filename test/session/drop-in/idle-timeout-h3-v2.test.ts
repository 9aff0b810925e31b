/**
 * A mixed deployment with idleTimeout: an app on the real h3 2.0.8 (`h3-v2`) and one on
 * sealed-session behind the same cookie, with the same password, name and idle window,
 * ours given h3 2.x's seal options. A user last seen 0.75 of the window ago must stay
 * signed in whichever app they reach: each accepts the cookie and reseals it, and each
 * reads the other's resealed cookie as fresh. A user idle for 1.5 windows is signed out by
 * both. The tokens are sealed here with our iron as either app would have sealed them,
 * without an iron expiry, so the idle check itself decides.
 */
import { randomUUID } from 'node:crypto';
import {
  H3,
  getSession as h3GetSession,
  toNodeHandler,
  useSession as h3UseSession,
  type SessionConfig as H3SessionConfig,
} from 'h3-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toNodeListener } from '../../../src/adapters/node.js';
import { seal, unseal } from '../../../src/iron/index.js';
import { eventHandler, getSession, useSession } from '../../../src/index.js';
import { listen, type RunningServer } from '../interop/harness.js';
import { secret } from '../matrix/helpers.js';
import { recorded, rejectionCodes, type Recorded } from './fixtures.js';

/** h3 2.x's own iron iterations, which ours needs to share its cookies. */
const H3_V2_SEAL = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
const NAME = 'mixed';
const IDLE = 600;
const WINDOW = IDLE * 1000;

interface View {
  readonly id: string;
  readonly createdAt: number;
  readonly lastSeenAt: number | undefined;
  readonly data: Record<string, unknown>;
}

interface Answer {
  readonly view: View;
  /** The session cookie the response set, or undefined. */
  readonly cookie: string | undefined;
}

async function read(server: RunningServer, token: string): Promise<Answer> {
  const response = await fetch(`${server.origin}/read`, {
    headers: { cookie: `${NAME}=${token}` },
  });
  expect(response.status).toBe(200);
  const view = (await response.json()) as View;
  const headers = response.headers.getSetCookie().filter((line) => line.startsWith(`${NAME}=`));
  expect(headers.length).toBeLessThanOrEqual(1);
  const cookie = headers[0]?.slice(NAME.length + 1, headers[0].indexOf(';'));
  return { view, cookie: cookie === undefined ? undefined : decodeURIComponent(cookie) };
}

describe('idleTimeout in a mixed deployment with h3 2.0.8', () => {
  const password = secret();
  let ours: Recorded;
  let oursServer: RunningServer;
  let h3Server: RunningServer;

  beforeAll(async () => {
    ours = recorded({ password, name: NAME, idleTimeout: IDLE, seal: H3_V2_SEAL });
    const h3Config: H3SessionConfig = { password, name: NAME, idleTimeout: IDLE };

    const h3 = new H3();
    h3.get('/read', async (event) => {
      await h3UseSession(event, h3Config);
      const session = await h3GetSession(event, h3Config);
      return {
        id: session.id,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        data: session.data,
      };
    });
    h3Server = await listen(toNodeHandler(h3));

    oursServer = await listen(
      toNodeListener(
        eventHandler(async (event) => {
          await useSession(event, ours.config);
          const session = await getSession(event, ours.config);
          return {
            id: session.id,
            createdAt: session.createdAt,
            lastSeenAt: session.lastSeenAt,
            data: session.data,
          };
        }),
      ),
    );
  });

  afterAll(() => Promise.all([oursServer.close(), h3Server.close()]));

  beforeEach(() => {
    ours.rejections.length = 0;
  });

  /** A token of a session created two windows ago and last seen `ago` milliseconds ago. */
  async function lastSeen(ago: number) {
    const now = Date.now();
    const session = {
      id: randomUUID(),
      createdAt: now - 2 * WINDOW,
      lastSeenAt: now - ago,
      data: { user: 'ada' },
    };
    return { session, token: await seal(session, password, H3_V2_SEAL) };
  }

  /** The last-seen time sealed in a cookie, read with iron alone. */
  async function lastSeenIn(token: string): Promise<number> {
    return ((await unseal(token, password, H3_V2_SEAL)) as { lastSeenAt: number }).lastSeenAt;
  }

  it('last seen 0.75 window ago, h3 2.0.8 keeps the user and reseals; ours reads that cookie as fresh and writes nothing', async () => {
    const { session, token } = await lastSeen(0.75 * WINDOW);
    const before = Date.now();
    const byH3 = await read(h3Server, token);
    expect(byH3.view).toMatchObject({ id: session.id, data: session.data });
    expect(byH3.cookie).toBeDefined();
    expect(await lastSeenIn(byH3.cookie!)).toBeGreaterThanOrEqual(before);

    const byOurs = await read(oursServer, byH3.cookie!);
    expect(byOurs.view).toMatchObject({
      id: session.id,
      createdAt: session.createdAt,
      data: session.data,
    });
    expect(byOurs.view.lastSeenAt).toBeGreaterThanOrEqual(before);
    expect(byOurs.cookie).toBeUndefined();
    expect(ours.rejections).toEqual([]);
  });

  it('last seen 0.75 window ago, ours keeps the user and reseals; h3 2.0.8 reads that cookie as fresh and writes nothing', async () => {
    const { session, token } = await lastSeen(0.75 * WINDOW);
    const before = Date.now();
    const byOurs = await read(oursServer, token);
    expect(byOurs.view).toMatchObject({
      id: session.id,
      createdAt: session.createdAt,
      data: session.data,
    });
    expect(byOurs.cookie).toBeDefined();
    expect(await lastSeenIn(byOurs.cookie!)).toBeGreaterThanOrEqual(before);
    expect(ours.rejections).toEqual([]);

    const byH3 = await read(h3Server, byOurs.cookie!);
    expect(byH3.view).toMatchObject({
      id: session.id,
      createdAt: session.createdAt,
      data: session.data,
    });
    expect(byH3.view.lastSeenAt).toBeGreaterThanOrEqual(before);
    expect(byH3.cookie).toBeUndefined();
  });

  it('idle for 1.5 windows, both sign the user out: h3 2.0.8 starts a fresh session, ours too and reports ERR_SESSION_EXPIRED', async () => {
    const { session, token } = await lastSeen(1.5 * WINDOW);

    const byH3 = await read(h3Server, token);
    expect(byH3.view.id).not.toBe(session.id);
    expect(byH3.view.data).toEqual({});

    const byOurs = await read(oursServer, token);
    expect(byOurs.view.id).not.toBe(session.id);
    expect(byOurs.view.data).toEqual({});
    expect(rejectionCodes(ours.rejections)).toEqual([['cookie', 'ERR_SESSION_EXPIRED']]);
  });
});
