/**
 * HTTP benchmark: requests/s of a session read and a session write, each server in its
 * own process on 127.0.0.1, autocannon as the client in this process. Servers are
 * interleaved round by round; the median of the rounds is reported.
 *
 *   node bench/http.mjs [--rounds 3] [--duration 4] [--connections 32]
 */
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVERS, call, login, startServer } from './http/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
  },
});
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);

function run(port, path, cookie) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        headers: { cookie },
        connections: CONNECTIONS,
        duration: DURATION,
      },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0) {
          return reject(new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        }
        resolve(result.requests.average);
      },
    );
  });
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** @returns {Promise<Record<string, { read: number, write: number }>>} */
export async function benchHttp({ log = console.log } = {}) {
  const samples = Object.fromEntries(SERVERS.map((name) => [name, { read: [], write: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no server always runs first (warm machine, cold machine).
    const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]);
    for (const name of order) {
      const server = await startServer(name);
      try {
        const cookie = await login(server.port);
        await call(server.port, '/read', cookie);
        // Warm-up: let the JIT settle before measuring.
        await run(server.port, '/read', cookie).catch(() => 0);
        for (const scenario of ['read', 'write']) {
          const rps = await run(server.port, `/${scenario}`, cookie);
          samples[name][scenario].push(rps);
          log(
            `  round ${round + 1}/${ROUNDS} ${name.padEnd(24)} ${scenario.padEnd(5)} ${Math.round(rps)} req/s`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  return Object.fromEntries(
    SERVERS.map((name) => [
      name,
      { read: median(samples[name].read), write: median(samples[name].write) },
    ]),
  );
}

/** Prints the table and the targets of issue 3. */
export function reportHttp(results, log = console.log) {
  const bare = results['bare-node-http'];
  const ours = results['sealed-session'];
  log('\nHTTP (requests/s, median of rounds; ratio = sealed-session ÷ that server)');
  log(
    `${'server'.padEnd(24)} ${'read'.padStart(9)} ${'ratio'.padStart(7)} ${'write'.padStart(9)} ${'ratio'.padStart(7)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    log(
      `${name.padEnd(24)} ${Math.round(r.read).toString().padStart(9)} ${(ours.read / r.read).toFixed(2).padStart(7)} ` +
        `${Math.round(r.write).toString().padStart(9)} ${(ours.write / r.write).toFixed(2).padStart(7)}`,
    );
  }
  const targets = [
    ['read ≥ 0.8× bare node:http', ours.read / bare.read, 0.8],
    ['read ≥ 5× h3@1', ours.read / results['h3-v1'].read, 5],
    [
      'read ahead of @fastify/secure-session',
      ours.read / results['fastify-secure-session'].read,
      1,
    ],
    ['write ≥ 0.3× bare node:http', ours.write / bare.write, 0.3],
    ['write ≥ 5× h3@1', ours.write / results['h3-v1'].write, 5],
  ];
  log('\nTargets');
  for (const [label, ratio, goal] of targets) {
    log(`  ${ratio >= goal ? 'PASS' : 'FAIL'}  ${label.padEnd(40)} measured ${ratio.toFixed(2)}×`);
  }
  return targets.map(([label, ratio, goal]) => ({ label, ratio, goal, pass: ratio >= goal }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const results = await benchHttp();
  const targets = reportHttp(results);
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
    config: { rounds: ROUNDS, durationSec: DURATION, connections: CONNECTIONS },
    results,
    targets,
  };
  const out = fileURLToPath(new URL('./results/http.json', import.meta.url));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
