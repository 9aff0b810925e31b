/**
 * Soak: mixed session traffic against the server of tools/reliability-server.mjs (the node
 * adapter and useSession, in a process of its own) for a long time, watching for what only
 * time shows: a heap that keeps growing, file descriptors that leak, responses that start
 * failing. Cookie mode only: the store mode (sessions in Redis) does not exist yet, and
 * this script will gain it when it does.
 *
 *   npm run soak                       one hour (the default)
 *   node tools/soak.mjs 10m            any duration: 90, 90s, 10m, 1h
 *   node tools/soak.mjs 2m --report .tmp/soak.json --rate 300 --concurrency 16
 *
 * Traffic: virtual users, each with its own cookie jar and a model of its session (id,
 * count, size), send reads, writes, rotations (regenerate), clears, chunked sessions (data
 * too large for one cookie, written as h3 2.x's chunked cookies, and back to small), and bad
 * cookies (random text, well-formed forgeries with fresh salts, a valid token with a
 * tampered MAC, a truncated token, a chunked cookie missing a chunk), some of these on a
 * fresh connection closed after the response. Every response is checked against the model:
 * a bad cookie must give a 200 with a fresh session (the expected refusal), never an error.
 * The pace is held to --rate requests per second so the machine stays usable (three times
 * that in the warm-up, --warmup-rate).
 *
 * Samples, every --interval seconds: new requests wait, those in flight finish, then the
 * server collects garbage (twice) and reports heapUsed and its open connections over IPC,
 * and its open file descriptors are counted in /proc/<pid>/fd.
 *
 * Passes when, after the warm-up (--warmup, default a fifth of the run, at most 5 minutes):
 * heapUsed grew under 5% (median of the last quarter of the samples over the first's),
 * descriptors other than connections did not grow, and there was no error response, no
 * wrong answer, no client error, no handler error, and exactly one refusal (onInvalidToken)
 * per bad cookie sent. Exit code 0 on a pass, 1 on a failure; --report writes the figures
 * as JSON. --snapshots DIR writes the server's heap snapshots at the end of the warm-up and
 * of the run (warm-up.heapsnapshot, end.heapsnapshot), to see what grew.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string' },
    rate: { type: 'string', default: '300' },
    'warmup-rate': { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string' },
    interval: { type: 'string' },
    iterations: { type: 'string', default: '0' },
    library: { type: 'string', default: 'src' },
    report: { type: 'string' },
    snapshots: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

/**
 * Seconds in `text`: a number of seconds, or one with an s, m or h suffix.
 *
 * @param {string} text
 */
function seconds(text) {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  if (match === null) throw new Error(`not a duration: ${text} (try 120, 90s, 10m, 1h)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[/** @type {'' | 's' | 'm' | 'h'} */ (match[2])];
  return Number(match[1]) * unit;
}

const DURATION = seconds(values.duration ?? positionals[0] ?? '1h');
const RATE = Number(values.rate);
/**
 * The warm-up runs faster (three times the rate by default): V8 keeps compiling and
 * optimizing for a while as rarer paths turn hot, which adds to heapUsed in steps that
 * decay with the request count, not with time. Spending the warm-up's requests faster
 * leaves less of that creep to the measured part, where only a leak keeps growing.
 */
const WARMUP_RATE = Number(values['warmup-rate'] ?? RATE * 3);
const CONCURRENCY = Number(values.concurrency);
const WARMUP =
  values.warmup === undefined ? Math.min(300, Math.max(10, DURATION / 5)) : seconds(values.warmup);
const INTERVAL =
  values.interval === undefined
    ? Math.min(30, Math.max(2, DURATION / 30))
    : seconds(values.interval);
/** Heap growth after the warm-up that fails the run. */
const HEAP_GROWTH_LIMIT = 0.05;
/** Longest wait for one response: a server that stops answering fails the run, not hangs it. */
const REQUEST_TIMEOUT_MS = 10_000;
const NAME = 'h3';
const log = values.quiet ? () => {} : console.log;

if (!(
  DURATION > 0 &&
  RATE > 0 &&
  WARMUP_RATE > 0 &&
  CONCURRENCY > 0 &&
  WARMUP < DURATION &&
  INTERVAL > 0
)) {
  throw new Error(
    'need a positive duration, rate, concurrency and interval, and warm-up < duration',
  );
}

/**
 * @typedef {{ heapUsed: number, codeAndMetadata: number, heapTotal: number, external: number,
 *   rss: number, connections: number, inFlight: number, cpuMicros: number,
 *   counters: ServerCounters }} ServerSample
 * @typedef {{ requests: number, routes: Record<string, number>,
 *   rejections: Record<string, number>, emptyWithCookie: number, handlerErrors: number,
 *   firstError?: string }} ServerCounters
 * @typedef {{ t: number, requests: number, heapUsed: number, codeAndMetadata: number,
 *   heapTotal: number, external: number, rss: number, fds: number, connections: number,
 *   errors: number }} Sample - `errors`: error responses, wrong answers and client errors
 *   so far
 * @typedef {{ status: number, cookies: string[], body: string }} Reply
 */

// ---------------------------------------------------------------------------------------
// The server, in its own process.

/**
 * Starts tools/reliability-server.mjs with --expose-gc.
 *
 * @returns {Promise<{ port: number, pid: number, sample: () => Promise<ServerSample>,
 *   snapshot: (file: string) => Promise<void>, stop: () => Promise<void> }>}
 */
async function startServer() {
  const script = fileURLToPath(new URL('./reliability-server.mjs', import.meta.url));
  const child = fork(
    script,
    [
      '--library',
      /** @type {string} */ (values.library),
      '--iterations',
      /** @type {string} */ (values.iterations),
      '--max-seconds',
      String(Math.ceil(DURATION + 600)),
    ],
    { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  /** @type {Map<number, (reply: Record<string, unknown>) => void>} */
  const pending = new Map();
  let nextId = 1;
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server did not start within 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}`));
    });
    child.on('message', (/** @type {Record<string, unknown>} */ message) => {
      if (message['ready'] === true) {
        clearTimeout(timer);
        resolve(message['port']);
        return;
      }
      const id = /** @type {number} */ (message['id']);
      pending.get(id)?.(message);
      pending.delete(id);
    });
  });
  /**
   * @param {string} cmd
   * @param {Record<string, unknown>} [extra]
   * @returns {Promise<Record<string, unknown>>}
   */
  const ask = (cmd, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        if (typeof reply['error'] === 'string') reject(new Error(reply['error']));
        else resolve(reply);
      });
      child.send({ ...extra, id, cmd });
    });
  return {
    port: /** @type {number} */ (port),
    // A child that answered is running, so it has a pid.
    pid: /** @type {number} */ (child.pid),
    sample: async () => /** @type {ServerSample} */ (/** @type {unknown} */ (await ask('sample'))),
    snapshot: async (file) => {
      await ask('snapshot', { file });
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        // Losing the IPC channel ends the server; the kill is for a server that hangs.
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

// ---------------------------------------------------------------------------------------
// HTTP, cookies, and the checks.

const server = await startServer();
const agent = new Agent({
  keepAlive: true,
  maxSockets: CONCURRENCY,
  // Round-robin over the kept connections: none sits idle long enough to be closed, so the
  // server's connection count (and its descriptors) stays put.
  scheduling: 'fifo',
});

/**
 * One GET on a kept connection, or on a fresh one closed after the response.
 *
 * @param {string} path
 * @param {string} cookie - the Cookie header, '' for none
 * @param {boolean} fresh
 * @returns {Promise<Reply>}
 */
function get(path, cookie, fresh = false) {
  return new Promise((resolve, reject) => {
    /** @type {Record<string, string>} */
    const headers = {};
    if (cookie !== '') headers['cookie'] = cookie;
    if (fresh) headers['connection'] = 'close';
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        headers,
        ...(fresh ? { agent: false } : { agent }),
        timeout: REQUEST_TIMEOUT_MS,
        // A chunked session's Set-Cookie lines can pass Node's 16 KB default (browsers take
        // far more); the server's own limit on the Cookie header it reads stays the default.
        maxHeaderSize: 64 * 1024,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          const cookies = res.headers['set-cookie'] ?? [];
          resolve({ status: res.statusCode ?? 0, cookies, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Applies Set-Cookie lines to a jar: a value replaces, an expired or empty one deletes.
 *
 * @param {Map<string, string>} jar
 * @param {string[]} lines
 */
function applyCookies(jar, lines) {
  for (const line of lines) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

/** @param {Map<string, string>} jar */
const cookieHeader = (jar) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** @param {number} count */
function chars(count) {
  let out = '';
  for (const byte of randomBytes(count)) out += BASE64URL.charAt(byte & 63);
  return out;
}
const salt = () => randomBytes(32).toString('hex');

/** Totals over the run (the checks add to them). */
const totals = {
  requests: 0,
  /** By operation. @type {Record<string, number>} */
  operations: {},
  /** Bad cookies sent: each must be refused once, with a 200 and a fresh session. */
  bad: 0,
  freshConnections: 0,
  errorResponses: 0,
  wrongAnswers: 0,
  clientErrors: 0,
  /** The first few failures, for the report. @type {string[]} */
  failures: [],
  /** Latency histogram: counts per millisecond, the last bucket for anything slower. */
  latency: new Uint32Array(10_001),
};

/** @param {string} what */
function fail(what) {
  if (totals.failures.length < 20) totals.failures.push(what);
}

/**
 * @typedef {{ id: string | null, count: number, big: number }} Model
 * @typedef {{ jar: Map<string, string>, model: Model }} User
 */

/**
 * Parses a reply's `{ id, count, big }`; undefined (and counted) unless it is a 200 with it.
 *
 * @param {string} what
 * @param {Reply} reply
 * @returns {Model | undefined}
 */
function answerOf(what, reply) {
  if (reply.status !== 200) {
    totals.errorResponses++;
    fail(`${what}: status ${reply.status} ${reply.body.slice(0, 200)}`);
    return undefined;
  }
  try {
    return /** @type {Model} */ (JSON.parse(reply.body));
  } catch {
    totals.wrongAnswers++;
    fail(`${what}: body ${reply.body.slice(0, 200)}`);
    return undefined;
  }
}

/**
 * Counts a wrong answer unless `ok`.
 *
 * @param {boolean} ok
 * @param {string} what
 * @param {Model} got
 * @param {Partial<Model>} expected
 */
function check(ok, what, got, expected) {
  if (ok) return;
  totals.wrongAnswers++;
  fail(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

/**
 * The operations, with weights (out of 100). Each sends one request and checks it against
 * the user's model, then updates jar and model as a browser and the server would.
 *
 * @type {Array<[name: string, weight: number, run: (user: User) => Promise<void>]>}
 */
const OPERATIONS = [
  [
    'read',
    43,
    async (user) => {
      const reply = await get('/read', cookieHeader(user.jar));
      const got = answerOf('read', reply);
      if (got === undefined) return;
      const { model } = user;
      if (model.id === null) {
        check(got.id !== null && got.count === 0 && got.big === 0, 'read (new)', got, {});
        check(reply.cookies.length > 0, 'read (new) sets its cookie', got, {});
        model.id = got.id;
      } else {
        check(
          got.id === model.id && got.count === model.count && got.big === model.big,
          'read',
          got,
          model,
        );
      }
      applyCookies(user.jar, reply.cookies);
    },
  ],
  [
    'write',
    20,
    async (user) => {
      const reply = await get('/write', cookieHeader(user.jar));
      const got = answerOf('write', reply);
      if (got === undefined) return;
      const { model } = user;
      const expected = { count: model.count + 1, big: model.big };
      check(
        got.count === expected.count &&
          got.big === expected.big &&
          got.id !== null &&
          (model.id === null || got.id === model.id),
        'write',
        got,
        { ...expected, id: model.id },
      );
      Object.assign(model, got);
      applyCookies(user.jar, reply.cookies);
    },
  ],
  [
    'regenerate',
    6,
    async (user) => {
      const reply = await get('/regenerate', cookieHeader(user.jar));
      const got = answerOf('regenerate', reply);
      if (got === undefined) return;
      const { model } = user;
      check(
        got.id !== null &&
          got.id !== model.id &&
          got.count === model.count &&
          got.big === model.big,
        'regenerate',
        got,
        { count: model.count, big: model.big },
      );
      Object.assign(model, got);
      applyCookies(user.jar, reply.cookies);
    },
  ],
  [
    'clear',
    5,
    async (user) => {
      const reply = await get('/clear', cookieHeader(user.jar));
      const got = answerOf('clear', reply);
      if (got === undefined) return;
      check(got.id === null && got.count === 0 && got.big === 0, 'clear', got, { id: null });
      applyCookies(user.jar, reply.cookies);
      // Every cookie and chunk of the session deleted.
      check(user.jar.size === 0, 'clear deletes every cookie', got, {});
      user.jar.clear();
      Object.assign(user.model, { id: null, count: 0, big: 0 });
    },
  ],
  [
    'chunked',
    6,
    async (user) => {
      // Large (two to four chunks, the Cookie header staying under the server's 16 KB limit)
      // or back to small, which deletes the chunks.
      const size = user.model.big > 0 && randomInt(2) === 0 ? 0 : randomInt(5_000, 9_000);
      const reply = await get(`/big?size=${size}`, cookieHeader(user.jar));
      const got = answerOf('chunked', reply);
      if (got === undefined) return;
      const { model } = user;
      check(
        got.big === size && got.count === model.count && (model.id === null || got.id === model.id),
        'chunked',
        got,
        { big: size, count: model.count, id: model.id },
      );
      Object.assign(model, got);
      applyCookies(user.jar, reply.cookies);
      const chunked = (user.jar.get(NAME) ?? '').startsWith('__chunked__');
      check(chunked === size > 0, 'chunked cookies', got, { big: size });
    },
  ],
  ['bad', 20, (user) => badCookie(user)],
];

/**
 * A bad cookie of one of five kinds, sent instead of the user's own (whose jar and model
 * stay as they were); a third of them on a fresh connection, as a scanner would.
 *
 * @param {User} user
 */
async function badCookie(user) {
  const token = user.jar.get(NAME) ?? '';
  const chunked = token.startsWith('__chunked__');
  /** @type {Array<() => string>} */
  const kinds = [
    () => `${NAME}=${chars(randomInt(1, 300)).replace(/[-_]/g, 'x')}`,
    () => `${NAME}=Fe26.2**${salt()}*${chars(22)}*${chars(64)}**${salt()}*${chars(43)}`,
  ];
  if (token.startsWith('Fe26.2*')) {
    kinds.push(() => {
      // A MAC character changed to another: the token no longer verifies.
      const at = token.length - 1 - randomInt(43);
      const old = token.charAt(at);
      const other = BASE64URL.charAt((BASE64URL.indexOf(old) + 1 + randomInt(63)) % 64);
      return `${NAME}=${token.slice(0, at)}${other}${token.slice(at + 1)}`;
    });
    kinds.push(() => `${NAME}=${token.slice(0, randomInt(1, token.length - 1))}`);
  }
  if (chunked) {
    kinds.push(() => {
      // Every chunk but one.
      const count = Number(token.slice('__chunked__'.length));
      const missing = randomInt(1, count + 1);
      return [...user.jar]
        .filter(([name]) => name !== `${NAME}.${missing}`)
        .map(([name, value]) => `${name}=${value}`)
        .join('; ');
    });
  }
  const cookie = /** @type {() => string} */ (kinds[randomInt(kinds.length)])();
  const fresh = randomInt(3) === 0;
  totals.bad++;
  if (fresh) totals.freshConnections++;
  const reply = await get('/read', cookie, fresh);
  const got = answerOf('bad cookie', reply);
  if (got === undefined) return;
  // The expected refusal: a 200 with a fresh session, and its cookie.
  check(
    got.id !== null && got.id !== user.model.id && got.count === 0 && got.big === 0,
    'bad cookie gives a fresh session',
    got,
    { count: 0, big: 0 },
  );
  check(
    reply.cookies.some((line) => line.startsWith(`${NAME}=Fe26.2*`)),
    'bad cookie: the fresh session is written',
    got,
    {},
  );
}

const WEIGHT_TOTAL = OPERATIONS.reduce((sum, [, weight]) => sum + weight, 0);
function pickOperation() {
  let roll = randomInt(WEIGHT_TOTAL);
  for (const operation of OPERATIONS) {
    roll -= operation[1];
    if (roll < 0) return operation;
  }
  // The rolls cover the weights exactly: unreachable.
  throw new Error('no operation');
}

// ---------------------------------------------------------------------------------------
// Pace, pauses and samples.

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
let nextSlot = performance.now();
let inFlight = 0;
/** @type {Promise<void> | undefined} */
let pause;
let stopping = false;

/**
 * Waits for this request's turn at RATE per second (WARMUP_RATE in the warm-up); a late run
 * does not burst to catch up.
 */
async function paced() {
  const now = performance.now();
  const at = Math.max(nextSlot, now);
  nextSlot = at + 1000 / (elapsed() < WARMUP ? WARMUP_RATE : RATE);
  if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
}

/** @param {User} user */
async function virtualUser(user) {
  while (!stopping && elapsed() < DURATION) {
    await paced();
    while (pause !== undefined) await pause;
    if (stopping || elapsed() >= DURATION) break;
    const [name, , run] = pickOperation();
    totals.operations[name] = (totals.operations[name] ?? 0) + 1;
    totals.requests++;
    inFlight++;
    const start = performance.now();
    try {
      await run(user);
    } catch (error) {
      totals.clientErrors++;
      fail(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      inFlight--;
      const ms = Math.min(10_000, Math.round(performance.now() - start));
      totals.latency[ms] = (totals.latency[ms] ?? 0) + 1;
    }
  }
}

/** @type {Sample[]} */
const samples = [];

let warmedUp = false;

/**
 * Holds new requests, lets those in flight finish, samples the server, and resumes.
 *
 * @param {boolean} [final] - the sample after the run
 */
async function takeSample(final = false) {
  /** @type {() => void} */
  let resume = () => {};
  pause = new Promise((resolve) => {
    resume = () => resolve(undefined);
  });
  try {
    for (let waited = 0; inFlight > 0 && waited < REQUEST_TIMEOUT_MS + 1_000; waited += 2) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const s = await server.sample();
    const fds = readdirSync(`/proc/${server.pid}/fd`).length;
    /** @type {Sample} */
    const sample = {
      t: Math.round(elapsed() * 10) / 10,
      requests: totals.requests,
      heapUsed: s.heapUsed,
      codeAndMetadata: s.codeAndMetadata,
      heapTotal: s.heapTotal,
      external: s.external,
      rss: s.rss,
      fds,
      connections: s.connections,
      errors: totals.errorResponses + totals.wrongAnswers + totals.clientErrors,
    };
    samples.push(sample);
    const snapshotDir = values.snapshots;
    if (snapshotDir !== undefined && (final || (!warmedUp && sample.t >= WARMUP))) {
      mkdirSync(snapshotDir, { recursive: true });
      await server.snapshot(join(snapshotDir, final ? 'end.heapsnapshot' : 'warm-up.heapsnapshot'));
    }
    if (sample.t >= WARMUP) warmedUp = true;
    log(
      `t=${sample.t.toFixed(0).padStart(5)}s  requests ${String(sample.requests).padStart(8)}  ` +
        `heapUsed ${(sample.heapUsed / 1048576).toFixed(2)} MiB  rss ${(sample.rss / 1048576).toFixed(1)} MiB  ` +
        `fds ${fds} (connections ${sample.connections})  ` +
        `errors ${sample.errors}`,
    );
    return s;
  } finally {
    pause = undefined;
    resume();
  }
}

process.once('SIGINT', () => {
  log('SIGINT: ending the run early');
  stopping = true;
});

log(
  `soak: ${DURATION} s (warm-up ${WARMUP} s at ${WARMUP_RATE} req/s, a sample every ${INTERVAL} s), ` +
    `${RATE} req/s over ` +
    `${CONCURRENCY} users, cookie mode (the Redis store mode does not exist yet), library ` +
    `${values.library}, ${Number(values.iterations) > 0 ? `${values.iterations} iterations` : "iron's default options"}`,
);
const users = Array.from({ length: CONCURRENCY }, () =>
  virtualUser({ jar: new Map(), model: { id: null, count: 0, big: 0 } }),
);
/** @type {ServerSample | undefined} */
let last;
const sampler = (async () => {
  let next = INTERVAL;
  while (!stopping && next <= DURATION) {
    const wait = next - elapsed();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 1) * 1000));
    if (elapsed() < next) continue;
    last = await takeSample();
    next += INTERVAL;
  }
})();
await Promise.all(users);
stopping = true;
await sampler;
// The last word on the counters: every request answered by now.
last = await takeSample(true);
agent.destroy();
await server.stop();

// ---------------------------------------------------------------------------------------
// Verdict.

/** @param {number[]} list */
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return /** @type {number} */ (sorted[Math.floor(sorted.length / 2)]);
};

/** Least-squares slope of y over x. @param {number[]} xs @param {number[]} ys */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** @param {number} q - a quantile, 0 to 1 */
function latencyQuantile(q) {
  const total = totals.latency.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let ms = 0; ms < totals.latency.length; ms++) {
    seen += totals.latency[ms] ?? 0;
    if (seen >= q * total) return ms;
  }
  return totals.latency.length - 1;
}

const failures = [];
const after = samples.filter((s) => s.t >= WARMUP);
const runSeconds = elapsed();
/** @type {Record<string, unknown>} */
let heap = {};
/** @type {Record<string, unknown>} */
let fds = {};
if (after.length < 4) {
  failures.push(`only ${after.length} samples after the warm-up: run longer or sample more often`);
} else {
  // Medians of the first and last quarters (three samples at least): a heap after GC still
  // moves a little from sample to sample (the cache's entries turn over, V8 flushes and
  // recompiles bytecode), and one sample must not decide.
  const window = Math.max(3, Math.floor(after.length / 4));
  const baseline = median(after.slice(0, window).map((s) => s.heapUsed));
  const final = median(after.slice(-window).map((s) => s.heapUsed));
  const growth = final / baseline - 1;
  const perHour =
    (slope(
      after.map((s) => s.t),
      after.map((s) => s.heapUsed),
    ) *
      3600) /
    baseline;
  heap = { baseline, final, growth, trendPerHour: perHour, limit: HEAP_GROWTH_LIMIT };
  if (!(growth < HEAP_GROWTH_LIMIT)) {
    failures.push(`heapUsed grew ${(growth * 100).toFixed(1)}% after the warm-up (limit 5%)`);
  }
  // Connections come and go with the clients; every other descriptor must stay put.
  const others = after.map((s) => s.fds - s.connections);
  const baseOthers = median(others.slice(0, window));
  fds = {
    baseline: after[0]?.fds,
    final: after.at(-1)?.fds,
    max: Math.max(...after.map((s) => s.fds)),
    nonConnectionBaseline: baseOthers,
    nonConnectionMax: Math.max(...others),
    maxConnections: Math.max(...after.map((s) => s.connections)),
  };
  if (Math.max(...others) > baseOthers) {
    failures.push(
      `descriptors other than connections grew from ${baseOthers} to ${Math.max(...others)}`,
    );
  }
  if (Math.max(...after.map((s) => s.connections)) > CONCURRENCY + 1) {
    failures.push('more open connections than the clients keep');
  }
}
const counters = /** @type {ServerSample} */ (last).counters;
const refusals = Object.values(counters.rejections).reduce((a, b) => a + b, 0);
if (totals.errorResponses > 0) failures.push(`${totals.errorResponses} error responses`);
if (totals.wrongAnswers > 0) failures.push(`${totals.wrongAnswers} wrong answers`);
if (totals.clientErrors > 0) failures.push(`${totals.clientErrors} client errors`);
if (counters.handlerErrors > 0) {
  failures.push(`${counters.handlerErrors} handler errors: ${counters.firstError ?? ''}`);
}
// Each bad cookie refused once (and, checked per response above, answered with a fresh
// session); a good cookie never.
if (refusals !== totals.bad) failures.push(`${totals.bad} bad cookies sent, ${refusals} refused`);
if (totals.requests < 1_000) failures.push(`only ${totals.requests} requests`);

const report = {
  pass: failures.length === 0,
  failures,
  firstProblems: totals.failures,
  date: new Date().toISOString(),
  command: `node tools/soak.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  mode: 'cookie (the Redis store mode does not exist yet)',
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
  },
  config: {
    durationSec: DURATION,
    warmupSec: WARMUP,
    intervalSec: INTERVAL,
    rate: RATE,
    warmupRate: WARMUP_RATE,
    concurrency: CONCURRENCY,
    iterations: Number(values.iterations),
    library: values.library,
  },
  totals: {
    seconds: Math.round(runSeconds),
    requests: totals.requests,
    requestsPerSecond: Math.round(totals.requests / runSeconds),
    operations: totals.operations,
    badCookies: totals.bad,
    freshConnections: totals.freshConnections,
    errorResponses: totals.errorResponses,
    wrongAnswers: totals.wrongAnswers,
    clientErrors: totals.clientErrors,
    latencyMs: { p50: latencyQuantile(0.5), p99: latencyQuantile(0.99), max: latencyQuantile(1) },
  },
  server: {
    handlerErrors: counters.handlerErrors,
    refusals: counters.rejections,
    routes: counters.routes,
  },
  heap,
  fds,
  samples,
};

if (values.report !== undefined) {
  mkdirSync(dirname(values.report), { recursive: true });
  writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
}
log(
  `\n${report.pass ? 'PASS' : 'FAIL'}  ${report.totals.requests} requests in ${report.totals.seconds} s ` +
    `(${report.totals.requestsPerSecond}/s; p50 ${report.totals.latencyMs.p50} ms, p99 ${report.totals.latencyMs.p99} ms), ` +
    `${totals.bad} bad cookies refused as expected\n` +
    `  heapUsed after warm-up: ${JSON.stringify(heap)}\n  fds: ${JSON.stringify(fds)}`,
);
for (const failure of failures) log(`  FAIL: ${failure}`);
for (const problem of totals.failures) log(`  first problems: ${problem}`);
process.exitCode = report.pass ? 0 : 1;
