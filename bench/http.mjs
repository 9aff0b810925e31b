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
      (error, result) => {
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

const median = (list) => {
  const sorted = list.filter((v) => v !== undefined).sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)];
};

const SCENARIOS = ['read', 'write'];

/** Runs every server in every round; returns per-server medians and per-round samples. */
export async function benchHttp({ log = console.log } = {}) {
  const samples = Object.fromEntries(
    SERVERS.map((name) => [name, { read: [], write: [], readCpu: [], writeCpu: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no server always runs first (warm machine, cold machine).
    const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]);
    for (const name of order) {
      const server = await startServer(name);
      try {
        const cookie = await login(server.port);
        await call(server.port, '/read', cookie);
        // Warm-up: let the JIT settle before measuring.
        for (const scenario of SCENARIOS) await run(server, `/${scenario}`, cookie, 1);
        for (const scenario of SCENARIOS) {
          const { rps, cpuPerRequest } = await run(server, `/${scenario}`, cookie);
          samples[name][scenario].push(rps);
          samples[name][`${scenario}Cpu`].push(cpuPerRequest);
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
  const results = Object.fromEntries(
    SERVERS.map((name) => {
      const s = samples[name];
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

/** Median over rounds of (ours ÷ other) for one scenario, each ratio within one round. */
function pairedRatio(samples, other, scenario) {
  const ours = samples['sealed-session'][scenario];
  return median(ours.map((value, round) => value / samples[other][scenario][round]));
}

/** Prints the table and the HTTP targets the benchmark checks (see README, Benchmarks). */
export function reportHttp({ results, samples }, log = console.log) {
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
  const targets = [
    ['read ≥ 0.8× bare node:http', 'bare-node-http', 'read', 0.8],
    ['read ≥ 5× h3@1', 'h3-v1', 'read', 5],
    ['read ahead of @fastify/secure-session', 'fastify-secure-session', 'read', 1],
    ['write ≥ 0.3× bare node:http', 'bare-node-http', 'write', 0.3],
    ['write ≥ 5× h3@1', 'h3-v1', 'write', 5],
  ]
    .filter(([, other]) => other in samples)
    .map(([label, other, scenario, goal]) => {
      const ratio = pairedRatio(samples, other, scenario);
      return { label, ratio, goal, pass: ratio >= goal };
    });
  log('\nTargets');
  for (const t of targets) {
    log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.label.padEnd(40)} measured ${t.ratio.toFixed(2)}×`);
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
