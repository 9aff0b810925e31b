/**
 * Store-mode benchmark: sealed-session keeping sessions in Redis (`redisStore`) against
 * express-session + connect-redis, on the machine's Redis (127.0.0.1:6379), same client
 * library (node-redis v5), same handlers; sealed-session's cookie mode beside it for what
 * the store costs. Then the heap a session takes in `memoryStore`.
 *
 * HTTP part, as bench/http.mjs: each server in its own process on 127.0.0.1, autocannon in
 * this process (32 connections, 10-deep pipelining), servers interleaved round by round in
 * a rotating order, medians over rounds, ratios as medians of per-round ratios. Measured
 * per run: requests/s, the server process's CPU per request (Linux /proc; the steadiest
 * figure on a shared 2-core machine), and Redis's CPU per request (INFO cpu: the whole
 * redis-server, so other clients of the shared server count too). Workloads:
 *   read  — a signed-in session is read, nothing changes
 *   write — a counter in the session increments on every request
 * Every key the run writes starts with a prefix of its own and is deleted at the end.
 *
 * Memory part: `node --expose-gc bench/store/memory.mjs` in child processes (see there).
 *
 *   node bench/store.mjs [--rounds 3] [--duration 4] [--connections 32] [--pipelining 10]
 *     [--memory-sessions 100000] [--api-sessions 25000] [--no-http] [--no-memory]
 *     [--json <file>] [--quick]   (--quick, or STORE_BENCH_QUICK=1: 1 round of 2 s, 10,000
 *                                  sessions; for development)
 */
// @ts-expect-error -- autocannon ships no types; its result is typed where it is read
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import {
  REDIS_URL,
  STORE_SERVERS,
  call,
  cpuMicros,
  deleteKeys,
  login,
  runPrefix,
  startStoreServer,
} from './store/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '32' },
    pipelining: { type: 'string', default: '10' },
    'memory-sessions': { type: 'string' },
    'api-sessions': { type: 'string' },
    'no-http': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    json: { type: 'string' },
    quick: { type: 'boolean', default: process.env.STORE_BENCH_QUICK === '1' },
  },
});
const QUICK = values.quick;
const ROUNDS = Number(values.rounds ?? (QUICK ? 1 : 3));
const DURATION = Number(values.duration ?? (QUICK ? 2 : 4));
const CONNECTIONS = Number(values.connections);
const PIPELINING = Number(values.pipelining);
const MEMORY_SESSIONS = Number(values['memory-sessions'] ?? (QUICK ? 10_000 : 100_000));
const API_SESSIONS = Number(values['api-sessions'] ?? (QUICK ? 2_000 : 25_000));
/** Seconds of warm-up per workload before each measured run (the JIT settles). */
const WARM_UP = 1;

/**
 * @typedef {import('./store/fixtures.mjs').StoreServerName} StoreServerName
 * @typedef {import('./store/fixtures.mjs').RunningServer} RunningServer
 * @typedef {import('./store/memory.mjs').MemoryResult} MemoryResult
 * @typedef {import('./store/memory.mjs').MemoryMode} MemoryMode
 * @typedef {'read' | 'write'} Workload
 * @typedef {{ rps: number, cpu: number | undefined, redisCpu: number | undefined }} Sample
 * @typedef {Record<Workload, Sample[]>} ServerSamples - one sample per round
 * @typedef {{ non2xx: number, errors: number, requests: { total: number, average: number } }}
 *   AutocannonResult - the fields of autocannon's result read here
 * @typedef {{ label: string, ratio: number, goal: number, pass: boolean }} StoreTarget
 */

/** @type {Workload[]} */
const WORKLOADS = ['read', 'write'];

/** What the rows are called in the output. */
/** @type {Record<StoreServerName, string>} */
const LABELS = {
  'express-session': 'express-session + connect-redis',
  'express-session-notouch': '  the same, disableTouch',
  'sealed-express-redis': 'sealed-session store, Express',
  'sealed-node-redis': 'sealed-session store, node:http',
  'sealed-node-cookie': 'sealed-session cookie, node:http',
  'express-bare': 'Express alone, no session',
};

/**
 * The median of the values present (the upper middle one of an even count); undefined
 * when there are none.
 *
 * @param {(number | undefined)[]} list
 * @returns {number | undefined}
 */
function median(list) {
  const sorted = list.filter((v) => v !== undefined).sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)];
}

/** @typedef {ReturnType<typeof createClient>} Redis */

/**
 * Redis's own CPU time so far, in microseconds (INFO cpu, user + system).
 *
 * @param {Redis} redis
 * @returns {Promise<number | undefined>}
 */
async function redisCpuMicros(redis) {
  const info = await redis.info('cpu');
  const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
  const sys = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
  if (user === undefined || sys === undefined) return undefined;
  return (Number(user) + Number(sys)) * 1_000_000;
}

/**
 * Drives `path` of a running server with autocannon for `duration` seconds.
 *
 * @param {RunningServer} server
 * @param {string} path
 * @param {string} cookie
 * @param {number} duration - seconds
 * @returns {Promise<AutocannonResult>}
 */
async function drive(server, path, cookie, duration) {
  /** @type {AutocannonResult} */
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    headers: { cookie },
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result;
}

/**
 * One measured run against `path` of a running server.
 *
 * @param {Redis} redis
 * @param {RunningServer} server
 * @param {string} path
 * @param {string} cookie
 * @returns {Promise<Sample>}
 */
async function run(redis, server, path, cookie) {
  const cpuBefore = cpuMicros(server.pid);
  const redisBefore = await redisCpuMicros(redis);
  const result = await drive(server, path, cookie, DURATION);
  const cpuAfter = cpuMicros(server.pid);
  const redisAfter = await redisCpuMicros(redis);
  const total = result.requests.total;
  if (total === 0) throw new Error(`${path}: no request completed in ${DURATION} s`);
  return {
    rps: result.requests.average,
    cpu:
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : (cpuAfter - cpuBefore) / total,
    redisCpu:
      redisBefore === undefined || redisAfter === undefined
        ? undefined
        : (redisAfter - redisBefore) / total,
  };
}

/**
 * Checks that a server answers right before it is measured: the signed-in data, and a
 * write that counts.
 *
 * @param {StoreServerName} name
 * @param {RunningServer} server
 * @param {string} cookie
 */
async function check(name, server, cookie) {
  const read = /** @type {{ data?: { user?: { id?: unknown } } }} */ (
    await call(server.port, '/read', cookie)
  );
  if (read.data?.user?.id !== 42) throw new Error(`${name}: /read did not read the signed-in user`);
  const write = /** @type {{ count?: unknown }} */ (await call(server.port, '/write', cookie));
  if (write.count !== 1) throw new Error(`${name}: /write answered ${JSON.stringify(write)}`);
}

/**
 * Runs every server in every round.
 *
 * @param {Redis} redis
 * @param {string} prefix
 * @returns {Promise<Record<StoreServerName, ServerSamples>>}
 */
async function benchStore(redis, prefix) {
  /** @type {Partial<Record<StoreServerName, ServerSamples>>} */
  const entries = {};
  for (const name of STORE_SERVERS) entries[name] = { read: [], write: [] };
  // Every server has its entry, made just above.
  const samples = /** @type {Record<StoreServerName, ServerSamples>} */ (entries);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no server always runs first (warm machine, cold machine).
    const order = STORE_SERVERS.map(
      (_, i) => /** @type {StoreServerName} */ (STORE_SERVERS[(i + round) % STORE_SERVERS.length]),
    );
    for (const name of order) {
      const server = await startStoreServer(name, prefix);
      try {
        const cookie = await login(server.port);
        await check(name, server, cookie);
        // Warm-up: let the JIT settle before measuring.
        for (const workload of WORKLOADS) {
          await drive(server, `/${workload}`, cookie, Math.min(WARM_UP, DURATION));
        }
        for (const workload of WORKLOADS) {
          const sample = await run(redis, server, `/${workload}`, cookie);
          samples[name][workload].push(sample);
          console.log(
            `  round ${round + 1}/${ROUNDS} ${name.padEnd(24)} ${workload.padEnd(5)} ` +
              `${Math.round(sample.rps)} req/s, ${fixed(sample.cpu)} µs CPU/request, ` +
              `Redis ${fixed(sample.redisCpu)} µs/request`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  return samples;
}

/**
 * @param {number | undefined} value
 * @param {number} [digits]
 */
const fixed = (value, digits = 1) => (value === undefined ? '–' : value.toFixed(digits));

/**
 * Median over rounds of `of(a) ÷ of(b)`, each ratio within one round.
 *
 * @param {ServerSamples} a
 * @param {ServerSamples} b
 * @param {Workload} workload
 * @param {(sample: Sample) => number | undefined} of
 */
function pairedRatio(a, b, workload, of) {
  return median(
    a[workload].map((sample, round) => {
      const x = of(sample);
      // Both servers ran in every round.
      const y = of(/** @type {Sample} */ (b[workload][round]));
      return x === undefined || y === undefined ? undefined : x / y;
    }),
  );
}

/** @param {Sample} s */
const rpsOf = (s) => s.rps;
/** @param {Sample} s - server and Redis CPU together */
const totalCpuOf = (s) => (s.cpu === undefined ? undefined : s.cpu + (s.redisCpu ?? 0));

/**
 * Prints the table, the ratios and the targets; returns the summary for --json.
 *
 * @param {Record<StoreServerName, ServerSamples>} samples
 */
function report(samples) {
  /** @param {StoreServerName} name @param {Workload} workload */
  const med = (name, workload) => ({
    rps: median(samples[name][workload].map(rpsOf)) ?? NaN,
    cpu: median(samples[name][workload].map((s) => s.cpu)),
    redisCpu: median(samples[name][workload].map((s) => s.redisCpu)),
  });
  console.log(
    `\nStore mode over Redis (median of ${ROUNDS} round(s) of ${DURATION} s; ${CONNECTIONS} connections, pipelining ${PIPELINING})`,
  );
  console.log(
    `${'server'.padEnd(34)} ${'read/s'.padStart(7)} ${'µs CPU'.padStart(7)} ${'Redis µs'.padStart(8)}` +
      `  ${'write/s'.padStart(7)} ${'µs CPU'.padStart(7)} ${'Redis µs'.padStart(8)}`,
  );
  /** @type {Record<string, Record<Workload, { rps: number, cpu: number | undefined, redisCpu: number | undefined }>>} */
  const medians = {};
  for (const name of STORE_SERVERS) {
    const r = med(name, 'read');
    const w = med(name, 'write');
    medians[name] = { read: r, write: w };
    console.log(
      `${LABELS[name].padEnd(34)} ${Math.round(r.rps).toString().padStart(7)} ${fixed(r.cpu).padStart(7)} ${fixed(r.redisCpu).padStart(8)}` +
        `  ${Math.round(w.rps).toString().padStart(7)} ${fixed(w.cpu).padStart(7)} ${fixed(w.redisCpu).padStart(8)}`,
    );
  }
  console.log(
    '\nµs CPU: the server process per request; Redis µs: redis-server per request (the whole\n' +
      'shared server). express-session runs as its docs recommend: resave: false,\n' +
      'saveUninitialized: false (an unchanged session is not written, an unchanged new one\n' +
      'gets no cookie), connect-redis with its defaults (a read also resets the TTL: GET +\n' +
      'EXPIRE; a write is GET + SET); the disableTouch row reads with one GET. sealed-session\n' +
      'store mode: maxAge 3600, userKey (the user index kept), one HGETALL per read, and per\n' +
      'write the read then one Lua script, no Set-Cookie on a write (the reference is\n' +
      'unchanged); saveUninitialized: false on Express too. "Express alone" answers the same\n' +
      'routes with no session: the floor under the Express rows.',
  );

  /** @type {Array<[label: string, a: StoreServerName, b: StoreServerName]>} */
  const pairs = [
    ['store, Express ÷ express-session', 'sealed-express-redis', 'express-session'],
    ['store, node:http ÷ express-session', 'sealed-node-redis', 'express-session'],
    [
      'store, Express ÷ express-session disableTouch',
      'sealed-express-redis',
      'express-session-notouch',
    ],
    [
      'store, node:http ÷ express-session disableTouch',
      'sealed-node-redis',
      'express-session-notouch',
    ],
    ['store ÷ cookie mode (node:http)', 'sealed-node-redis', 'sealed-node-cookie'],
    ['store, Express ÷ Express alone (no session)', 'sealed-express-redis', 'express-bare'],
    ['express-session ÷ Express alone (no session)', 'express-session', 'express-bare'],
  ];
  console.log(
    '\nRatios (median of per-round ratios): requests/s a ÷ b, and CPU per request b ÷ a (server\n' +
      'process + Redis), so above 1 means a is ahead',
  );
  console.log(
    `${''.padEnd(48)} ${'read'.padStart(6)} ${'CPU'.padStart(6)}  ${'write'.padStart(6)} ${'CPU'.padStart(6)}`,
  );
  /** @type {Record<string, Record<Workload, { rps: number | undefined, cpu: number | undefined }>>} */
  const ratios = {};
  for (const [label, a, b] of pairs) {
    /** @param {Workload} workload */
    const of = (workload) => ({
      rps: pairedRatio(samples[a], samples[b], workload, rpsOf),
      cpu: pairedRatio(samples[b], samples[a], workload, totalCpuOf),
    });
    ratios[label] = { read: of('read'), write: of('write') };
    const r = ratios[label];
    console.log(
      `${label.padEnd(48)} ${fixed(r.read.rps, 2).padStart(6)} ${fixed(r.read.cpu, 2).padStart(6)}` +
        `  ${fixed(r.write.rps, 2).padStart(6)} ${fixed(r.write.cpu, 2).padStart(6)}`,
    );
  }

  /** @type {StoreTarget[]} */
  const targets = [];
  for (const label of ['store, Express ÷ express-session', 'store, node:http ÷ express-session']) {
    for (const workload of WORKLOADS) {
      const ratio = ratios[label]?.[workload].rps ?? NaN;
      targets.push({ label: `${workload}: ${label} ≥ 3× req/s`, ratio, goal: 3, pass: ratio >= 3 });
    }
  }
  console.log('\nTargets');
  for (const t of targets) {
    console.log(
      `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.label.padEnd(52)} measured ${fixed(t.ratio, 2)}×`,
    );
  }
  return { medians, ratios, targets };
}

const memoryScript = fileURLToPath(new URL('./store/memory.mjs', import.meta.url));

/**
 * One memory measurement in a child process of its own.
 *
 * @param {MemoryMode} mode
 * @param {number} count
 * @returns {MemoryResult}
 */
function measureMemory(mode, count) {
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', memoryScript, mode, String(count)],
    { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(output);
}

/** Heap per session in memoryStore, three ways; prints and returns them. */
function memory() {
  /** @type {Array<[MemoryMode, number, string]>} */
  const modes = [
    ['contract', MEMORY_SESSIONS, 'store.write, no user index'],
    ['contract-users', MEMORY_SESSIONS, 'store.write, one user each (index)'],
    ['api', API_SESSIONS, 'session API sign-ins, userKey'],
  ];
  console.log(
    '\nmemoryStore heap per session (node --expose-gc, heapUsed after gc(); payload\n' +
      '{ userId, cart: [3 items] }, 148 bytes of JSON; "fill" = heap growth while filling,\n' +
      '"store only" = heap freed when the store is dropped)',
  );
  /** @type {MemoryResult[]} */
  const results = [];
  for (const [mode, count, label] of modes) {
    const r = measureMemory(mode, count);
    if (r.records !== count) throw new Error(`${mode}: ${r.records} records of ${count}`);
    results.push(r);
    console.log(
      `  ${label.padEnd(36)} ${count.toLocaleString('en-US').padStart(7)} sessions: ` +
        `${Math.round(r.releaseBytesPerSession)} B/session store only, ` +
        `${Math.round(r.fillBytesPerSession)} B fill; ` +
        `${((r.releaseBytesPerSession * 100_000) / 2 ** 20).toFixed(1)} MiB per 100,000 ` +
        `(${(r.fillMs / 1000).toFixed(1)} s to fill)`,
    );
  }
  return results;
}

const started = Date.now();
/** @type {Record<string, unknown>} */
const out = {
  benchmark: 'store',
  date: new Date(started).toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  },
  config: {
    rounds: ROUNDS,
    durationSec: DURATION,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    memorySessions: MEMORY_SESSIONS,
    apiSessions: API_SESSIONS,
    redis: REDIS_URL,
  },
};
console.log(
  `store benchmark${QUICK ? ' (quick)' : ''}: Node ${process.version}, ${os.cpus().length} cores, ` +
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
if (!values['no-http']) {
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', (/** @type {unknown} */ error) => console.error('redis:', error));
  await redis.connect();
  const prefix = runPrefix();
  try {
    const samples = await benchStore(redis, prefix);
    out.samples = samples;
    Object.assign(out, report(samples));
  } finally {
    const deleted = await deleteKeys(redis, prefix);
    console.log(`\ndeleted the run's ${deleted} Redis keys (${prefix}*)`);
    redis.destroy();
  }
}
if (!values['no-memory']) out.memory = memory();
const durationMs = Date.now() - started;
out.durationMs = durationMs;
out.loadAverageAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
console.log(
  `\ndone in ${(durationMs / 1000).toFixed(0)} s, load average at end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (values.json !== undefined) {
  const file = resolve(values.json);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
