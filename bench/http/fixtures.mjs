/**
 * Shared pieces of the HTTP benchmark: the session data every server stores, the
 * password, and helpers to start a server in its own process and sign in.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PASSWORD = 'bench-password-that-is-long-enough-0123456789';

/** What every server keeps in its session (about 150 bytes of JSON). */
export const SESSION_DATA = Object.freeze({
  user: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com' },
  roles: ['admin', 'editor'],
  count: 0,
});

/** The servers compared, in the order they are printed. */
export const SERVERS = [
  'bare-node-http',
  'sealed-session',
  'h3-v1',
  'express-session',
  'iron-session',
  'fastify-secure-session',
];

const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * Starts `name` in its own Node process on a free 127.0.0.1 port.
 * @returns {Promise<{ port: number, stop: () => Promise<void> }>}
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

/** Signs in: GET /login, returns the `name=value` cookie pair(s) to send back. */
export async function login(port) {
  const response = await fetch(`http://127.0.0.1:${port}/login`);
  if (response.status !== 200) throw new Error(`/login answered ${response.status}`);
  await response.arrayBuffer();
  const cookies = response.headers.getSetCookie().map((header) => header.split(';')[0]);
  if (cookies.length === 0) throw new Error('/login set no cookie');
  return cookies.join('; ');
}

/** One request with the cookie; returns the parsed JSON body. */
export async function call(port, path, cookie) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { cookie } });
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}
