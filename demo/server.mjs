/**
 * `npm start`: serves the sealed-session demo on http://localhost:3000 and, with a
 * self-signed certificate made at start, on https://localhost:3443, where the session
 * cookie is `__Host-h3` (plain HTTP keeps `h3`: a `__Host-` cookie must be Secure).
 *
 * Environment: PORT (default 3000), HTTPS_PORT (default 3443; off for no HTTPS), HOST
 * (default 127.0.0.1), SESSION_PASSWORD (at least 32 characters; generated when absent),
 * COOKIE_SECURE (auto | true | false, default auto; the HTTP server only, the HTTPS one
 * always sets Secure), TRUST_PROXY (1 to believe X-Forwarded-Proto on the HTTP server),
 * REDIS_URL (the account area's sessions in Redis, redis://host:port; in memory when unset).
 */
import { randomBytes } from 'node:crypto';
import { createDemoServer, createDemoStore } from './app.mjs';
import { createSelfSignedCertificate } from './certificate.mjs';

/** @returns {never} */
function fail(/** @type {string} */ message) {
  console.error(`demo: ${message}`);
  process.exit(2);
}

/**
 * @param {string} variable
 * @param {number} fallback
 */
function portFrom(variable, fallback) {
  const port = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`${variable} must be a port number`);
  return port;
}

const port = portFrom('PORT', 3000);
const httpsOff = (process.env.HTTPS_PORT ?? '').toLowerCase() === 'off';
const httpsPort = httpsOff ? undefined : portFrom('HTTPS_PORT', 3443);
const host = process.env.HOST ?? '127.0.0.1';

let password = process.env.SESSION_PASSWORD;
if (password === undefined || password === '') {
  password = randomBytes(32).toString('base64url');
  console.log(
    'demo: SESSION_PASSWORD is not set, so a random password was generated for this run.\n' +
      '      Sessions will not survive a restart: cookies sealed now are refused after one\n' +
      '      (the demo then shows a notice and starts a fresh session). For stable sessions:\n' +
      '      SESSION_PASSWORD="$(node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))")" npm start',
  );
} else if (password.length < 32) {
  fail('SESSION_PASSWORD must have at least 32 characters');
}

const secureSetting = (process.env.COOKIE_SECURE ?? 'auto').toLowerCase();
if (!['auto', 'true', 'false'].includes(secureSetting)) {
  fail('COOKIE_SECURE must be auto, true or false');
}
const cookieSecure = secureSetting === 'auto' ? 'auto' : secureSetting === 'true';

/** @param {string} line */
const log = (line) => {
  console.log(`demo: ${line}`);
};

/** @type {import('./app.d.mts').DemoServer | undefined} */
let httpsDemo;
/** @type {import('./app.d.mts').DemoServer} */
let demo;
/** @type {import('./app.d.mts').DemoStore | undefined} */
let store;
const stop = async () => {
  await Promise.all([httpsDemo?.close(), demo?.close()]);
  await store?.close();
};

try {
  // One store for both servers: the Devices page lists a user's HTTP and HTTPS sessions.
  store = await createDemoStore({ redisUrl: process.env.REDIS_URL, log });
  // HTTPS first, so the HTTP pages can link to it (HTTPS_PORT=0 picks its port at listen).
  if (httpsPort !== undefined) {
    const tls = await createSelfSignedCertificate(['localhost', '127.0.0.1', '::1']);
    if (tls === undefined) {
      log(
        'openssl is not installed, so there is no HTTPS demo (and so no __Host- cookie, which\n' +
          '      needs HTTPS). Install openssl (apt-get install openssl) to get it; HTTP runs alone.',
      );
    } else {
      httpsDemo = await createDemoServer({ password, port: httpsPort, host, tls, store, log });
    }
  }
  demo = await createDemoServer({
    password,
    port,
    host,
    cookieSecure,
    trustProxy: process.env.TRUST_PROXY === '1',
    httpsUrl: httpsDemo?.url,
    store,
    log,
  });
} catch (error) {
  await stop();
  fail(error instanceof Error ? error.message : String(error));
}

console.log(`demo: sealed-session demo on ${demo.url}/ (cookie ${demo.cookieName})`);
if (httpsDemo !== undefined) {
  console.log(
    `demo: and on ${httpsDemo.url}/ (cookie ${httpsDemo.cookieName}; the certificate is\n` +
      '      self-signed, made at start, so the browser warns once: accept it for this site)',
  );
}
console.log(`demo: the Devices page keeps its sessions ${store.description}`);
console.log('demo: Ctrl+C to stop');

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void stop().then(() => process.exit(0));
  });
}
