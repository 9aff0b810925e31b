/**
 * HTTP benchmark: requests/s of a session read and a session write, each server in its
 * own process on 127.0.0.1, autocannon as the client in this process (10-deep pipelining,
 * as fastify's own benchmarks use, so the client is not the bottleneck on two cores).
 * Servers are interleaved round by round with a rotating order; the table reports the
 * median of the rounds, and the targets use the median of per-round ratios (each ratio
 * from runs minutes apart at most, so machine drift cancels). The server's CPU time per
 * request is measured too (Linux), the steadiest number on a shared machine.
 *
 *   node bench/http.mjs [--rounds 5] [--duration 4] [--connections 32] [--pipelining 10]
 */
// @ts-expect-error -- autocannon ships no types; its result is typed where it is read
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVERS, call, cpuMicros, login, startServer } from './http/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    pipelining: { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const PIPELINING = Number(values.pipelining);

/**
 * @typedef {'read' | 'write'} Scenario
 * @typedef {{ read: number[], write: number[], readCpu: (number | undefined)[],
 *   writeCpu: (number | undefined)[] }} ServerSamples - one entry per round
 * @typedef {{ read: number, write: number, readCpu: number | undefined,
 *   writeCpu: number | undefined }} ServerResult - medians over the rounds
 * @typedef {{ label: string, ratio: number, goal: number, pass: boolean }} HttpTarget
 * @typedef {{ non2xx: number, errors: number, requests: { total: number, average: number } }}
 *   AutocannonResult - the fields of autocannon's result read here
 */

/**
 * One autocannon run against `path` of a running server.
 *
 * @param {import('./http/fixtures.mjs').RunningServer} server
 * @param {string} path
 * @param {string} cookie
 * @returns {Promise<{ rps: number, cpuPerRequest: number | undefined }>}
 */
function run(server, path, cookie, duration = DURATION) {
  return new Promise((resolve, reject) => {
    const cpuBefore = cpuMicros(server.pid);
    autocannon(
      {
        url: `http://127.0.0.1:${server.port}${path}`,
        headers: { cookie },
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration,
      },
      (/** @type {Error | null} */ error, /** @type {AutocannonResult} */ result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0) {
          return reject(new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        }
        const cpuAfter = cpuMicros(server.pid);
        const cpuPerRequest =
          cpuBefore === undefined || cpuAfter === undefined
            ? undefined
            : (cpuAfter - cpuBefore) / result.requests.total;
        resolve({ rps: result.requests.average, cpuPerRequest });
      },
    );
  });
}

/**
 * The median of the values present (the upper middle one of an even count).
 *
 * @overload
 * @param {number[]} list - a value per round, and there is at least one round
 * @returns {number}
 */
/**
 * @overload
 * @param {(number | undefined)[]} list - undefined where a round measured nothing
 * @returns {number | undefined} undefined when no round measured anything
 */
/**
 * @param {(number | undefined)[]} list
 * @returns {number | undefined}
 */
const median = (list) => {
  const sorted = list.filter((v) => v !== undefined).sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)];
};

/** @type {Scenario[]} */
const SCENARIOS = ['read', 'write'];

/** Runs every server in every round; returns per-server medians and per-round samples. */
export async function benchHttp({ log = console.log } = {}) {
  /** @type {Record<string, ServerSamples>} */
  const samples = Object.fromEntries(
    SERVERS.map((name) => [name, { read: [], write: [], readCpu: [], writeCpu: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no server always runs first (warm machine, cold machine).
    // An index modulo the length is always in range.
    const order = SERVERS.map(
      (_, i) => /** @type {string} */ (SERVERS[(i + round) % SERVERS.length]),
    );
    for (const name of order) {
      // Every server of SERVERS has its entry, made above.
      const own = /** @type {ServerSamples} */ (samples[name]);
      const server = await startServer(name);
      try {
        const cookie = await login(server.port);
        await call(server.port, '/read', cookie);
        // Warm-up: let the JIT settle before measuring.
        for (const scenario of SCENARIOS) await run(server, `/${scenario}`, cookie, 1);
        for (const scenario of SCENARIOS) {
          const { rps, cpuPerRequest } = await run(server, `/${scenario}`, cookie);
          own[scenario].push(rps);
          own[`${scenario}Cpu`].push(cpuPerRequest);
          const cpu =
            cpuPerRequest === undefined ? '' : `, ${cpuPerRequest.toFixed(1)} µs CPU/request`;
          log(
            `  round ${round + 1}/${ROUNDS} ${name.padEnd(24)} ${scenario.padEnd(5)} ${Math.round(rps)} req/s${cpu}`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  /** @type {Record<string, ServerResult>} */
  const results = Object.fromEntries(
    SERVERS.map((name) => {
      const s = /** @type {ServerSamples} */ (samples[name]);
      return [
        name,
        {
          read: median(s.read),
          write: median(s.write),
          readCpu: median(s.readCpu),
          writeCpu: median(s.writeCpu),
        },
      ];
    }),
  );
  return { results, samples };
}

/**
 * Median over rounds of (ours ÷ other) for one scenario, each ratio within one round.
 *
 * @param {Record<string, ServerSamples>} samples - sealed-session's and `other`'s at least,
 *   with as many rounds
 * @param {string} other
 * @param {Scenario} scenario
 */
function pairedRatio(samples, other, scenario) {
  const ours = /** @type {ServerSamples} */ (samples['sealed-session'])[scenario];
  const theirs = /** @type {ServerSamples} */ (samples[other])[scenario];
  return median(ours.map((value, round) => value / /** @type {number} */ (theirs[round])));
}

/**
 * Median over rounds of (other's CPU per request ÷ ours) for one scenario: above 1 means
 * sealed-session spends less server CPU per request. NaN when /proc gave no figure.
 *
 * @param {Record<string, ServerSamples>} samples
 * @param {string} other
 * @param {Scenario} scenario
 */
function pairedCpuRatio(samples, other, scenario) {
  const key = scenario === 'read' ? 'readCpu' : 'writeCpu';
  const ours = /** @type {ServerSamples} */ (samples['sealed-session'])[key];
  const theirs = /** @type {ServerSamples} */ (samples[other])[key];
  const ratios = ours.map((value, round) => {
    const their = theirs[round];
    return value === undefined || their === undefined ? undefined : their / value;
  });
  return median(ratios) ?? NaN;
}

/**
 * Prints the table and the HTTP targets the benchmark checks (see README, Benchmarks).
 *
 * @param {{ results: Record<string, ServerResult>, samples: Record<string, ServerSamples> }}
 *   measured - what benchHttp returned
 * @returns {HttpTarget[]}
 */
export function reportHttp({ results, samples }, log = console.log) {
  /** @param {number | undefined} v */
  const cpu = (v) => (v === undefined ? '' : v.toFixed(1));
  log(
    `\nHTTP (median of ${ROUNDS} rounds; ratio = sealed-session ÷ that server, median of per-round ratios)`,
  );
  log(
    `${'server'.padEnd(24)} ${'read'.padStart(8)} ${'ratio'.padStart(6)} ${'µs CPU'.padStart(7)}` +
      ` ${'write'.padStart(8)} ${'ratio'.padStart(6)} ${'µs CPU'.padStart(7)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    log(
      `${name.padEnd(24)} ${Math.round(r.read).toString().padStart(8)} ${pairedRatio(samples, name, 'read').toFixed(2).padStart(6)} ${cpu(r.readCpu).padStart(7)}` +
        ` ${Math.round(r.write).toString().padStart(8)} ${pairedRatio(samples, name, 'write').toFixed(2).padStart(6)} ${cpu(r.writeCpu).padStart(7)}`,
    );
  }
  /**
   * The first targets in requests/s; the second round's in server CPU per request, the
   * steadier figure on a shared machine (the client and the server share its cores).
   *
   * @type {Array<[label: string, other: string, scenario: Scenario, goal: number,
   *   measure: 'rps' | 'cpu']>}
   */
  const goals = [
    ['read ≥ 0.8× bare node:http', 'bare-node-http', 'read', 0.8, 'rps'],
    ['read ≥ 5× h3@1', 'h3-v1', 'read', 5, 'rps'],
    ['read ahead of @fastify/secure-session', 'fastify-secure-session', 'read', 1, 'rps'],
    ['write ≥ 0.3× bare node:http', 'bare-node-http', 'write', 0.3, 'rps'],
    ['write ≥ 5× h3@1', 'h3-v1', 'write', 5, 'rps'],
    ['read ≥ 0.9× bare node:http, by CPU', 'bare-node-http', 'read', 0.9, 'cpu'],
    ['read ≥ 1.25× @fastify/secure-session, by CPU', 'fastify-secure-session', 'read', 1.25, 'cpu'],
    ['write ≥ 0.5× bare node:http, by CPU', 'bare-node-http', 'write', 0.5, 'cpu'],
    [
      'write ≥ 1.25× @fastify/secure-session, by CPU',
      'fastify-secure-session',
      'write',
      1.25,
      'cpu',
    ],
  ];
  const targets = goals
    .filter(([, other]) => other in samples)
    .map(([label, other, scenario, goal, measure]) => {
      const ratio =
        measure === 'rps'
          ? pairedRatio(samples, other, scenario)
          : pairedCpuRatio(samples, other, scenario);
      return { label, ratio, goal, pass: ratio >= goal };
    })
    .filter((target) => !Number.isNaN(target.ratio));
  log('\nTargets');
  for (const t of targets) {
    log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.label.padEnd(46)} measured ${t.ratio.toFixed(2)}×`);
  }
  return targets;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const measured = await benchHttp();
  const targets = reportHttp(measured);
  const report = {
    benchmark: 'http',
    date: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    config: {
      rounds: ROUNDS,
      durationSec: DURATION,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
    },
    results: measured.results,
    samples: measured.samples,
    targets,
  };
  const out = fileURLToPath(new URL('./results/http.json', import.meta.url));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
