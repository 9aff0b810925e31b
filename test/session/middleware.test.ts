/**
 * The Express and Hono middleware's `saveUninitialized` option: with `false`, a visitor
 * gets no cookie until the session changes, so routes that never touch it stay cacheable.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMiddleware as expressSession, sessionOf } from '../../src/adapters/express.js';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../src/adapters/hono.js';

const config = { password: 'middleware-tests-password-0123456789-abc' };

interface Answer {
  status: number;
  setCookies: string[];
  body: { id?: string; visits?: number };
}

/** A client that keeps the session cookie between requests, as a browser does. */
function client(send: (path: string, cookie: string | undefined) => Promise<Response>) {
  let cookie: string | undefined;
  return async (path: string): Promise<Answer> => {
    const response = await send(path, cookie);
    const setCookies = response.headers.getSetCookie();
    const session = setCookies.find((header) => header.startsWith('h3='));
    if (session !== undefined) cookie = session.split(';')[0];
    return { status: response.status, setCookies, body: (await response.json()) as Answer['body'] };
  };
}

describe('Express: saveUninitialized', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    const make = (saveUninitialized: boolean) => {
      const app = express.Router();
      app.use(expressSession(config, { saveUninitialized }));
      app.get('/read', (req, res) => {
        res.json({ id: sessionOf(req).id });
      });
      app.get('/visit', async (req, res) => {
        const session = sessionOf<{ visits?: number }>(req);
        await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
        res.json({ id: session.id, visits: session.data.visits });
      });
      return app;
    };
    const app = express();
    app.use('/lazy', make(false));
    app.use('/eager', make(true));
    server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });
  const over = (prefix: string) =>
    client((path, cookie) =>
      fetch(`${base}${prefix}${path}`, { headers: cookie === undefined ? {} : { cookie } }),
    );

  it('false: no cookie until the first change, then the session holds', async () => {
    const get = over('/lazy');
    const first = await get('/read');
    expect(first.setCookies).toEqual([]);
    expect((await get('/read')).body.id).not.toBe(first.body.id);
    const visited = await get('/visit');
    expect(visited.setCookies).toHaveLength(1);
    expect(visited.body.visits).toBe(1);
    const after = await get('/read');
    expect(after.setCookies).toEqual([]);
    expect(after.body.id).toBe(visited.body.id);
  });

  it('true (the default): a new visitor gets a cookie on the first read, and keeps its id', async () => {
    const get = over('/eager');
    const first = await get('/read');
    expect(first.setCookies).toHaveLength(1);
    expect((await get('/read')).body.id).toBe(first.body.id);
  });
});

describe('Hono: saveUninitialized', () => {
  const make = (saveUninitialized: boolean) => {
    const app = new Hono<SessionEnv<{ visits?: number }>>();
    app.use(honoSession(config, { saveUninitialized }));
    app.get('/read', (c) => c.json({ id: c.get('session').id }));
    app.get('/visit', async (c) => {
      const session = c.get('session');
      await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
      return c.json({ id: session.id, visits: session.data.visits });
    });
    return app;
  };
  const over = (app: Hono<SessionEnv<{ visits?: number }>>) =>
    client((path, cookie) =>
      Promise.resolve(
        app.request(`http://localhost${path}`, {
          headers: cookie === undefined ? {} : { cookie },
        }),
      ),
    );

  it('false: no cookie until the first change, then the session holds', async () => {
    const get = over(make(false));
    expect((await get('/read')).setCookies).toEqual([]);
    const visited = await get('/visit');
    expect(visited.setCookies).toHaveLength(1);
    const after = await get('/read');
    expect(after.setCookies).toEqual([]);
    expect(after.body.id).toBe(visited.body.id);
  });

  it('true (the default): a new visitor gets a cookie on the first read', async () => {
    const get = over(make(true));
    const first = await get('/read');
    expect(first.setCookies).toHaveLength(1);
    expect((await get('/read')).body.id).toBe(first.body.id);
  });
});
