/**
 * Several processes: two sealed-session server processes behind a round-robin proxy on
 * 127.0.0.1, every request landing on the other process than the last, against one
 * process behind the same proxy. A session sealed by one process is read by the other,
 * whose caches have never seen its salts, so this shows what a deployment of several
 * processes (node:cluster, containers) pays. Reported as the servers' CPU per request
 * (steadier than requests/s on a shared machine: the proxy and the client share it), beside
 * the same two deployments of bare node:http (similar response work, no session): what the
 * second process costs a server that has no session to share.
 *
 *   node bench/http-processes.mjs [--rounds 3] [--duration 4] [--connections 16]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
// @ts-expect-error -- autocannon ships no types; its result is typed where it is read
import autocannon from 'autocannon';
import { cpuMicros, login, startServer } from './http/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);

/**
 * A proxy that sends each request to the next of `ports` in turn, over kept-alive
 * connections, and returns the answer as it is.
 *
 * @param {readonly number[]} ports
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
function roundRobinProxy(ports) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const server = http.createServer((req, res) => {
    const port = /** @type {number} */ (ports[next++ % ports.length]);
    const upstream = http.request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        port: address.port,
        close: () =>
          new Promise((done) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Drives `path` through the proxy for DURATION seconds; the servers' CPU per request.
 *
 * @param {number} port - the proxy's
 * @param {string} path
 * @param {string} cookie
 * @param {readonly number[]} pids - the servers'
 */
async function measure(port, path, cookie, pids) {
  const cpu = () => pids.reduce((sum, pid) => sum + (cpuMicros(pid) ?? NaN), 0);
  const before = cpu();
  /** @type {{ non2xx: number, errors: number, requests: { average: number, total: number } }} */
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    headers: { cookie },
    connections: CONNECTIONS,
    duration: DURATION,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return { rps: result.requests.average, cpuPerRequest: (cpu() - before) / result.requests.total };
}

/** @param {number[]} list */
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? NaN;

/**
 * A deployment of `name`: two processes, a proxy to the first alone and one to both.
 *
 * @param {string} name - a server of bench/http/server.mjs
 */
async function deployment(name) {
  const servers = [await startServer(name), await startServer(name)];
  const [first, second] =
    /** @type {[import('./http/fixtures.mjs').RunningServer, import('./http/fixtures.mjs').RunningServer]} */ (
      servers
    );
  const single = await roundRobinProxy([first.port]);
  const pair = await roundRobinProxy([first.port, second.port]);
  return {
    /** One round of `path`: through one process, then through both. */
    round: async (/** @type {string} */ path, /** @type {string} */ cookie) => ({
      one: await measure(single.port, path, cookie, [first.pid]),
      two: await measure(pair.port, path, cookie, [first.pid, second.pid]),
    }),
    single,
    pair,
    close: async () => {
      await single.close();
      await pair.close();
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

// bare-node-http does the same response work without a session: what two processes cost
// any server on this machine (each handles half the requests, with less batching per wake-up),
// which is not the session's.
const sealed = await deployment('sealed-session');
const bare = await deployment('bare-node-http');
try {
  // Signed in on one process; through the pair, every other request reads it on the other.
  const cookie = await login(sealed.single.port);
  const bareCookie = await login(bare.single.port);
  /** @typedef {{ one: number[], two: number[], oneRps: number[], twoRps: number[] }} Samples */
  /** @type {Record<string, { sealed: Samples, bare: Samples }>} */
  const results = {};
  /** @returns {Samples} */
  const empty = () => ({ one: [], two: [], oneRps: [], twoRps: [] });
  for (const path of ['/read', '/write']) {
    const entry = { sealed: empty(), bare: empty() };
    results[path] = entry;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, target, jar] of /** @type {const} */ ([
        ['sealed', sealed, cookie],
        ['bare', bare, bareCookie],
      ])) {
        const { one, two } = await target.round(path, jar);
        entry[key].one.push(one.cpuPerRequest);
        entry[key].two.push(two.cpuPerRequest);
        entry[key].oneRps.push(one.rps);
        entry[key].twoRps.push(two.rps);
      }
    }
  }
  // Sessions keep working across the processes: each write is read by the other process,
  // which writes the next count.
  let chained = cookie;
  const counts = [];
  for (let i = 0; i < 4; i++) {
    const response = await fetch(`http://127.0.0.1:${sealed.pair.port}/write`, {
      headers: { cookie: chained },
    });
    if (response.status !== 200) throw new Error(`/write through the pair: ${response.status}`);
    counts.push(/** @type {{ count: number }} */ (await response.json()).count);
    const next = response.headers.getSetCookie()[0]?.split(';')[0];
    if (next !== undefined) chained = next;
  }
  if (counts.join() !== '1,2,3,4') throw new Error(`the processes lost writes: ${counts.join()}`);
  console.log(`Two processes, round-robin per request (${ROUNDS} rounds), server CPU per request:`);
  for (const [path, entry] of Object.entries(results)) {
    const ours = { one: median(entry.sealed.one), two: median(entry.sealed.two) };
    const base = { one: median(entry.bare.one), two: median(entry.bare.two) };
    console.log(
      `  ${path.padEnd(7)} sealed-session: one process ${ours.one.toFixed(1)} µs ` +
        `(${Math.round(median(entry.sealed.oneRps))} req/s), two ${ours.two.toFixed(1)} µs ` +
        `(${Math.round(median(entry.sealed.twoRps))} req/s): cost ${(ours.one / ours.two).toFixed(2)}x the single process's`,
    );
    console.log(
      `  ${''.padEnd(7)} bare node:http: one process ${base.one.toFixed(1)} µs, two ` +
        `${base.two.toFixed(1)} µs: ${(base.one / base.two).toFixed(2)}x (what the deployment ` +
        'costs a server without sessions)',
    );
    // The two ratios above divided: what is left once the deployment's own cost is taken
    // out (a token from the other process, its keys, each process's verified-token cache).
    console.log(
      `  ${''.padEnd(7)} sealed-session's ratio ÷ bare node:http's: ` +
        `${(ours.one / ours.two / (base.one / base.two)).toFixed(2)}x (1.00: a second process ` +
        'costs the sessions no more than it costs a server without them; below 1.00, they ' +
        'add to it)',
    );
  }
} finally {
  await sealed.close();
  await bare.close();
}
