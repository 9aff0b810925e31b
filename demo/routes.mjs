/**
 * The demo's pages as routes: what each path and method reads from the session, changes
 * in it, and renders. The HTML lives in pages.mjs; dispatching requests to these routes
 * lives in app.mjs.
 */
import {
  clearSession,
  getSession,
  listSessions,
  revokeSession,
  revokeUserSessions,
  updateSession,
  useSession,
} from 'sealed-session';
import { HttpError, nodeRequestOf, readForm, redirect } from './http.mjs';
import {
  accountSignInBody,
  cartBody,
  cookieBody,
  counterBody,
  devicesBody,
  homeBody,
  layout,
  rejectionNotices,
  sessionBody,
} from './pages.mjs';
import { refusals, rejections } from './request-notes.mjs';
import { AUTH_IDLE_TIMEOUT, AUTH_MAX_AGE, MAX_AGE } from './session-config.mjs';
import { countCookie, describeToken, readCookie } from './token-info.mjs';

/**
 * @typedef {import('sealed-session/node').HTTPEvent} HTTPEvent
 * @typedef {import('./pages.mjs').Notice} Notice
 * @typedef {(event: HTTPEvent, url: URL) => Promise<string | Response>} RouteAction
 * @typedef {Record<string, Record<string, RouteAction>>} Routes - actions by path, then
 *   by method
 */

/** Longest name accepted at sign-in, in characters; the form's maxlength says the same. */
const NAME_LIMIT = 40;
/** Most of one product in the cart: the cart must stay far below the 4096-byte cookie. */
const QUANTITY_LIMIT = 99;

export const CATALOG = Object.freeze([
  { id: 'apple', label: 'Apple' },
  { id: 'bread', label: 'Bread' },
  { id: 'coffee', label: 'Coffee' },
  { id: 'tea', label: 'Tea' },
]);

/**
 * A whole page, headed by the notices of the session tokens refused in this request.
 *
 * @param {HTTPEvent} event
 * @param {string} title
 * @param {unknown} body
 * @param {{ name?: string | undefined, notices?: Notice[], status?: number }} [extra]
 */
export function renderPage(event, title, body, extra = {}) {
  if (extra.status !== undefined) event.status = extra.status;
  return layout({
    title,
    name: extra.name,
    notices: [...rejectionNotices(rejections()), ...(extra.notices ?? [])],
    body,
  }).value;
}

/**
 * The demo's routes for one server.
 *
 * @param {import('./session-config.mjs').SessionSettings
 *   & { httpsUrl: string | undefined, storeDescription: string }} settings - `httpsUrl`:
 *   where the same demo runs over HTTPS, for the plain-HTTP pages to link to;
 *   `storeDescription`: where the account area's sessions live, for its pages
 * @returns {Routes}
 */
export function createRoutes(settings) {
  return { ...cookieRoutes(settings), ...deviceRoutes(settings) };
}

/**
 * The routes of the cookie session: home, sign-in, the session, counter, cart and cookie
 * pages.
 *
 * @param {import('./session-config.mjs').SessionSettings
 *   & { httpsUrl: string | undefined }} settings
 * @returns {Routes}
 */
function cookieRoutes({ cookieName, secureFor, configFor, httpsUrl }) {
  return {
    '/': {
      async GET(event, url) {
        const config = configFor(event);
        // Read only: a visitor who never signs in gets no cookie from this page.
        const session = await getSession(event, config);
        // A refused cookie would be refused again on every page: delete it.
        if (refusals(cookieName).length > 0) await clearSession(event, config);
        /** @type {Notice[]} */
        const notices = [];
        if (url.searchParams.has('signed-out')) {
          notices.push({
            kind: 'info',
            text: 'You are signed out: the session cookie was deleted from this browser.',
          });
        }
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return renderPage(event, 'Home', homeBody({ name }), { name, notices });
      },
    },
    '/signin': {
      async POST(event) {
        const form = await readForm(nodeRequestOf(event));
        const name = (form.get('name') ?? '').trim();
        if (name === '' || name.length > NAME_LIMIT) {
          return renderPage(
            event,
            'Home',
            homeBody({
              name: undefined,
              value: name.slice(0, NAME_LIMIT),
              error: `Enter a name of 1 to ${NAME_LIMIT} characters.`,
            }),
            { status: 400 },
          );
        }
        const session = await useSession(event, configFor(event));
        const previousId = session.id ?? '';
        // New id on sign-in (session fixation); the data (counter, cart) is kept.
        await session.regenerate();
        await session.update({ name, signedInAt: Date.now() });
        return redirect(`/session?regenerated-from=${encodeURIComponent(previousId)}`);
      },
    },
    '/signout': {
      async POST(event) {
        // Deletes the cookie (Max-Age=0); nothing later in this request revives the session.
        await clearSession(event, configFor(event));
        return redirect('/?signed-out');
      },
    },
    '/session': {
      async GET(event, url) {
        const session = await useSession(event, configFor(event));
        const id = session.id ?? '';
        const createdAt = session.createdAt ?? Date.now();
        const data = session.data;
        /** @type {Notice[]} */
        const notices = [];
        const previous = url.searchParams.get('regenerated-from');
        // Only an id-shaped value: the query string must not put arbitrary text on the page.
        if (previous !== null && /^[\w-]{0,64}$/.test(previous)) {
          notices.push({
            kind: 'info',
            text: `Signed in. The session id changed from ${previous === '' ? '(none)' : previous} to ${id}, so an id known before sign-in is worthless.`,
          });
        }
        const name = typeof data.name === 'string' ? data.name : undefined;
        return renderPage(
          event,
          'Your session',
          sessionBody({
            session: { id, createdAt, data },
            expiresAt: createdAt + MAX_AGE * 1000,
            secure: secureFor(event),
            cookieName,
            httpsUrl,
          }),
          { name, notices },
        );
      },
    },
    '/counter': {
      async GET(event) {
        const session = await useSession(event, configFor(event));
        const count = Number.isSafeInteger(session.data.count) ? Number(session.data.count) : 0;
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return renderPage(event, 'Counter', counterBody({ count }), { name });
      },
      async POST(event) {
        const form = await readForm(nodeRequestOf(event));
        const session = await useSession(event, configFor(event));
        if (form.get('action') === 'reset') {
          await session.update({ count: 0 });
        } else {
          await session.update((data) => ({
            count: Number.isSafeInteger(data.count) ? Number(data.count) + 1 : 1,
          }));
        }
        return redirect('/counter');
      },
    },
    '/cart': {
      async GET(event) {
        const session = await useSession(event, configFor(event));
        const cart = cartOf(session.data);
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return renderPage(event, 'Cart', cartBody({ cart, catalog: CATALOG }), { name });
      },
      async POST(event) {
        const form = await readForm(nodeRequestOf(event));
        const item = form.get('item') ?? '';
        const action = form.get('action');
        if (
          !CATALOG.some((product) => product.id === item) ||
          (action !== 'add' && action !== 'remove')
        ) {
          throw new HttpError(400, 'Unknown product or action.');
        }
        const session = await useSession(event, configFor(event));
        const cart = cartOf(session.data);
        const quantity = cart[item] ?? 0;
        if (action === 'add') cart[item] = Math.min(QUANTITY_LIMIT, quantity + 1);
        else if (quantity > 1) cart[item] = quantity - 1;
        else delete cart[item];
        await session.update({ cart });
        return redirect('/cart');
      },
    },
    '/cookie': {
      async GET(event) {
        const config = configFor(event);
        const header = event.getRequestHeader('cookie');
        // The first cookie of the name is the one the library reads.
        const value = readCookie(header, cookieName);
        const session = await getSession(event, config);
        const rejection = refusals(cookieName).find((entry) => entry.source === 'cookie');
        const sent = value !== undefined && value !== '';
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return renderPage(
          event,
          'Your cookie',
          cookieBody({
            header,
            cookieName,
            token: sent ? describeToken(value, cookieName) : undefined,
            sent,
            accepted: sent && rejection === undefined,
            rejectionCode: rejection?.code,
            count: countCookie(header, cookieName),
            httpsUrl,
          }),
          { name },
        );
      },
    },
  };
}

/**
 * The routes of the account area, whose session is kept in a store (session-config.mjs):
 * the Devices page, which lists the signed-in user's sessions, and its forms, which sign
 * in and sign devices out. Every change is a POST; app.mjs refuses a post whose Origin is
 * another site, and the cookie is SameSite=Lax, as for the demo's other forms. A store that
 * fails or does not answer makes the session functions throw ERR_STORE_UNAVAILABLE, which
 * app.mjs answers with a 503 page.
 *
 * @param {import('./session-config.mjs').SessionSettings
 *   & { storeDescription: string }} settings
 * @returns {Routes}
 */
function deviceRoutes({ configFor, authConfigFor, authCookieName, storeDescription }) {
  const about = {
    cookieName: authCookieName,
    storeDescription,
    maxAge: AUTH_MAX_AGE,
    idleTimeout: AUTH_IDLE_TIMEOUT,
    nameLimit: NAME_LIMIT,
  };

  /**
   * The name signed in to the cookie session, for the navigation bar.
   *
   * @param {HTTPEvent} event
   */
  async function navName(event) {
    const session = await getSession(event, configFor(event));
    return typeof session.data.name === 'string' ? session.data.name : undefined;
  }

  /**
   * The account session of the request and its user (undefined when signed out).
   *
   * @param {HTTPEvent} event
   */
  async function account(event) {
    const config = authConfigFor(event);
    const session = await getSession(event, config);
    const user = typeof session.data.user === 'string' ? session.data.user : undefined;
    return { config, session, user };
  }

  return {
    '/devices': {
      async GET(event, url) {
        const { config, session, user } = await account(event);
        // A refused cookie (a revoked device's) would be refused at every request: delete it.
        if (refusals(authCookieName).length > 0) await clearSession(event, config);
        const name = await navName(event);
        const notices = deviceNotices(url.searchParams, user);
        if (user === undefined) {
          return renderPage(event, 'Devices', accountSignInBody(about), { name, notices });
        }
        const sessions = await listSessions(config, user);
        return renderPage(
          event,
          'Devices',
          devicesBody({ ...about, user, currentId: session.id, sessions }),
          { name, notices },
        );
      },
    },
    '/devices/signin': {
      async POST(event) {
        const form = await readForm(nodeRequestOf(event));
        const user = (form.get('user') ?? '').trim();
        if (user === '' || user.length > NAME_LIMIT) {
          return renderPage(
            event,
            'Devices',
            accountSignInBody({
              ...about,
              value: user.slice(0, NAME_LIMIT),
              error: `Enter a user name of 1 to ${NAME_LIMIT} characters.`,
            }),
            { name: await navName(event), status: 400 },
          );
        }
        // No password: a demo. `userKey` now gives a user where it gave none, so the session
        // moves to a new id indexed under the user (and a record it had is deleted).
        await updateSession(event, authConfigFor(event), { user, signedInAt: Date.now() });
        return redirect('/devices?signed-in');
      },
    },
    '/devices/signout': {
      async POST(event) {
        const form = await readForm(nodeRequestOf(event));
        const id = form.get('id') ?? '';
        const { config, session, user } = await account(event);
        // Signed out meanwhile (revoked from another device): the page says so.
        if (user === undefined) return redirect('/devices');
        if (id === session.id) {
          // This device: delete the record and the cookie.
          await clearSession(event, config);
          return redirect('/devices?signed-out');
        }
        // Another device: the id comes from the client, so only one of this user's own
        // sessions may be revoked (`userKey`); one already gone is no error.
        const revoked = id !== '' && (await revokeSession(config, id, { userKey: user }));
        if (!revoked) return redirect('/devices?gone');
        return redirect('/devices?revoked');
      },
    },
    '/devices/signout-others': {
      async POST(event) {
        const { config, session, user } = await account(event);
        if (user === undefined) return redirect('/devices');
        const count = await revokeUserSessions(config, user, { except: session.id });
        return redirect(`/devices?signed-out-others=${count}`);
      },
    },
    '/devices/signout-everywhere': {
      async POST(event) {
        const { config, user } = await account(event);
        if (user === undefined) return redirect('/devices');
        // Every record of the user, this one included, in one step; then this cookie.
        const count = await revokeUserSessions(config, user);
        await clearSession(event, config);
        return redirect(`/devices?signed-out-everywhere=${count}`);
      },
    },
  };
}

/**
 * The notices of the Devices page after one of its forms redirected to it.
 *
 * @param {URLSearchParams} query
 * @param {string | undefined} user - the signed-in user, if any
 * @returns {Notice[]}
 */
function deviceNotices(query, user) {
  /** @param {string} key */
  const count = (key) => {
    const value = query.get(key);
    // Only a small number: the query string must not put arbitrary text on the page.
    return value !== null && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
  };
  /** @param {number} n */
  const sessionsWord = (n) => (n === 1 ? '1 session' : `${n} sessions`);
  /** @type {Notice[]} */
  const notices = [];
  if (query.has('signed-in') && user !== undefined) {
    notices.push({
      kind: 'info',
      text: `Signed in as ${user} on this device, under a new session id indexed under your name.`,
    });
  }
  if (query.has('signed-out')) {
    notices.push({
      kind: 'info',
      text: 'You are signed out on this device: its session record and its cookie were deleted.',
    });
  }
  if (query.has('revoked')) {
    notices.push({
      kind: 'info',
      text: 'That device is signed out: its session record was deleted, so its next request finds no session.',
    });
  }
  if (query.has('gone')) {
    notices.push({ kind: 'info', text: 'That session had already ended.' });
  }
  const others = count('signed-out-others');
  if (others !== undefined) {
    notices.push({
      kind: 'info',
      text: `Signed out everywhere else: ${sessionsWord(others)} revoked. This device stays signed in.`,
    });
  }
  const everywhere = count('signed-out-everywhere');
  if (everywhere !== undefined) {
    notices.push({
      kind: 'info',
      text: `Signed out everywhere: ${sessionsWord(everywhere)} revoked, this device's included.`,
    });
  }
  return notices;
}

/**
 * The cart from session data, keeping only known products and sane quantities: authentic
 * data may still come from an older version of the demo, or from another app sealing with
 * the same password.
 *
 * @param {Record<string, unknown>} data
 * @returns {Record<string, number>}
 */
function cartOf(data) {
  /** @type {Record<string, number>} */
  const cart = {};
  const stored = data.cart;
  if (typeof stored !== 'object' || stored === null) return cart;
  for (const product of CATALOG) {
    const quantity = /** @type {Record<string, unknown>} */ (stored)[product.id];
    if (Number.isSafeInteger(quantity) && Number(quantity) > 0) {
      cart[product.id] = Math.min(QUANTITY_LIMIT, Number(quantity));
    }
  }
  return cart;
}
