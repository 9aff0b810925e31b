/**
 * The session manager as h3 shows it, over real HTTP: `id`, `createdAt` and `data` are the
 * manager's own enumerable properties, so spreading or serializing it (a handler returning
 * `{ ...session }`, a logger) gives `{ id, createdAt, data }` on every host; and the
 * request's session sits in `event.context.sessions[name]` on h3 1.x, h3 2.x and our
 * node and fetch events, following update, regenerate and clear, where code written for
 * h3 (h3's own getSession among it) looks for it.
 */
import { getSession as h3V1GetSession, type H3Event as H3V1Event } from 'h3-v1';
import { getSession as h3V2GetSession, type H3Event as H3V2Event } from 'h3-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSession, useSession, type Session, type SessionConfig } from '../../../src/index.js';
import { secret } from '../matrix/helpers.js';
import { hostSession, itWhen } from './fixtures.js';
import { hosts, type DropInServer, type Exchange, type Routes } from './hosts.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `event.context.sessions`, as h3 keeps it. */
function sessionsOf(exchange: Exchange): Record<string, Session> {
  const sessions = exchange.eventContext?.sessions;
  return (sessions ?? {}) as Record<string, Session>;
}

function routesFor(password: string, second: SessionConfig): Routes {
  const config: SessionConfig = { password };
  return {
    '/shape': async (exchange) => {
      const session = await hostSession(exchange, config);
      await session.update({ user: 'ada' });
      const proxied = new Proxy(session, {});
      const inheriting = Object.create(session) as typeof session;
      return {
        spread: { ...session },
        json: JSON.parse(JSON.stringify(session)) as unknown,
        keys: Object.keys(session),
        symbols: Object.getOwnPropertySymbols({ ...session }).length,
        // Wrappers (a Proxy, an object inheriting from the manager) read the same session.
        wrapped:
          proxied.id === session.id &&
          proxied.data === session.data &&
          inheriting.createdAt === session.createdAt &&
          inheriting.data === session.data,
      };
    },

    '/context': async (exchange) => {
      const event = exchange.event!;
      const steps: Record<string, unknown> = {};
      const session = await useSession(event, config);
      const held = () => sessionsOf(exchange).h3;
      steps.use = {
        id: held()?.id === session.id,
        createdAt: held()?.createdAt === session.createdAt,
        // The very data object, not a copy: h3 code that mutates it mutates the session.
        data: held()?.data === session.data,
      };
      await session.update({ a: 1 });
      steps.update = { ...held()?.data };
      await useSession(event, second);
      steps.second = sessionsOf(exchange).second?.id === (await getSession(event, second)).id;
      const before = session.id;
      await session.regenerate();
      steps.regenerate = { moved: held()?.id === session.id && session.id !== before };
      const signedOut = session.id;
      await session.clear();
      steps.clear = {
        h3: 'h3' in sessionsOf(exchange),
        second: 'second' in sessionsOf(exchange),
      };
      const fresh = await getSession(event, config);
      steps.afterClear = held()?.id === fresh.id && fresh.id !== signedOut;
      return steps;
    },

    '/h3-reads-ours': async (exchange) => {
      const session = await useSession(exchange.event!, config);
      await session.update({ user: 'ada' });
      // h3's own getSession, with the same name, finds the session in event.context.
      const h3Config = { password };
      const theirs =
        exchange.host === 'h3-v1'
          ? await h3V1GetSession(exchange.event as unknown as H3V1Event, h3Config)
          : await h3V2GetSession(exchange.event as unknown as H3V2Event, h3Config);
      return { ours: session.id, theirs: theirs.id, theirData: theirs.data };
    },
  };
}

describe.each(hosts)('the session manager as h3 shows it, on $name', (host) => {
  const password = secret();
  const second: SessionConfig = { password: secret(), name: 'second' };
  let server: DropInServer;

  beforeAll(async () => {
    server = await host.start({ password }, routesFor(password, second));
  });

  afterAll(() => server.close());

  it('{ ...session } and JSON.parse(JSON.stringify(session)) give exactly { id, createdAt, data }', async () => {
    const response = await server.request('/shape');
    expect(response.status).toBe(200);
    const body = response.json as {
      spread: { id: string; createdAt: number };
      json: unknown;
      keys: string[];
      symbols: number;
      wrapped: boolean;
    };
    expect(body.keys).toEqual(['id', 'createdAt', 'data']);
    expect(body.symbols).toBe(0);
    expect(body.wrapped).toBe(true);
    expect(body.spread).toEqual({
      id: expect.stringMatching(UUID) as unknown,
      createdAt: expect.any(Number) as unknown,
      data: { user: 'ada' },
    });
    expect(body.json).toEqual(body.spread);
  });

  itWhen(host.kind === 'event')(
    'event.context.sessions[name] holds the request’s session: the same data object, updated in place, moved by regenerate, removed by clear, back at the next read',
    async () => {
      const response = await server.request('/context');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        use: { id: true, createdAt: true, data: true },
        update: { a: 1 },
        second: true,
        regenerate: { moved: true },
        clear: { h3: false, second: true },
        afterClear: true,
      });
    },
  );

  itWhen(host.name === 'h3-v1' || host.name === 'h3-v2')(
    'h3’s own getSession, called later in the same request, finds our session in event.context',
    async () => {
      const response = await server.request('/h3-reads-ours');
      expect(response.status).toBe(200);
      const body = response.json as { ours: string; theirs: string; theirData: object };
      expect(body.theirs).toBe(body.ours);
      expect(body.theirData).toEqual({ user: 'ada' });
    },
  );
});
