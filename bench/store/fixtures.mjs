/**
 * Shared pieces of the store-mode benchmark (bench/store.mjs): the servers compared, a
 * helper that starts one in its own process, and the Redis key prefix of a run. Sign-in,
 * requests and CPU readings are those of the HTTP benchmark (bench/http/fixtures.mjs), and
 * so is the session data: a signed-in user (`user.id` 42), two roles, a counter.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { PASSWORD, SESSION_DATA, call, cpuMicros, login } from '../http/fixtures.mjs';

/** The machine's Redis, the one every server of the benchmark uses. */
export const REDIS_URL = process.env.STORE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The servers, each in a process of its own (bench/store/server.mjs):
 *
 * - `express-session`: express-session + connect-redis on Express 5, with the settings
 *   express-session's docs recommend (`resave: false`, `saveUninitialized: false`) and
 *   connect-redis's defaults (a read also resets the key's TTL: GET, then EXPIRE).
 * - `express-session-notouch`: the same with connect-redis `disableTouch: true`, so a read
 *   is one GET, as a read of ours is one script: the fairest peer for reads.
 * - `sealed-express-redis`: sealed-session store mode on Express (`sessionMiddleware`).
 * - `sealed-node-redis`: sealed-session store mode on node:http (`toNodeListener`).
 * - `sealed-node-cookie`: sealed-session cookie mode on node:http: what the store costs.
 * - `express-bare`: Express 5 with the same routes and no session at all, the floor under
 *   the Express rows (its /write counts in a variable of the process).
 *
 * Every store-mode server uses `redisStore` with the `userKey` option (`data.user.id`),
 * so a signed-in session is indexed under its user, as revocation needs.
 */
export const STORE_SERVERS = /** @type {const} */ ([
  'express-session',
  'express-session-notouch',
  'sealed-express-redis',
  'sealed-node-redis',
  'sealed-node-cookie',
  'express-bare',
]);

/** @typedef {(typeof STORE_SERVERS)[number]} StoreServerName */

/**
 * A unique Redis key prefix for one run (no `{` or `}`: redisStore places its own hash
 * tags). Every key a server of the run writes starts with it.
 */
export function runPrefix() {
  return `sealed-session-bench:${process.pid}-${Date.now().toString(36)}:`;
}

const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

/** @typedef {import('../http/fixtures.mjs').RunningServer} RunningServer */

/**
 * Starts `name` in its own Node process on a free 127.0.0.1 port; its Redis keys start
 * with `prefix`.
 *
 * @param {StoreServerName} name
 * @param {string} prefix - from {@link runPrefix}
 * @param {readonly string[]} [nodeOptions] - for the server's node (`--cpu-prof`, say)
 * @returns {Promise<RunningServer>}
 */
export function startStoreServer(name, prefix, nodeOptions = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, serverScript, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, STORE_BENCH_PREFIX: prefix, STORE_BENCH_REDIS_URL: REDIS_URL },
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start`));
    }, 15_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /ready (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          port: Number(match[1]),
          // A child that printed is running, so it has a pid.
          pid: /** @type {number} */ (child.pid),
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              // Bounded: a server that does not exit on SIGTERM is killed.
              const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => {
                clearTimeout(kill);
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!/ready/.test(output)) reject(new Error(`${name} exited with ${code}`));
    });
  });
}

/**
 * Deletes every key under `prefix` (SCAN, so a busy shared server is not blocked; UNLINK
 * in batches); resolves to how many were deleted.
 *
 * @param {{ sendCommand(args: string[]): Promise<unknown> }} client - a connected node-redis
 *   client
 * @param {string} prefix
 */
export async function deleteKeys(client, prefix) {
  let deleted = 0;
  let cursor = '0';
  // Bounded: far more rounds than the keys of a run need.
  for (let round = 0; round < 100_000; round++) {
    const [next, keys] = /** @type {[string, string[]]} */ (
      await client.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])
    );
    if (keys.length > 0) deleted += Number(await client.sendCommand(['UNLINK', ...keys]));
    cursor = next;
    if (cursor === '0') break;
  }
  return deleted;
}
