/**
 * Shared pieces of the HTTP benchmark: the session data every server stores, the
 * password, and helpers to start a server in its own process and sign in.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PASSWORD = 'bench-password-that-is-long-enough-0123456789';

/**
 * @typedef {{ user: { id: number, name: string, email: string }, roles: string[],
 *   count: number }} SessionData
 */

/**
 * What every server keeps in its session (about 150 bytes of JSON).
 *
 * @type {Readonly<SessionData>}
 */
export const SESSION_DATA = Object.freeze({
  user: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com' },
  roles: ['admin', 'editor'],
  count: 0,
});

const ALL_SERVERS = [
  'bare-node-http',
  'fe26-floor',
  'sealed-session',
  'h3-v1',
  'express-session',
  'iron-session',
  'fastify-secure-session',
];

/**
 * The servers compared; BENCH_SERVERS=a,b narrows a run (sealed-session and the two
 * baselines stay).
 */
export const SERVERS = process.env.BENCH_SERVERS
  ? ALL_SERVERS.filter(
      (name) =>
        ['bare-node-http', 'fe26-floor', 'sealed-session'].includes(name) ||
        // Set: the condition above; the callback only loses that narrowing.
        /** @type {string} */ (process.env.BENCH_SERVERS).split(',').includes(name),
    )
  : ALL_SERVERS;

const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * @typedef {{ port: number, pid: number, stop: () => Promise<void> }} RunningServer
 */

/**
 * Starts `name` in its own Node process on a free 127.0.0.1 port.
 *
 * @param {string} name - one of SERVERS
 * @returns {Promise<RunningServer>}
 */
export function startServer(name) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverScript, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
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
              child.once('exit', () => done());
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
 * CPU time (user + system, in microseconds) a process has used so far, from Linux's
 * /proc; undefined elsewhere. CPU per request is steadier than requests/s on a shared
 * machine, where the load generator competes with the server for the same cores.
 *
 * @param {number} pid
 * @returns {number | undefined}
 */
export function cpuMicros(pid) {
  try {
    // A missing field throws, like a missing file: both mean no measurement.
    const fields = /** @type {string} */ (
      readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]
    ).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
// USER_HZ: 100 on every Linux configuration Node runs on.
const CLOCK_TICKS = 100;

/**
 * Signs in: GET /login, returns the `name=value` cookie pair(s) to send back.
 *
 * @param {number} port
 */
export async function login(port) {
  const response = await fetch(`http://127.0.0.1:${port}/login`);
  if (response.status !== 200) throw new Error(`/login answered ${response.status}`);
  await response.arrayBuffer();
  const cookies = response.headers.getSetCookie().map((header) => header.split(';')[0]);
  if (cookies.length === 0) throw new Error('/login set no cookie');
  return cookies.join('; ');
}

/**
 * One request with the cookie; returns the parsed JSON body.
 *
 * @param {number} port
 * @param {string} path
 * @param {string} cookie
 * @returns {Promise<unknown>}
 */
export async function call(port, path, cookie) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { cookie } });
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}
