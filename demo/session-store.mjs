/**
 * The server-side session store of the demo's account area (the Devices page): the
 * package's `memoryStore()` by default, or Redis when a URL is given (`REDIS_URL`).
 *
 * Redis goes through a node-redis client made to fail fast rather than wait: with the
 * offline queue off, a command sent while the connection is down is refused at once instead
 * of queued until Redis comes back, so a request gets its 503 (ERR_STORE_UNAVAILABLE) now,
 * and the store's per-call deadline is the most a request waits. Reconnection goes on in
 * the background with a capped backoff, and every client error is logged, never thrown
 * (a node-redis client without an `error` listener crashes the process).
 *
 * `sealed-session/redis` and `redis` are imported only when a URL is given, so the default
 * demo never loads them.
 */
import { memoryStore } from 'sealed-session';

/** The start of every key the demo writes in Redis, so it can share a database. */
export const REDIS_PREFIX = 'sealed-session-demo:';
/** Longest wait for a TCP connection to Redis, in ms. */
const CONNECT_TIMEOUT_MS = 2000;
/** Longest pause between two reconnection attempts, in ms. */
const MAX_BACKOFF_MS = 2000;
/** Longest wait at start for the first connection (or its first failure), in ms. */
const FIRST_CONNECTION_WAIT_MS = CONNECT_TIMEOUT_MS + 500;

/**
 * @typedef {object} DemoStore
 * @property {import('sealed-session').SessionStore} store - the store to pass the demo
 * @property {string} description - what it is, for the log and the Devices page
 * @property {() => Promise<void>} close - closes the Redis connection, if there is one
 */

/**
 * The account area's store: Redis at `redisUrl` when one is given, else in memory.
 *
 * @param {{ redisUrl?: string | undefined, log?: (line: string) => void }} [options]
 * @returns {Promise<DemoStore>}
 */
export async function createDemoStore({ redisUrl, log = () => {} } = {}) {
  if (redisUrl === undefined || redisUrl === '') {
    return {
      store: memoryStore(),
      description: 'in memory (this process only; restarting the demo signs everyone out)',
      close: () => Promise.resolve(),
    };
  }
  const [{ createClient }, { redisStore }] = await Promise.all([
    import('redis'),
    import('sealed-session/redis'),
  ]);
  const client = createClient({
    url: redisUrl,
    // Refuse commands while disconnected instead of queueing them until Redis is back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // 100 ms, 200 ms, ... then every MAX_BACKOFF_MS: never give up, never hammer.
      reconnectStrategy: (retries) => Math.min((retries + 1) * 100, MAX_BACKOFF_MS),
    },
  });
  const where = describeUrl(redisUrl);
  // Reconnection repeats the same error every MAX_BACKOFF_MS: log it once per outage.
  let lastError = '';
  client.on('error', (/** @type {unknown} */ error) => {
    const message = error instanceof Error ? error.message || error.name : String(error);
    if (message === lastError) return;
    lastError = message;
    log(`redis ${where}: ${message} (the Devices pages answer 503 until it is back)`);
  });
  client.on('ready', () => {
    if (lastError !== '') log(`redis ${where}: connected again`);
    lastError = '';
  });
  // connect() settles only once connected (it retries meanwhile), so the start waits for the
  // first connection or the first failure, then serves anyway: the pages that need the
  // store answer 503 until Redis answers.
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const firstAttempt = new Promise((resolve) => {
    client.once('ready', () => resolve(true));
    client.once('error', () => resolve(false));
    timer = setTimeout(() => resolve(false), FIRST_CONNECTION_WAIT_MS);
  });
  client.connect().catch((/** @type {unknown} */ error) => {
    log(`redis ${where}: gave up connecting: ${String(error)}`);
  });
  const connected = await firstAttempt;
  clearTimeout(timer);
  if (!connected) log(`redis ${where}: not reachable yet; still trying in the background`);
  return {
    store: redisStore({ client, prefix: REDIS_PREFIX }),
    description: `in Redis at ${where} (keys ${REDIS_PREFIX}*)`,
    close() {
      // destroy(), not close(): no pending command is worth waiting for at shutdown, and
      // close() of a client still reconnecting would wait for the connection.
      if (client.isOpen) client.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * A Redis URL without its password, for logs and pages.
 *
 * @param {string} url
 */
function describeUrl(url) {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = '';
    return parsed.href;
  } catch {
    return '(the REDIS_URL, which is not a valid URL)';
  }
}
