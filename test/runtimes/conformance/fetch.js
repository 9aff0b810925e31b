// Runtime conformance of the Fetch adapter (`sealed-session/fetch`) with the session API of
// `sealed-session`: plain ESM importing only ./checks.js, so Bun, Deno, workerd and Node run
// the very same file against the package as each of them resolves it.
//
// run(modules, input) takes { 'sealed-session': namespace, 'sealed-session/fetch': namespace,
// 'sealed-session/iron'?: namespace (only to report the crypto backend) } and, optionally, a
// session sealed by Node in the test process:
//   input.node = { password, token, session: { id, createdAt, data } }
// It builds toWebHandler(eventHandler(...)) with useSession and calls it with Request objects
// (no network), keeping cookies between requests as a browser would. It never throws for a
// failed check; it returns
//   { passed, failed, failures: [names], skipped: [names], details, backend, runtime,
//     runtimeToken, runtimeSession }
// where runtimeToken is a session sealed here, for Node to unseal.

import { TOKEN_SHAPE, assert, assertDeepEqual, createReport, describeError } from './checks.js';

const PASSWORD = 'fetch_conformance_password_of_more_than_32_chars';
const ORIGIN = 'http://localhost';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A Set-Cookie header: name, value, attributes by lower-cased name (flags map to ''). */
function parseSetCookie(header) {
  const [pair, ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = {};
  for (const part of rest) {
    const at = part.indexOf('=');
    const key = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    attributes[key] = at < 0 ? '' : part.slice(at + 1).trim();
  }
  return {
    name: pair.slice(0, eq).trim(),
    value: decodeURIComponent(pair.slice(eq + 1).trim()),
    attributes,
  };
}

function sessionCookies(response, name = 'h3') {
  return response.headers
    .getSetCookie()
    .map(parseSetCookie)
    .filter((cookie) => cookie.name === name);
}

/** A browser-like cookie jar for one origin: Set-Cookie in, Cookie out. */
class Jar {
  constructor() {
    this.cookies = new Map();
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      if (cookie.attributes['max-age'] === '0' || cookie.value === '') {
        this.cookies.delete(cookie.name);
      } else {
        this.cookies.set(cookie.name, cookie.value);
      }
    }
  }
}

/** Flips the middle character of field `field` of a token (a MAC-covered change). */
function tamper(token, field) {
  const parts = token.split('*');
  const value = parts[field];
  const i = Math.floor(value.length / 2);
  parts[field] = value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1);
  return parts.join('*');
}

/**
 * @param {Record<string, Record<string, any>>} modules namespaces by package specifier
 * @param {{ node?: { password: string, token: string, session: Record<string, unknown> } }} [input]
 */
export async function run(modules, input = {}) {
  const root = modules['sealed-session'];
  const web = modules['sealed-session/fetch'];
  const { check, skipped, result } = createReport();
  let runtimeToken;
  let runtimeSession;

  const node = input.node;
  const rejections = [];
  const errors = [];
  const config = {
    password: node === undefined ? PASSWORD : node.password,
    onInvalidToken: (rejection) => {
      rejections.push(`${rejection.source}:${rejection.error.code}`);
    },
  };

  let handler;
  await check('exports: toWebHandler, eventHandler and the session functions', () => {
    for (const name of ['toWebHandler', 'eventHandler', 'defineEventHandler']) {
      assert(
        typeof web[name] === 'function',
        `sealed-session/fetch ${name} is ${typeof web[name]}`,
      );
    }
    for (const name of [
      'useSession',
      'getSession',
      'updateSession',
      'clearSession',
      'sealSession',
      'unsealSession',
      'eventHandler',
      'isSessionError',
    ]) {
      assert(typeof root[name] === 'function', `sealed-session ${name} is ${typeof root[name]}`);
    }
    handler = web.toWebHandler(
      web.eventHandler(async (event) => {
        const session = await root.useSession(event, config);
        switch (event.path.split('?')[0]) {
          case '/inc':
            await session.update((data) => ({ count: (data.count ?? 0) + 1 }));
            break;
          case '/many':
            for (let i = 0; i < 5; i++) {
              await session.update((data) => {
                data.count = (data.count ?? 0) + 1;
              });
            }
            await root.updateSession(event, config, { many: true });
            break;
          case '/clear': {
            const before = session.id;
            await session.clear();
            const afterClear = { id: session.id, data: { ...session.data } };
            // A read after clear in the same request must not bring the old session back.
            const after = await root.getSession(event, config);
            return { before, afterClear, after };
          }
          case '/response':
            await session.update({ viaResponse: true });
            return new Response('plain', { status: 201, headers: { 'x-custom': 'yes' } });
          case '/seal':
            return { token: await root.sealSession(event, config) };
          default:
            break;
        }
        return { id: session.id, createdAt: session.createdAt, data: session.data };
      }),
      { onError: (error) => errors.push(describeError(error)) },
    );
    assert(typeof handler === 'function', 'toWebHandler did not return a function');
  });

  /** One request through the handler; cookies from `jar` (if any) go out and come back. */
  async function call(path, { jar, cookie, headers = {} } = {}) {
    const init = { headers: { ...headers } };
    const cookieHeader = cookie ?? (jar === undefined ? '' : jar.header());
    if (cookieHeader !== '') init.headers.cookie = cookieHeader;
    const response = await handler(new Request(`${ORIGIN}${path}`, init));
    assert(response instanceof Response, 'the handler did not resolve to a Response');
    jar?.store(response);
    return response;
  }

  async function json(response, what) {
    assert(response.status === 200, `${what}: status ${response.status}`);
    const type = response.headers.get('content-type') ?? '';
    assert(type.startsWith('application/json'), `${what}: content-type ${type}`);
    return response.json();
  }

  await check('a new session gets one cookie with the default attributes', async () => {
    const response = await call('/');
    const body = await json(response, 'first visit');
    assert(UUID.test(body.id), `id ${String(body.id)} is not a UUID`);
    assertDeepEqual(body.data, {}, 'data');
    assert(typeof body.createdAt === 'number' && body.createdAt > 0, 'createdAt');
    const cookies = sessionCookies(response);
    assert(cookies.length === 1, `${cookies.length} Set-Cookie headers for h3`);
    const [cookie] = cookies;
    assert(TOKEN_SHAPE.test(cookie.value), `cookie value ${cookie.value.slice(0, 40)}…`);
    assertDeepEqual(
      cookie.attributes,
      { path: '/', httponly: '', secure: '', samesite: 'Lax' },
      'cookie attributes',
    );
  });

  await check('the counter increments across requests, same id', async () => {
    const jar = new Jar();
    const ids = new Set();
    for (let expected = 1; expected <= 4; expected++) {
      const body = await json(await call('/inc', { jar }), `/inc #${expected}`);
      assert(
        body.data.count === expected,
        `count ${String(body.data.count)}, expected ${expected}`,
      );
      ids.add(body.id);
    }
    assert(ids.size === 1, `${ids.size} different ids`);
  });

  await check('reading an unchanged session writes no Set-Cookie', async () => {
    const jar = new Jar();
    const first = await json(await call('/inc', { jar }), '/inc');
    const response = await call('/', { jar });
    const body = await json(response, 'read');
    assert(body.id === first.id, 'the id changed');
    assertDeepEqual(body.data, { count: 1 }, 'data');
    assert(
      response.headers.getSetCookie().length === 0,
      `Set-Cookie: ${response.headers.getSetCookie().join(' | ')}`,
    );
  });

  await check(
    'clear deletes the cookie (Max-Age=0) and nothing resurrects the session',
    async () => {
      const jar = new Jar();
      const first = await json(await call('/inc', { jar }), '/inc');
      const sent = jar.header();
      const response = await call('/clear', { jar });
      const body = await json(response, '/clear');
      assert(body.before === first.id, 'before clear: another session');
      assertDeepEqual(body.afterClear, { data: {} }, 'the manager after clear');
      assert(body.after.id !== first.id, 'getSession after clear revived the old id');
      assertDeepEqual(body.after.data, {}, 'getSession after clear: data');
      const cookies = sessionCookies(response);
      assert(cookies.length === 1, `${cookies.length} Set-Cookie headers for h3`);
      assert(cookies[0].value === '', 'the cookie is not emptied');
      assert(cookies[0].attributes['max-age'] === '0', 'no Max-Age=0');
      assert(jar.header() === '', 'the jar still holds the cookie');
      assert(sent !== '', 'no cookie was sent');
      const next = await json(await call('/', { jar }), 'after clear');
      assert(next.id !== first.id, 'the next request got the old session');
      assertDeepEqual(next.data, {}, 'the next request: data');
    },
  );

  await check('garbage and tampered cookies give a fresh session with status 200', async () => {
    const jar = new Jar();
    const first = await json(await call('/inc', { jar }), '/inc');
    const token = jar.cookies.get('h3');
    rejections.length = 0;
    const bad = [
      ['garbage', 'h3=garbage', 'cookie:ERR_SEAL_INVALID'],
      ['tampered MAC', `h3=${tamper(token, 7)}`, 'cookie:ERR_SEAL_UNSEAL_FAILED'],
      ['tampered ciphertext', `h3=${tamper(token, 4)}`, 'cookie:ERR_SEAL_UNSEAL_FAILED'],
      ['truncated', `h3=${token.slice(0, -5)}`, 'cookie:ERR_SEAL_INVALID'],
      ['oversized', `h3=${token}${'A'.repeat(40000)}`, 'cookie:ERR_COOKIE_TOO_LARGE'],
    ];
    for (const [what, cookie, reason] of bad) {
      const response = await call('/', { cookie });
      const body = await json(response, what);
      assert(UUID.test(body.id) && body.id !== first.id, `${what}: not a fresh id`);
      assertDeepEqual(body.data, {}, `${what}: data`);
      assert(sessionCookies(response).length === 1, `${what}: no new cookie`);
      assert(rejections.at(-1) === reason, `${what}: reported ${String(rejections.at(-1))}`);
    }
    assert(rejections.length === bad.length, `${rejections.length} reports`);
    const header = await json(
      await call('/', { cookie: `h3=${token}`, headers: { 'x-h3-session': 'garbage' } }),
      'bad header, valid cookie',
    );
    assert(header.id === first.id, 'an invalid header did not fall back to the valid cookie');
  });

  await check('several updates in one request give exactly one Set-Cookie', async () => {
    const jar = new Jar();
    await call('/inc', { jar });
    const response = await call('/many', { jar });
    const body = await json(response, '/many');
    assertDeepEqual(body.data, { count: 6, many: true }, 'data');
    const all = response.headers.getSetCookie();
    assert(all.length === 1, `${all.length} Set-Cookie headers: ${all.join(' | ')}`);
    const next = await json(await call('/', { jar }), 'read back');
    assertDeepEqual(next.data, { count: 6, many: true }, 'data read back');
  });

  await check('a Response returned by the handler keeps the session cookie', async () => {
    const jar = new Jar();
    const response = await call('/response', { jar });
    assert(response.status === 201, `status ${response.status}`);
    assert(response.headers.get('x-custom') === 'yes', 'the handler header is lost');
    assert((await response.text()) === 'plain', 'body');
    assert(sessionCookies(response).length === 1, 'no session cookie');
    const next = await json(await call('/', { jar }), 'read back');
    assertDeepEqual(next.data, { viaResponse: true }, 'data read back');
  });

  if (node === undefined) {
    skipped.push('a session sealed by Node is read, by cookie and by header');
  } else {
    await check('a session sealed by Node is read, by cookie and by header', async () => {
      rejections.length = 0;
      const byCookie = await call('/', { cookie: `h3=${node.token}` });
      assertDeepEqual(await json(byCookie, 'cookie'), node.session, 'by cookie');
      assert(byCookie.headers.getSetCookie().length === 0, 'an unchanged session was rewritten');
      const byHeader = await call('/', { headers: { 'x-h3-session': node.token } });
      assertDeepEqual(await json(byHeader, 'header'), node.session, 'by header');
      assert(rejections.length === 0, `refused: ${rejections.join(', ')}`);
    });
  }

  await check('seal a session here for Node', async () => {
    const jar = new Jar();
    runtimeSession = await json(await call('/inc', { jar }), '/inc');
    const body = await json(await call('/seal', { jar }), '/seal');
    runtimeToken = body.token;
    assert(TOKEN_SHAPE.test(runtimeToken), 'malformed token');
    const opened = await root.unsealSession(undefined, config, runtimeToken);
    assertDeepEqual(opened, runtimeSession, 'unsealed here');
  });

  await check('no handler error reached onError', () => {
    assert(errors.length === 0, errors.join('; '));
  });

  return result({
    backend: modules['sealed-session/iron']?.backend,
    runtimeToken,
    runtimeSession,
  });
}
