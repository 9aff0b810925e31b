/**
 * Runs a conformance module under Node, Bun, Deno, workerd or Chromium against the BUILT package,
 * imported by its package name so each runtime applies its own export conditions.
 *
 * A conformance module is plain ESM exporting `run(subject, input)`: `subject` is the
 * namespace of the package entry under test (e.g. `sealed-session/iron`), or, for a job
 * naming several entries, an object of their namespaces keyed by specifier; `input` a
 * JSON value the test made in Node. Whatever `run` returns (JSON) comes back as `result`.
 *
 * Each run gets a scratch directory:
 *   package.json                  {"type":"module"}: Deno needs one to resolve node_modules
 *   node_modules/sealed-session → the repository (so `exports`/`imports` apply as published)
 *   job.js                        generated: imports the subject and the conformance module
 *   cli.js | worker.js            copied from ./entries
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForWorkerd } from '../../tools/bundle-workerd.mjs';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../browser/chromium.js';

export type RuntimeName = 'node' | 'bun' | 'deno' | 'workerd' | 'chromium';

/** Every runtime the harness knows, in the order tests usually list them. */
export const runtimeNames: readonly RuntimeName[] = Object.freeze([
  'node',
  'bun',
  'deno',
  'workerd',
  'chromium',
]);

/** What to run. */
export interface ConformanceJob {
  /** Absolute path of a conformance module exporting `run(subject, input)`. */
  readonly conformance: string;
  /**
   * Package specifier of the module under test, e.g. `sealed-session/iron`; or several,
   * e.g. `['sealed-session', 'sealed-session/fetch']`, and `run` gets an object of their
   * namespaces keyed by specifier.
   */
  readonly subject: string | readonly string[];
  /** JSON value passed as `run`'s second argument. @default {} */
  readonly input?: unknown;
  /** Milliseconds before the runtime is stopped. @default 50_000 */
  readonly timeoutMs?: number;
  /**
   * workerd only: compatibility flags of the worker, e.g. `['nodejs_compat']`. @default []
   * (the package must work without any).
   */
  readonly compatibilityFlags?: readonly string[];
}

/** What came back. */
export interface RuntimeRun {
  readonly runtime: RuntimeName;
  /** The value `run` resolved to, parsed from JSON. */
  readonly result: unknown;
  /** Wall time of the run, scratch setup and bundling included. */
  readonly durationMs: number;
  /** The runtime's stderr (empty for workerd), for diagnostics. */
  readonly stderr: string;
}

export type Runner = (job: ConformanceJob) => Promise<RuntimeRun>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = fileURLToPath(new URL('./entries/', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const MARKER = '@@sealed-session-conformance@@';
const PACKAGE_NAME = 'sealed-session';
/** A date workerd 1.20251213 supports; fixed so results do not drift with the calendar. */
const COMPATIBILITY_DATE = '2025-09-01';
const DEFAULT_TIMEOUT_MS = 50_000;

/**
 * Fails with a clear message when the built files `subject` needs are missing: the runtimes
 * run dist/, never the sources.
 *
 * @param subject - a specifier of this package, e.g. `sealed-session/iron`
 * @throws Error telling to run `npm run build`
 */
export function assertBuilt(subject = `${PACKAGE_NAME}/iron`): void {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, { default?: string } | string>;
  };
  const key = subject === PACKAGE_NAME ? '.' : `.${subject.slice(PACKAGE_NAME.length)}`;
  const target = manifest.exports[key];
  const entry = typeof target === 'string' ? target : target?.default;
  if (entry === undefined) throw new Error(`${subject} is not exported by package.json`);
  const required = [
    entry,
    './dist/iron/backend/select-node.js',
    './dist/iron/backend/select-web.js',
    './dist/iron/backend/select-workerd.js',
  ];
  const missing = required.filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0) {
    throw new Error(
      `The runtime conformance suite runs the built package, but ${missing.join(', ')} ` +
        'is missing: run `npm run build` first (`npm test` builds before testing).',
    );
  }
}

/** Makes the scratch directory of one run; returns its path. */
async function prepareScratch(
  job: ConformanceJob,
  entry: 'cli.js' | 'worker.js' | 'browser.js',
): Promise<string> {
  const specifiers = typeof job.subject === 'string' ? [job.subject] : job.subject;
  for (const specifier of specifiers) assertBuilt(specifier);
  const dir = await mkdtemp(join(tmpdir(), 'sealed-session-runtime-'));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ private: true, type: 'module', dependencies: { [PACKAGE_NAME]: '*' } }),
  );
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', PACKAGE_NAME), 'dir');
  // Absolute POSIX paths are valid import specifiers in Node, Bun, Deno and esbuild.
  await writeFile(
    join(dir, 'job.js'),
    [
      ...(typeof job.subject === 'string'
        ? [`import * as subject from ${JSON.stringify(job.subject)};`]
        : [
            ...specifiers.map(
              (specifier, i) => `import * as subject${i} from ${JSON.stringify(specifier)};`,
            ),
            `const subject = { ${specifiers
              .map((specifier, i) => `${JSON.stringify(specifier)}: subject${i}`)
              .join(', ')} };`,
          ]),
      `import { run } from ${JSON.stringify(job.conformance)};`,
      `const input = ${JSON.stringify(job.input ?? {})};`,
      'export function job() {',
      '  return run(subject, input);',
      '}',
      '',
    ].join('\n'),
  );
  await copyFile(join(ENTRIES, entry), join(dir, entry));
  return dir;
}

async function removeScratch(dir: string): Promise<void> {
  if (process.env['KEEP_RUNTIME_SCRATCH'] === '1') return;
  await rm(dir, { recursive: true, force: true });
}

interface ProcessOutput {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<ProcessOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// SGR colour sequences: Deno colours some errors even with NO_COLOR set.
const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function tail(text: string, lines = 30): string {
  return text.replace(ANSI_COLOURS, '').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Finds the result line of entries/cli.js; throws with the runtime's output when absent. */
function parseCliResult(runtime: RuntimeName, output: ProcessOutput): unknown {
  const line = output.stdout.split('\n').find((candidate) => candidate.startsWith(MARKER));
  if (line === undefined) {
    throw new Error(
      `${runtime} printed no conformance result (exit ${String(output.code)}, signal ` +
        `${String(output.signal)}).\nstdout:\n${tail(output.stdout)}\nstderr:\n${tail(output.stderr)}`,
    );
  }
  return crashCheck(runtime, JSON.parse(line.slice(MARKER.length)) as unknown);
}

/** A conformance module that throws (rather than reporting failures) fails the run. */
function crashCheck(runtime: RuntimeName, result: unknown): unknown {
  if (typeof result === 'object' && result !== null && 'crashed' in result) {
    throw new Error(`The conformance job crashed under ${runtime}:\n${String(result.crashed)}`);
  }
  return result;
}

/** A runner for a runtime with a command line, given how to start it on `cli.js`. */
function cliRunner(
  runtime: RuntimeName,
  command: (dir: string) => {
    command: string;
    args: readonly string[];
    env?: Readonly<Record<string, string>>;
  },
): Runner {
  return async (job) => {
    const started = performance.now();
    const dir = await prepareScratch(job, 'cli.js');
    try {
      const spec = command(dir);
      const output = await exec(
        spec.command,
        spec.args,
        dir,
        spec.env ?? {},
        job.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
      const result = parseCliResult(runtime, output);
      return { runtime, result, durationMs: performance.now() - started, stderr: output.stderr };
    } finally {
      await removeScratch(dir);
    }
  };
}

/** Node, as a baseline: the same entry, resolved with Node's `node`/`import` conditions. */
export const runInNode: Runner = cliRunner('node', () => ({
  command: process.execPath,
  args: ['cli.js'],
}));

/** Bun (`bun`, `node`, `import` conditions); never auto-installs, no telemetry. */
export const runInBun: Runner = cliRunner('bun', () => ({
  command: join(BIN, 'bun'),
  args: ['--no-install', 'cli.js'],
  env: { DO_NOT_TRACK: '1' },
}));

/**
 * Deno (`deno`, `node`, `import` conditions) with no permissions at all, offline: no
 * remote modules, the scratch node_modules used as is, a private cache, no update check.
 */
export const runInDeno: Runner = cliRunner('deno', (dir) => ({
  command: join(BIN, 'deno'),
  args: [
    'run',
    '--no-remote',
    '--cached-only',
    '--no-lock',
    '--node-modules-dir=manual',
    '--no-prompt',
    'cli.js',
  ],
  env: {
    DENO_DIR: join(dir, '.deno'),
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
  },
}));

/** Conditions of the workerd build, as wrangler uses them. */

/**
 * workerd through Miniflare: entries/worker.js and the package bundled by esbuild for the
 * workerd conditions (platform neutral, so a stray `node:` import fails the build), then
 * one request dispatched to it. No compatibility flags unless the job names some: the
 * package must not need `nodejs_compat`.
 */
export const runInWorkerd: Runner = async (job) => {
  const started = performance.now();
  const dir = await prepareScratch(job, 'worker.js');
  const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const scriptPath = join(dir, 'worker.bundle.js');
    await bundleForWorkerd({ entry: join(dir, 'worker.js'), outfile: scriptPath, workingDir: dir });
    const mf = new Miniflare({
      // The bundle is the one module, named here: Miniflare then does not scan it for
      // imports, and leaves a job's import of a computed specifier (a `node:` module
      // under a compatibility flag) to workerd, which refuses it when the flag is off.
      modules: [{ type: 'ESModule', path: scriptPath }],
      // Module names are paths relative to this root; the default (cwd) lies outside the
      // scratch directory and workerd refuses names with `..`.
      modulesRoot: dir,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: [...(job.compatibilityFlags ?? [])],
    });
    try {
      const response = await withTimeout(
        mf.dispatchFetch('http://conformance.test/', { method: 'GET' }),
        timeoutMs,
        'workerd did not answer',
      );
      const text = await response.text();
      let result: unknown;
      try {
        result = JSON.parse(text) as unknown;
      } catch {
        throw new Error(`workerd answered ${response.status} with non-JSON:\n${tail(text)}`);
      }
      return {
        runtime: 'workerd',
        result: crashCheck('workerd', result),
        durationMs: performance.now() - started,
        stderr: '',
      };
    } finally {
      await mf.dispose();
    }
  } finally {
    await removeScratch(dir);
  }
};

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${message} within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Headless Chromium: the package bundled by esbuild for the `browser` condition (as a
 * front-end bundler would), served with a page on 127.0.0.1 (a secure context, so
 * `crypto.subtle` exists), and the job's result read back from the page.
 */
export const runInChromium: Runner = async (job) => {
  const started = performance.now();
  const dir = await prepareScratch(job, 'browser.js');
  const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const server = createServer();
  let browser: Browser | undefined;
  try {
    await build({
      absWorkingDir: dir,
      entryPoints: [join(dir, 'browser.js')],
      outfile: join(dir, 'bundle.js'),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      conditions: ['browser'],
      tsconfigRaw: {},
      logLevel: 'silent',
    });
    const files: Record<string, { type: string; body: string }> = {
      '/': {
        type: 'text/html; charset=utf-8',
        body: '<!doctype html><title>conformance</title><script type="module" src="/bundle.js"></script>',
      },
      '/bundle.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dir, 'bundle.js'), 'utf8'),
      },
    };
    server.on('request', (request, response) => {
      const file = files[request.url ?? ''];
      response.writeHead(file === undefined ? 404 : 200, {
        'content-type': file?.type ?? 'text/plain',
      });
      response.end(file?.body ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${port}/`);
    const handle = await page.waitForFunction(
      () => (globalThis as unknown as { conformance?: Promise<string> }).conformance,
      undefined,
      { timeout: timeoutMs },
    );
    const text = (await handle.jsonValue()) as string;
    let result: unknown;
    try {
      result = JSON.parse(text) as unknown;
    } catch {
      throw new Error(`Chromium returned non-JSON:\n${tail(text)}\n${errors.join('\n')}`);
    }
    return {
      runtime: 'chromium',
      result: crashCheck('chromium', result),
      durationMs: performance.now() - started,
      stderr: errors.join('\n'),
    };
  } finally {
    await browser?.close();
    server.close();
    await removeScratch(dir);
  }
};

/** The runner of each runtime. */
export const runners: Readonly<Record<RuntimeName, Runner>> = Object.freeze({
  node: runInNode,
  bun: runInBun,
  deno: runInDeno,
  workerd: runInWorkerd,
  chromium: runInChromium,
});
