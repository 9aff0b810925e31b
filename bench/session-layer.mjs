/**
 * The session layer alone, without HTTP: what `useSession` and a write cost in one
 * process, on the package's engine over an in-memory transport (a request context with a
 * cookie header and a Set-Cookie list). What is left of a request's cost over HTTP is the
 * host's (node's HTTP stack, the socket, the response body); compare with the CPU per
 * request of `bench/http.mjs`. Also the copies a write makes of session data.
 *
 *   npm run build && node bench/session-layer.mjs [--rounds 9] [--count 20000]
 *
 * Medians (and minimums) over rounds, in µs per operation.
 */
import { parseArgs } from 'node:util';
import { copyJson } from '../dist/iron/json.js';
import { iron } from '../dist/iron/instance.js';
import { createRequestContext } from '../dist/session/request-state.js';
import { createSessionEngine } from '../dist/session/session-engine.js';
import { PASSWORD, SESSION_DATA } from './http/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    count: { type: 'string', default: '20000' },
  },
});
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.count);

const engine = createSessionEngine({ iron, now: () => Date.now() });
const config = { password: PASSWORD, maxAge: 3600 };

/**
 * A request carrying `cookie`, keeping the last Set-Cookie header it answers with.
 *
 * @param {string | undefined} cookie
 */
function request(cookie) {
  /** @type {string | undefined} */
  let setCookie;
  const transport = {
    /** @param {string} name */
    getRequestHeader: (name) => (name === 'cookie' ? cookie : undefined),
    /** @param {string} header */
    setCookie(header) {
      setCookie = header;
    },
    headersSent: () => false,
  };
  return { context: createRequestContext(transport), setCookie: () => setCookie };
}

/**
 * @param {string} label
 * @param {() => unknown} operation - awaited when it returns a promise
 */
async function time(label, operation) {
  const perOperation = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i++) await operation();
    perOperation.push(Number(process.hrtime.bigint() - started) / COUNT / 1000);
  }
  perOperation.sort((a, b) => a - b);
  const middle = perOperation[Math.floor(ROUNDS / 2)] ?? NaN;
  console.log(
    `${label.padEnd(60)} ${middle.toFixed(2).padStart(7)} µs (min ${(perOperation[0] ?? NaN).toFixed(2)})`,
  );
}

// A signed-in session, as the HTTP benchmark's /login makes it.
const login = request(undefined);
await (await engine.useSession(login.context, config)).update(structuredClone(SESSION_DATA));
const cookie = /** @type {string} */ (login.setCookie()).split(';')[0];

/** A well-formed token with fresh random salts and a MAC that cannot verify. */
const forged = () => {
  const hex = () => Math.random().toString(16).slice(2, 14).padEnd(64, '0');
  return `h3=Fe26.2**${hex()}*${'A'.repeat(22)}*${'B'.repeat(64)}**${hex()}*${'C'.repeat(43)}`;
};

console.log(`session layer, ${ROUNDS} rounds of ${COUNT}:`);
await time('read: useSession, then data', async () => {
  const session = await engine.useSession(request(cookie).context, config);
  return session.data;
});
await time('write: useSession, then update(fn) (seals, sets the cookie)', async () => {
  const session = await engine.useSession(request(cookie).context, config);
  await session.update((data) => {
    data.count++;
  });
});
await time('forged cookie: refused, a fresh session sealed and set', () =>
  engine.useSession(request(forged()).context, config),
);
const data = structuredClone(SESSION_DATA);
await time('copy of the session data: structuredClone', () => structuredClone(data));
await time('copy of the session data: copyJson', () => copyJson(data));
