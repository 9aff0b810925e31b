/**
 * `npm start`: serves the sealed-session demo on http://localhost:3000.
 *
 * Environment: PORT (default 3000), HOST (default 127.0.0.1), SESSION_PASSWORD (at least
 * 32 characters; generated when absent), COOKIE_SECURE (auto | true | false, default auto),
 * TRUST_PROXY (1 to believe X-Forwarded-Proto).
 */
import { randomBytes } from 'node:crypto';
import { createDemoServer } from './app.mjs';

/** @returns {never} */
function fail(/** @type {string} */ message) {
  console.error(`demo: ${message}`);
  process.exit(2);
}

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('PORT must be a port number');
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

/** @type {import('./app.d.mts').DemoServer} */
let demo;
try {
  demo = await createDemoServer({
    password,
    port,
    host,
    cookieSecure,
    trustProxy: process.env.TRUST_PROXY === '1',
    log: (line) => {
      console.log(`demo: ${line}`);
    },
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

console.log(`demo: sealed-session demo on ${demo.url}/ (Ctrl+C to stop)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void demo.close().then(() => process.exit(0));
  });
}
