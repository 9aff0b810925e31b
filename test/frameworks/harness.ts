/**
 * Builds a framework app from test/frameworks/<name>/ with the framework's own build
 * command, serves its `.output/server/index.mjs` on 127.0.0.1, and drives it over HTTP.
 *
 * Each build gets a scratch project under .tmp/frameworks/ (inside the repository, so the
 * framework and its dependencies resolve from the repository's node_modules): the app's
 * sources, a package.json, and node_modules/sealed-session holding what a user installs
 * (package.json and the `files` of the manifest, i.e. the built dist/). The package sits
 * in node_modules as a real copy, not a link, so the frameworks treat it as an installed
 * dependency (externalised and traced into .output) rather than as source of the app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRATCH_ROOT = join(ROOT, '.tmp', 'frameworks');
const BIN = join(ROOT, 'node_modules', '.bin');

/** A built app, ready to serve. */
export interface BuiltApp {
  /** The scratch project the app was built in. */
  readonly dir: string;
  /** Wall time of the framework's build command alone. */
  readonly buildMs: number;
  /** What the build printed, for diagnostics. */
  readonly log: string;
  /** Removes the scratch project (kept when KEEP_FRAMEWORK_SCRATCH=1). */
  remove(): Promise<void>;
}

/** A running server of a built app. */
export interface RunningApp {
  /** e.g. http://127.0.0.1:41234 */
  readonly base: string;
  /** What the server printed so far. */
  output(): string;
  close(): Promise<void>;
}

/** Copies the package into `dir`/node_modules/sealed-session as `npm install` lays it out. */
async function installPackage(dir: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    files: string[];
    exports: Record<string, unknown>;
  };
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` builds first)');
  }
  const target = join(dir, 'node_modules', 'sealed-session');
  await mkdir(target, { recursive: true });
  await cp(join(ROOT, 'package.json'), join(target, 'package.json'));
  for (const entry of manifest.files) {
    await cp(join(ROOT, entry), join(target, entry), { recursive: true });
  }
}

/**
 * Runs `command` in `cwd` and resolves with its output; rejects, with the output, when it
 * fails or outlives `timeoutMs`.
 */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(output);
      else {
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (exit ${String(code)}, signal ` +
              `${String(signal)}):\n${output.split('\n').slice(-40).join('\n')}`,
          ),
        );
      }
    });
  });
}

/**
 * Copies test/frameworks/`name`/ into a new scratch project with the package installed,
 * then runs the framework's build command there (a binary of the repository's
 * node_modules/.bin, e.g. `['vinxi', 'build']`).
 */
export async function buildApp(
  name: string,
  command: readonly [string, ...string[]],
  timeoutMs = 240_000,
): Promise<BuiltApp> {
  await mkdir(SCRATCH_ROOT, { recursive: true });
  const dir = await mkdtemp(join(SCRATCH_ROOT, `${name}-`));
  const remove = async (): Promise<void> => {
    if (process.env['KEEP_FRAMEWORK_SCRATCH'] !== '1') {
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    await cp(fileURLToPath(new URL(`./${name}/`, import.meta.url)), dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, type: 'module', dependencies: { 'sealed-session': '*' } }),
    );
    await installPackage(dir);
    const [binary, ...args] = command;
    const started = performance.now();
    const log = await run(join(BIN, binary), args, dir, timeoutMs);
    const buildMs = performance.now() - started;
    const entry = join(dir, '.output', 'server', 'index.mjs');
    if (!existsSync(entry)) throw new Error(`the build made no ${entry}:\n${log}`);
    return { dir, buildMs, log, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** A port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts `node .output/server/index.mjs` of a built app on a free port of 127.0.0.1 (Nitro's
 * node-server reads PORT and HOST) and resolves once it says it listens.
 */
export async function serve(app: BuiltApp, timeoutMs = 30_000): Promise<RunningApp> {
  const port = await freePort();
  const child = spawn(process.execPath, [join('.output', 'server', 'index.mjs')], {
    cwd: app.dir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the server did not listen within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: string): void => {
      output += chunk;
      if (output.includes(`Listening on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`the server exited (${String(code ?? signal)}) before listening:\n${output}`),
      );
    });
  });
  try {
    await listening;
  } catch (error) {
    await stop(child);
    throw error;
  }
  return {
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    close: () => stop(child),
  };
}

/** One Set-Cookie header: name, value and attributes by lower-cased name. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of rest) {
    const at = part.indexOf('=');
    const key = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    attributes[key] = at < 0 ? '' : part.slice(at + 1).trim();
  }
  return {
    name: pair.slice(0, eq).trim(),
    value: decodeURIComponent(pair.slice(eq + 1).trim()),
    attributes,
  };
}

/** A browser-like cookie jar for one origin: Set-Cookie in, Cookie out. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      const expires = cookie.attributes['expires'];
      const expired =
        cookie.attributes['max-age'] === '0' ||
        (expires !== undefined && Date.parse(expires) <= Date.now());
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }
}
