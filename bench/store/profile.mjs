/**
 * Where a store-mode server's time goes: starts one server of the store benchmark under
 * `node --cpu-prof`, drives one workload with autocannon as bench/store.mjs does, stops
 * it, and prints the functions with the most self time, then the package's own (dist/)
 * functions by inclusive time. The profile stays in the directory printed at the end
 * (open it in Chrome DevTools, Performance tab).
 *
 *   node bench/store/profile.mjs [server] [read|write] [--duration 8] [--top 25]
 *   (server: one of STORE_SERVERS in fixtures.mjs, default sealed-node-redis)
 */
// @ts-expect-error -- autocannon ships no types; its result is typed where it is read
import autocannon from 'autocannon';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import {
  REDIS_URL,
  STORE_SERVERS,
  deleteKeys,
  login,
  runPrefix,
  startStoreServer,
} from './fixtures.mjs';

/**
 * The parts of a V8 CPU profile read here.
 *
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number },
 *   children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} CpuProfile
 */

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '8' },
    top: { type: 'string', default: '25' },
  },
});
const name = /** @type {import('./fixtures.mjs').StoreServerName} */ (
  positionals[0] ?? 'sealed-node-redis'
);
const workload = positionals[1] ?? 'read';
if (!STORE_SERVERS.includes(name) || !['read', 'write'].includes(workload)) {
  console.error(`usage: node bench/store/profile.mjs [${STORE_SERVERS.join('|')}] [read|write]`);
  process.exit(2);
}
const TOP = Number(values.top);

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(root, '.tmp', 'prof', `store-${name}-${workload}-${Date.now().toString(36)}`);
mkdirSync(dir, { recursive: true });

const prefix = runPrefix();
const server = await startStoreServer(name, prefix, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
try {
  const cookie = await login(server.port);
  /** @type {{ requests: { total: number, average: number }, non2xx: number }} */
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/${workload}`,
    headers: { cookie },
    connections: 32,
    pipelining: 10,
    duration: Number(values.duration),
  });
  console.log(
    `${name} /${workload}: ${Math.round(result.requests.average)} req/s, ` +
      `${result.requests.total} requests, ${result.non2xx} non-2xx (under the profiler)`,
  );
} finally {
  await server.stop();
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => undefined);
  await redis.connect();
  await deleteKeys(redis, prefix);
  redis.destroy();
}

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no profile written in ${dir}`);
/** @type {CpuProfile} */
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));

/** @param {ProfileNode} node */
const where = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const path = url.startsWith('file://') ? fileURLToPath(url).replace(root, '') : url;
  return `${path}:${lineNumber + 1} ${functionName || '(anonymous)'}`;
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
/** @type {Map<number, number>} */
const parentOf = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
/** @type {Map<number, number>} time per node id, µs */
const timeOf = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  timeOf.set(id, (timeOf.get(id) ?? 0) + dt);
  total += dt;
});
/** @type {Map<string, number>} */
const self = new Map();
/** @type {Map<string, number>} */
const inclusive = new Map();
for (const [id, time] of timeOf) {
  const node = /** @type {ProfileNode} */ (byId.get(id));
  if (node.callFrame.functionName === '(idle)') continue;
  self.set(where(node), (self.get(where(node)) ?? 0) + time);
  // Each function once per sample, however deep its recursion; bounded by the tree's depth.
  const seen = new Set();
  for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parentOf.get(at)) {
    const key = where(/** @type {ProfileNode} */ (byId.get(at)));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + time);
  }
}
const busy = [...self.values()].reduce((a, b) => a + b, 0);
/** @param {number} time */
const share = (time) => `${((100 * time) / busy).toFixed(1).padStart(5)}%`;
console.log(
  `\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; self time:`,
);
for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`  ${share(time)}  ${key}`);
}
console.log('\nsealed-session (dist/) functions, inclusive time:');
for (const [key, time] of [...inclusive]
  .filter(([key]) => key.startsWith('dist/'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, TOP)) {
  console.log(`  ${share(time)}  ${key}`);
}
console.log(`\nprofile: ${join(dir, file)}`);
