/**
 * Two builds of the iron engine side by side in one process (say the last commit's and the
 * working tree's), on the unseals that differ between tokens whose salts are known and
 * tokens whose salts are not: known salts, never-seen salts (@hapi/iron's tokens, a new salt
 * each), and forged tokens (more of those, with a wrong MAC), with @hapi/iron's own unseal
 * and refusal for scale. On a shared machine only such a run compares builds fairly: both
 * see the same load, round after round.
 *
 * Method: many short interleaved rounds, the job order rotating each round; reported per
 * job are the median, 10th percentile and minimum µs per operation and the process's CPU µs
 * per operation (process.cpuUsage: every thread), then per build the medians of per-round
 * ratios that the targets are about.
 *
 * Usage: node bench/iron-ab.mjs <dist-a> <dist-b> [--rounds 61] [--batch-ms 25] [--web]
 *   where each dist is a built dist/ directory, e.g. for the last commit:
 *   git worktree add /tmp/base HEAD && (cd /tmp/base && npm ci && npm run build)
 *   node bench/iron-ab.mjs /tmp/base/dist dist
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Iron from '@hapi/iron';
import {
  PASSWORD,
  POOL_SIZE,
  buildTokenPool,
  createAdapters,
  forgeToken,
} from './iron-fixtures.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '61' },
    'batch-ms': { type: 'string', default: '25' },
    web: { type: 'boolean', default: false },
  },
});
if (positionals.length === 0) throw new Error('usage: node bench/iron-ab.mjs <dist> [<dist> ...]');
const ROUNDS = Number(args.rounds);
const BATCH_MS = Number(args['batch-ms']);

/**
 * @typedef {import('../dist/iron/create-iron.js').Iron} Iron
 * @typedef {{ kind: string, name: string, op: () => Promise<unknown>, count: number,
 *   wall: number[], cpu: number[] }} Job - µs per operation, one per round
 */

/** @type {Array<{ name: string, iron: Iron }>} */
const engines = [];
for (const dist of positionals) {
  /** @param {string} file */
  const load = (file) => import(pathToFileURL(resolve(dist, file)).href);
  const [{ createIron }, { nodeBackend }, { webBackend }] = await Promise.all([
    load('iron/create-iron.js'),
    load('iron/backend/node.js'),
    load('iron/backend/web.js'),
  ]);
  engines.push({ name: `${dist} node`, iron: createIron(nodeBackend) });
  if (args.web) engines.push({ name: `${dist} web`, iron: createIron(webBackend) });
}

const adapters = createAdapters();
/** @param {string} id */
const adapter = (id) =>
  /** @type {import('./iron-fixtures.d.mts').IronAdapter} */ (adapters.find((a) => a.id === id));
const known = await buildTokenPool(adapter('ss-node'), POOL_SIZE);
const neverSeen = await buildTokenPool(adapter('hapi'), POOL_SIZE);
const forged = (await buildTokenPool(adapter('hapi'), POOL_SIZE)).map(forgeToken);

/** @param {string[]} pool */
const cycle = (pool) => {
  let next = 0;
  return () => /** @type {string} */ (pool[next++ % pool.length]);
};
/**
 * @param {Promise<unknown>} unsealed
 * @returns {Promise<void>}
 */
const refused = (unsealed) =>
  unsealed.then(
    () => {
      throw new Error('a forged token was accepted');
    },
    () => undefined,
  );

/** @type {Job[]} */
const jobs = [];
/**
 * @param {string} kind
 * @param {string} name
 * @param {() => Promise<unknown>} op
 */
const job = (kind, name, op) => jobs.push({ kind, name, op, count: 0, wall: [], cpu: [] });
for (const { name, iron } of engines) {
  const [a, b, c] = [cycle(known), cycle(neverSeen), cycle(forged)];
  job('known', name, () => iron.unseal(a(), PASSWORD));
  job('never-seen', name, () => iron.unseal(b(), PASSWORD));
  job('forged', name, () => refused(iron.unseal(c(), PASSWORD)));
}
{
  const [b, c] = [cycle(neverSeen), cycle(forged)];
  job('fresh', '@hapi/iron', () => Iron.unseal(b(), PASSWORD, Iron.defaults));
  job('forged', '@hapi/iron', () => refused(Iron.unseal(c(), PASSWORD, Iron.defaults)));
}

// Warm-up, and batches sized to about BATCH_MS.
for (const j of jobs) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 200) {
    await j.op();
    n++;
  }
  j.count = Math.max(8, Math.round((n * BATCH_MS) / 200));
}
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < jobs.length; k++) {
    const j = /** @type {Job} */ (jobs[(k + round) % jobs.length]);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < j.count; i++) await j.op();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    j.wall.push((ms * 1000) / j.count);
    j.cpu.push((used.user + used.system) / j.count);
  }
}

/**
 * @param {number[]} values - not empty
 * @param {number} at - 0 to 1
 */
const quantile = (values, at) =>
  /** @type {number} */ ([...values].sort((x, y) => x - y)[Math.floor((values.length - 1) * at)]);
/** @param {number} n */
const us = (n) => n.toFixed(2).padStart(8);
console.log(
  `${ROUNDS} rounds of ~${BATCH_MS} ms; µs per operation: median, 10th percentile and minimum over rounds; CPU µs per operation (median)`,
);
for (const j of jobs) {
  console.log(
    `${j.kind.padEnd(11)}${j.name.padEnd(36)}${us(quantile(j.wall, 0.5))}${us(quantile(j.wall, 0.1))}${us(Math.min(...j.wall))}   cpu${us(quantile(j.cpu, 0.5))}`,
  );
}
/**
 * Median over rounds of how many times faster `a` ran than `b`.
 *
 * @param {Job} a
 * @param {Job} b
 */
const faster = (a, b) =>
  quantile(
    a.wall.map((value, round) => /** @type {number} */ (b.wall[round]) / value),
    0.5,
  ).toFixed(2);
const hapi = /** @type {Job} */ (jobs.find((j) => j.name === '@hapi/iron' && j.kind === 'fresh'));
console.log('\nmedian of per-round speed ratios');
for (const { name } of engines) {
  /** @param {string} kind */
  const of = (kind) => /** @type {Job} */ (jobs.find((j) => j.name === name && j.kind === kind));
  console.log(
    `${name}: never-seen ÷ known ${faster(of('never-seen'), of('known'))}, never-seen ÷ @hapi/iron ${faster(of('never-seen'), hapi)}x, forged ÷ known ${faster(of('forged'), of('known'))}`,
  );
}
