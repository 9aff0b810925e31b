/**
 * The demo's pages: plain server-rendered HTML, no scripts. Every value goes through the
 * `html` tag, which escapes it.
 */
import { html, raw } from './html.mjs';

/** Why a session token may be refused, by error code (for the notice). */
const REJECTION_REASONS = {
  ERR_SEAL_INVALID: 'it is not an iron Fe26.2 token (malformed or truncated)',
  ERR_SEAL_UNSEAL_FAILED:
    'its MAC did not verify: it was edited, or sealed with another password (a restart with a generated password does this)',
  ERR_SEAL_EXPIRED: 'its iron expiry has passed',
  ERR_SESSION_EXPIRED: 'the session is older than maxAge',
  ERR_PASSWORD_NOT_FOUND: 'it names a password id this server does not have',
  ERR_COOKIE_INVALID: 'it is an authentic token, but not a session',
  ERR_COOKIE_TOO_LARGE: 'it is too large',
  ERR_DATA_INVALID: 'its content is not valid session JSON',
  ERR_COOKIE_DUPLICATE:
    'another path, or another site of the same parent domain, set a cookie of the same name (cookie tossing)',
  ERR_SESSION_REVOKED:
    'its session was signed out from the Devices page (its record in the store was deleted), or it ended there',
};

/** @param {string} code */
export function rejectionReason(code) {
  return /** @type {Record<string, string>} */ (REJECTION_REASONS)[code] ?? 'it could not be used';
}

const STYLE = raw(`
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
  nav form { margin-left: auto; }
  .notice { padding: .5rem .75rem; border-radius: 4px; margin: 1rem 0; }
  .info { background: #e8f4ff; border: 1px solid #9cc8f0; }
  .warn { background: #fff4e0; border: 1px solid #f0c070; }
  .error { background: #ffe8e8; border: 1px solid #f09c9c; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  code, pre { font: 13px/1.4 ui-monospace, monospace; background: #f4f4f4; }
  pre { padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
  table { border-collapse: collapse; } td, th { padding: .25rem .75rem; border-bottom: 1px solid #eee; text-align: left; }
  button { font: inherit; cursor: pointer; }
  .device-actions { display: flex; gap: 1rem; margin: 1rem 0; }
  .this-device-label { margin-left: .5rem; color: #1a6; }
`);

/**
 * @typedef {{ kind: 'info' | 'warn' | 'error', text: unknown }} Notice
 * @typedef {{ title: string, name?: string | undefined, notices?: Notice[], body: unknown }} LayoutInput
 */

/** @param {LayoutInput} page */
export function layout({ title, name, notices = [], body }) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · sealed-session demo</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <nav>
          <strong>sealed-session demo</strong>
          <a href="/">Home</a> <a href="/session">Session</a> <a href="/counter">Counter</a>
          <a href="/cart">Cart</a> <a href="/cookie">Cookie</a> <a href="/devices">Devices</a>
          ${
            name === undefined
              ? ''
              : html`<form method="post" action="/signout">
                  <span id="signed-in-as">${name}</span>
                  <button type="submit" id="signout">Sign out</button>
                </form>`
          }
        </nav>
        ${notices.map((notice) => html`<p class="notice ${notice.kind}" role="status">${notice.text}</p>`)}
        <h1>${title}</h1>
        ${body}
      </body>
    </html> `;
}

/**
 * The notice shown when the browser sent a session token that the server refused.
 *
 * @param {Array<{ code: string, source: string, name?: string }>} rejections - `name`: the
 *   session's (the demo has two: the cookie session and the account area's)
 * @returns {Notice[]}
 */
export function rejectionNotices(rejections) {
  return rejections.map(({ code, source, name }) => {
    const which = name === undefined ? '' : html` <code class="rejection-name">${name}</code>`;
    return {
      kind: 'warn',
      // A duplicate is not a refusal: the request went on with the first cookie sent.
      text:
        code === 'ERR_COOKIE_DUPLICATE'
          ? html`Your session ${source}${which} came more than once (<code class="rejection-code"
                >${code}</code
              >): ${rejectionReason(code)}. The server used the first one.`
          : html`Your previous session ${source}${which} was rejected (<code class="rejection-code"
                >${code}</code
              >): ${rejectionReason(code)}. You have a fresh session instead.`,
    };
  });
}

/**
 * Why the cookie has the name it has: `__Host-` over HTTPS, a plain name over HTTP.
 *
 * @param {{ cookieName: string, httpsUrl?: string | undefined }} input
 */
export function cookiePrefixNote({ cookieName, httpsUrl }) {
  if (cookieName.startsWith('__Host-')) {
    return html`<p id="cookie-prefix">
      The name starts with <code>__Host-</code>: the browser keeps such a cookie only when it is
      <code>Secure</code>, has <code>Path=/</code> and no <code>Domain</code>. So no other subdomain
      of this site can plant its own session cookie here for yours to lose against (cookie tossing:
      browsers send the cookie with the longer path first, and servers read the first).
    </p>`;
  }
  return html`<p id="cookie-prefix">
    The name is a plain <code>${cookieName}</code>, not <code>__Host-${cookieName}</code>: this
    server speaks plain HTTP, and browsers accept a <code>__Host-</code> cookie only when it is
    <code>Secure</code>, which plain HTTP cannot rely on. Without the prefix, a sibling subdomain
    could plant a session cookie of the same name for the parent domain (cookie tossing).
    ${
      httpsUrl === undefined
        ? ''
        : html`The <a id="https-demo" href="${httpsUrl}/cookie">HTTPS demo</a> uses
            <code>__Host-${cookieName}</code>.`
    }
  </p>`;
}

/** @param {number} ms */
export function formatTime(ms) {
  return new Date(ms).toISOString();
}

/**
 * How long ago `ms` was, roughly.
 *
 * @param {number} ms
 */
function ago(ms) {
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}

/** @param {number} ms */
function fromNow(ms) {
  const seconds = Math.round((ms - Date.now()) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/**
 * @param {{ name: string | undefined, error?: string | undefined, value?: string }} input
 */
export function homeBody({ name, error, value = '' }) {
  if (name !== undefined) {
    return html`<p id="greeting">
        Hello, <strong id="user-name">${name}</strong>! You are signed in.
      </p>
      <p>
        Look at <a href="/session">your session</a>, bump the <a href="/counter">counter</a>, fill
        the <a href="/cart">cart</a>, or see <a href="/cookie">the cookie your browser sends</a>.
      </p>
      ${devicesTeaser}`;
  }
  return html`<p>
      Everything these pages remember about you lives in one sealed cookie: encrypted and
      authenticated with iron Fe26.2, no server-side storage.
    </p>
    <form method="post" action="/signin">
      <label
        >Your name <input name="name" id="name" maxlength="40" required value="${value}"
      /></label>
      <button type="submit" id="signin">Sign in</button>
    </form>
    ${error === undefined ? '' : html`<p class="notice error" id="form-error">${error}</p>`}
    <p>
      Signing in keeps your data (counter, cart) but gives the session a new id, so an id planted
      before sign-in is worthless (session fixation).
    </p>
    ${devicesTeaser}`;
}

const devicesTeaser = html`<p>
  The <a href="/devices">Devices</a> page has a second sign-in, whose sessions live on the server:
  there you see every device signed in as you, and sign them out.
</p>`;

/**
 * @param {{ session: { id: string, createdAt: number, data: Record<string, unknown> },
 *   expiresAt: number | undefined, secure: boolean, cookieName: string,
 *   httpsUrl?: string | undefined }} input
 */
export function sessionBody({ session, expiresAt, secure, cookieName, httpsUrl }) {
  return html`<dl>
      <dt>id</dt>
      <dd><code id="session-id">${session.id}</code></dd>
      <dt>createdAt</dt>
      <dd><span id="created-at">${formatTime(session.createdAt)}</span></dd>
      <dt>expires</dt>
      <dd>
        ${
          expiresAt === undefined
            ? 'never (no maxAge)'
            : html`<span id="expires-at">${formatTime(expiresAt)}</span> (${fromNow(expiresAt)};
                maxAge counts from createdAt, so using the session does not extend it)`
        }
      </dd>
      <dt>cookie</dt>
      <dd>
        <code id="cookie-name">${cookieName}</code>, HttpOnly, SameSite=Lax,
        Path=/${secure ? ', Secure' : ''}
      </dd>
    </dl>
    ${cookiePrefixNote({ cookieName, httpsUrl })}
    <h2>data</h2>
    <pre id="session-data">${JSON.stringify(session.data, null, 2)}</pre>
    <p>
      This is exactly what is sealed into the cookie: <code>{ id, createdAt, data }</code>, as h3
      and vinxi seal it, so their apps read this cookie with the same password.
    </p>`;
}

/** @param {{ count: number }} input */
export function counterBody({ count }) {
  return html`<p>
      The count is <strong id="count">${count}</strong>. It lives in the cookie: reload the page or
      open it in a new tab and it stays.
    </p>
    <form method="post" action="/counter">
      <button type="submit" name="action" value="increment" id="increment">+1</button>
      <button type="submit" name="action" value="reset" id="reset">Reset</button>
    </form>`;
}

/**
 * @param {{ cart: Record<string, number>,
 *   catalog: ReadonlyArray<{ id: string, label: string }> }} input
 */
export function cartBody({ cart, catalog }) {
  const labels = new Map(catalog.map((item) => [item.id, item.label]));
  const lines = Object.entries(cart).filter(([id]) => labels.has(id));
  return html`<h2>Products</h2>
    <table>
      ${catalog.map(
        (item) =>
          html`<tr>
            <td>${item.label}</td>
            <td>
              <form method="post" action="/cart">
                <input type="hidden" name="item" value="${item.id}" />
                <button type="submit" name="action" value="add" id="add-${item.id}">Add</button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    <h2>Your cart</h2>
    ${
      lines.length === 0
        ? html`<p id="cart-empty">The cart is empty.</p>`
        : html`<table id="cart">
            ${lines.map(
              ([id, quantity]) =>
                html`<tr>
                  <td>${labels.get(id)}</td>
                  <td class="quantity" id="qty-${id}">${quantity}</td>
                  <td>
                    <form method="post" action="/cart">
                      <input type="hidden" name="item" value="${id}" />
                      <button type="submit" name="action" value="remove" id="remove-${id}">
                        Remove one
                      </button>
                    </form>
                  </td>
                </tr>`,
            )}
          </table>`
    }`;
}

/**
 * @param {{ header: string | undefined, cookieName: string,
 *   token: import('sealed-session/iron').TokenInspection | undefined,
 *   sent: boolean, accepted: boolean, rejectionCode: string | undefined,
 *   count?: number, httpsUrl?: string | undefined }} input
 */
export function cookieBody({
  header,
  cookieName,
  token,
  sent,
  accepted,
  rejectionCode,
  count = sent ? 1 : 0,
  httpsUrl,
}) {
  const status = !sent
    ? html`Your browser sent no <code>${cookieName}</code> cookie: you have no session yet (pages
        that only read, like this one and Home, do not create one).`
    : accepted
      ? html`The server opened it: the MAC verified and it decrypted to a valid session.`
      : html`The server refused it (<code>${rejectionCode ?? 'unknown'}</code>):
        ${rejectionReason(rejectionCode ?? '')}.`;
  return html`<h2>The Cookie header, as your browser sent it</h2>
    <pre id="raw-cookie">${header ?? '(no Cookie header)'}</pre>
    <p>
      The session cookie is <code>HttpOnly</code>: scripts in the page cannot read it. This page
      shows it only because the server echoes the header back to you.
    </p>
    <p id="cookie-status">${status}</p>
    ${
      count > 1
        ? html`<p id="cookie-count">
            Your browser sent <code>${cookieName}</code> ${count} times. The server read the first
            one (shown below); another path, or another site of the same parent domain, set the
            others.
          </p>`
        : ''
    }
    ${cookiePrefixNote({ cookieName, httpsUrl })}
    ${
      token === undefined
        ? sent
          ? html`<p>
              The <code>${cookieName}</code> cookie is not shaped like an iron Fe26.2 token.
            </p>`
          : ''
        : html`<h2>What anyone holding the cookie can read (no password needed)</h2>
            <dl id="token-fields">
              <dt>format</dt>
              <dd>
                <code>${token.format}</code> (iron, as @hapi/iron, iron-webcrypto and h3 write it)
              </dd>
              <dt>password id</dt>
              <dd id="password-id">
                ${
                  token.passwordId === null
                    ? 'none (one password, no rotation map)'
                    : html`<code>${token.passwordId}</code>`
                }
              </dd>
              <dt>expires</dt>
              <dd id="token-expiry">
                ${
                  token.expiration === null
                    ? 'never'
                    : token.expiration.iso === null
                      ? // Not verified: a forged expiry may lie past the last date a Date holds.
                        html`${token.expiration.ms} ms after 1970, later than any date`
                      : html`<time id="token-expires-at" datetime="${token.expiration.iso}"
                            >${token.expiration.iso}</time
                          >
                          (${fromNow(token.expiration.ms)})`
                }
              </dd>
              <dt>size</dt>
              <dd>
                ${token.tokenLength} characters; ${token.ciphertextBytes} bytes of ciphertext, which
                bounds the size of the data. With its name and the usual attributes the cookie takes
                about <span id="cookie-bytes">${token.cookie.bytes}</span> of the
                ${token.cookie.limit} bytes a browser keeps of one
                cookie${
                  token.cookie.fits ? '' : html`: <strong>too large</strong>, browsers drop it`
                }
              </dd>
              <dt>random values</dt>
              <dd>
                the IV, fresh for every token, and the encryption and MAC salts, random and shared
                by the tokens the server seals in a short while (so it derives their keys once):
                none of them says anything about you
              </dd>
            </dl>
            <h2>What it does not reveal, and what it prevents</h2>
            <ul>
              <li>
                The session itself (id, createdAt, your name, counter, cart) is encrypted with
                AES-256-CBC under a key derived from the server's password: without the password it
                is opaque.
              </li>
              <li>
                The HMAC-SHA256 over the other fields stops edits: change one character (even the
                expiry) and the server refuses the cookie and starts a fresh session.
              </li>
            </ul>
            <h2>What a sealed cookie cannot do</h2>
            <ul>
              <li>
                It cannot be revoked: a copy of this cookie stays valid until its expiry, even after
                you sign out here (signing out deletes the cookie from this browser). Keep
                <code>maxAge</code> short, or use a server-side store when you need revocation, as
                the <a href="/devices">Devices</a> page does.
              </li>
              <li>
                It is replayable: whoever holds it is you until it expires. HttpOnly, SameSite=Lax
                and Secure (on HTTPS) keep it from scripts, cross-site requests and plain-text
                networks.
              </li>
            </ul>`
    }`;
}

/**
 * The account area's sign-in form.
 *
 * @param {{ value?: string, error?: string | undefined, nameLimit: number }} input
 */
function accountSignInForm({ value = '', error, nameLimit }) {
  return html`<form method="post" action="/devices/signin">
      <label
        >User name
        <input
          name="user"
          id="account-user-input"
          maxlength="${nameLimit}"
          required
          value="${value}"
          autocomplete="username"
      /></label>
      <button type="submit" id="account-signin">Sign in</button>
    </form>
    ${error === undefined ? '' : html`<p class="notice error" id="account-form-error">${error}</p>`}
    <p id="no-password">
      No password: this is a demo, so anyone may sign in as any name. A real application checks a
      password, a passkey or a single sign-on answer here, then does what this form does.
    </p>`;
}

/**
 * How the account area works, on both of its states.
 *
 * @param {{ cookieName: string, storeDescription: string, maxAge: number,
 *   idleTimeout: number }} input
 */
function accountExplanation({ cookieName, storeDescription, maxAge, idleTimeout }) {
  return html`<h2>How it works</h2>
    <ul>
      <li>
        This area has a session of its own, in store mode: the
        <code id="account-cookie-name">${cookieName}</code> cookie holds only a sealed reference
        (the session id and creation time); the session lives on the server,
        <span id="store-description">${storeDescription}</span>.
      </li>
      <li>
        Signing in gives the session a new id, indexed under your user name, so the server can list
        your sessions and revoke them. A revoked device's cookie still opens, but its record is
        gone: its next request gets a fresh, signed-out session. A sealed cookie alone cannot do
        this.
      </li>
      <li>
        A session ends ${Math.round(maxAge / 3600)} hours after sign-in, or after
        ${Math.round(idleTimeout / 60)} minutes without a request. "Last seen" moves when the
        session is written, and at most every ${Math.round(idleTimeout / 120)} minutes as its idle
        window slides.
      </li>
      <li>
        The buttons post forms; the cookie is <code>SameSite=Lax</code> and the server refuses a
        post whose <code>Origin</code> is another site, so no other site can sign you out.
      </li>
    </ul>`;
}

/**
 * The Devices page of a visitor not signed in to the account area: the sign-in form.
 *
 * @param {{ cookieName: string, storeDescription: string, maxAge: number, idleTimeout: number,
 *   nameLimit: number, value?: string, error?: string | undefined }} input
 */
export function accountSignInBody(input) {
  return html`<p id="account-signed-out">
      You are not signed in to the account area on this device. Sign in, here and in another browser
      (or a private window), and this page lists both devices.
    </p>
    ${accountSignInForm(input)} ${accountExplanation(input)}`;
}

/**
 * The Devices page: the signed-in user's sessions, this one marked, with the buttons that
 * sign them out.
 *
 * @param {{ user: string, currentId: string,
 *   sessions: ReadonlyArray<{ id: string, createdAt: number, lastSeenAt: number }>,
 *   cookieName: string, storeDescription: string, maxAge: number, idleTimeout: number }} input
 */
export function devicesBody(input) {
  const { user, currentId, sessions } = input;
  const others = sessions.filter((session) => session.id !== currentId).length;
  return html`<p id="account-status">
      Signed in as <strong id="account-name">${user}</strong>, on
      <span id="device-count">${sessions.length}</span>
      ${sessions.length === 1 ? 'device' : 'devices'}.
    </p>
    <table id="devices">
      <tr>
        <th>Session</th>
        <th>Signed in</th>
        <th>Last seen</th>
        <th></th>
      </tr>
      ${sessions.map(
        (session) =>
          html`<tr
            class="device${session.id === currentId ? ' this-device' : ''}"
            data-session-id="${session.id}"
          >
            <td>
              <code title="${session.id}">${shortId(session.id)}</code>
              ${session.id === currentId ? html`<strong class="this-device-label">this device</strong>` : ''}
            </td>
            <td>
              <time class="created-at" datetime="${formatTime(session.createdAt)}"
                >${formatTime(session.createdAt)}</time
              >
              (${ago(session.createdAt)})
            </td>
            <td>
              <time class="last-seen-at" datetime="${formatTime(session.lastSeenAt)}"
                >${formatTime(session.lastSeenAt)}</time
              >
              (${ago(session.lastSeenAt)})
            </td>
            <td>
              <form method="post" action="/devices/signout">
                <button type="submit" name="id" value="${session.id}" class="signout-device">
                  Sign out this device
                </button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    <div class="device-actions">
      <form method="post" action="/devices/signout-others">
        <button type="submit" id="signout-others" ${others === 0 ? raw('disabled') : ''}>
          Sign out everywhere else
        </button>
      </form>
      <form method="post" action="/devices/signout-everywhere">
        <button type="submit" id="signout-everywhere">Sign out everywhere</button>
      </form>
    </div>
    ${accountExplanation(input)}`;
}

/**
 * A session id as the Devices table shows it: the first characters of its random part (a
 * user's ids all start with the same user tag).
 *
 * @param {string} id
 */
function shortId(id) {
  return `${id.slice(id.lastIndexOf('.') + 1).slice(0, 8)}…`;
}

/** @param {{ message: string }} input */
export function messageBody({ message }) {
  return html`<p>${message}</p>
    <p><a href="/">Back to the home page</a></p>`;
}
