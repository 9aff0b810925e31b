/**
 * The demo's pages as routes: what each path and method reads from the session, changes
 * in it, and renders. The HTML lives in pages.mjs; dispatching requests to these routes
 * lives in app.mjs.
 */
import { clearSession, getSession, useSession } from 'sealed-session';
import { HttpError, nodeRequestOf, readForm, redirect } from './http.mjs';
import {
  cartBody,
  cookieBody,
  counterBody,
  homeBody,
  layout,
  rejectionNotices,
  sessionBody,
} from './pages.mjs';
import { refusals, rejections } from './request-notes.mjs';
import { MAX_AGE } from './session-config.mjs';
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
 *   & { httpsUrl: string | undefined }} settings - `httpsUrl`: where the same demo runs
 *   over HTTPS, for the plain-HTTP pages to link to
 * @returns {Routes}
 */
export function createRoutes({ cookieName, secureFor, configFor, httpsUrl }) {
  return {
    '/': {
      async GET(event, url) {
        const config = configFor(event);
        // Read only: a visitor who never signs in gets no cookie from this page.
        const session = await getSession(event, config);
        // A refused cookie would be refused again on every page: delete it.
        if (refusals().length > 0) await clearSession(event, config);
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
        const rejection = refusals().find((entry) => entry.source === 'cookie');
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
