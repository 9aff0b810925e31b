/**
 * Every code block in README.md runs as written.
 *
 * - Each ```js block starts with `// examples/<file>.mjs` and is byte-identical to that file,
 *   so the README and examples/ cannot drift. Any other language than js and sh fails.
 * - Each example runs as a user would run it: copied into a scratch project whose
 *   node_modules links `sealed-session` to this repository (the BUILT package: `npm test`
 *   builds first), `h3` to h3 1.x (installed here as `h3-v1`), and `express`, `hono`,
 *   `@hono/node-server`, `redis` and `ioredis` to this repository's copies (the store
 *   examples use the machine's Redis on 127.0.0.1:6379). Node resolves their dependencies from
 *   the links' real paths (no --preserve-symlinks), so nothing else needs linking.
 *   Servers print `Listening on http://localhost:<port>` (PORT=0 picks a free port); two
 *   requests then check the session counter and the cookie's attributes.
 * - The ```sh blocks: the CLI block runs with bash in the scratch project; the block with
 *   `npm install && npm test` must be what .ci/run runs; `npm install sealed-session` is
 *   not run (it would fetch the published package from the registry).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForWorkerd } from '../../tools/bundle-workerd.mjs';
import { assertBuilt } from '../runtimes/runners.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = join(ROOT, 'README.md');
const BIN = join(ROOT, 'node_modules', '.bin');
const CLI_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const PASSWORD = 'readme_examples_password_0123456789_abcdefghij';
const LISTEN_TIMEOUT_MS = 20_000;
const LISTENING = /^Listening on http:\/\/localhost:(\d+)$/m;
const EXAMPLE_MARKER = /^\/\/ (examples\/[A-Za-z0-9_-]+\.mjs)$/;

// ---------------------------------------------------------------------------------------
// README parsing

interface CodeBlock {
  /** First word of the info string (`js`, `sh`...), '' when none. */
  readonly lang: string;
  /** The block's lines, each ending with "\n": what a file made of the block holds. */
  readonly content: string;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
}

/** The fenced code blocks (``` or ~~~, CommonMark's rules for closing) of a Markdown text. */
function fencedBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { fence: string; lang: string; line: number; body: string[] } | undefined;
  markdown.split('\n').forEach((text, index) => {
    if (open === undefined) {
      const start = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(text);
      if (start !== null) {
        const lang = (start[2] ?? '').trim().split(/\s+/)[0] ?? '';
        open = { fence: start[1] ?? '```', lang, line: index + 1, body: [] };
      }
      return;
    }
    const end = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(text);
    const fence = end?.[1];
    if (fence !== undefined && fence[0] === open.fence[0] && fence.length >= open.fence.length) {
      const content = open.body.map((line) => `${line}\n`).join('');
      blocks.push({ lang: open.lang, content, line: open.line });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined)
    throw new Error(`README.md: the code block at line ${open.line} is never closed`);
  return blocks;
}

const readme = readFileSync(README, 'utf8');
const blocks = fencedBlocks(readme);
const jsBlocks = blocks.filter((block) => block.lang === 'js');
const shBlocks = blocks.filter((block) => block.lang === 'sh');

/** `examples/x.mjs` named by a js block's first line, or undefined without the marker. */
function exampleOf(block: CodeBlock): string | undefined {
  return EXAMPLE_MARKER.exec(block.content.split('\n')[0] ?? '')?.[1];
}

/** The one sh block containing `text`. */
function shBlockWith(text: string): CodeBlock {
  const found = shBlocks.filter((block) => block.content.includes(text));
  expect(
    found.map((block) => block.line),
    `sh blocks containing ${text}`,
  ).toHaveLength(1);
  return found[0]!;
}

// ---------------------------------------------------------------------------------------
// The scratch project

/** Links from the scratch project's node_modules to this repository. */
const LINKS: Readonly<Record<string, string>> = {
  'sealed-session': ROOT,
  h3: join(ROOT, 'node_modules', 'h3-v1'),
  express: join(ROOT, 'node_modules', 'express'),
  hono: join(ROOT, 'node_modules', 'hono'),
  '@hono/node-server': join(ROOT, 'node_modules', '@hono', 'node-server'),
  redis: join(ROOT, 'node_modules', 'redis'),
  ioredis: join(ROOT, 'node_modules', 'ioredis'),
};

let scratch = '';

beforeAll(async () => {
  for (const subject of ['sealed-session', 'sealed-session/node', 'sealed-session/fetch']) {
    assertBuilt(subject);
  }
  for (const subject of ['sealed-session/express', 'sealed-session/hono']) assertBuilt(subject);
  scratch = await mkdtemp(join(tmpdir(), 'sealed-session-readme-'));
  // Deno needs a package.json to use node_modules; the dependencies are what a user installs.
  await writeFile(
    join(scratch, 'package.json'),
    JSON.stringify({
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(Object.keys(LINKS).map((name) => [name, '*'])),
    }),
  );
  await mkdir(join(scratch, 'node_modules', '@hono'), { recursive: true });
  await mkdir(join(scratch, 'node_modules', '.bin'));
  for (const [name, target] of Object.entries(LINKS)) {
    if (!existsSync(target)) throw new Error(`${target} is missing: run npm install`);
    await symlink(target, join(scratch, 'node_modules', name), 'dir');
  }
  // As npm links a dependency's bin (the target need not exist yet: the CLI test checks).
  await symlink(CLI_MAIN, join(scratch, 'node_modules', '.bin', 'sealed-session'));
  for (const block of jsBlocks) {
    const example = exampleOf(block);
    if (example !== undefined && existsSync(join(ROOT, example))) {
      await copyFile(join(ROOT, example), join(scratch, example.slice('examples/'.length)));
    }
  }
});

afterAll(async () => {
  if (scratch !== '' && process.env['KEEP_README_SCRATCH'] !== '1') {
    await rm(scratch, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------
// Processes

interface RunningServer {
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

function baseEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}

/** Ends a process group this file started (its own id), SIGKILL when SIGTERM is ignored. */
async function stopGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => {
    signalGroup('SIGKILL');
  }, 3_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a server in the scratch project and waits for its `Listening on` line. */
async function startServer(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: scratch,
    env: baseEnv({ SESSION_PASSWORD: PASSWORD, PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() ends whatever it started
  });
  let stdout = '';
  let stderr = '';
  const output = (): string => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const exited = new Promise<string>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(`exit ${String(code)}, signal ${String(signal)}`);
    });
  });
  const stop = (): Promise<void> => stopGroup(child, exited);
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${command} printed no "Listening on" line within 20 s\n${output()}`));
      }, LISTEN_TIMEOUT_MS);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const port = LISTENING.exec(stdout)?.[1];
        if (port !== undefined) {
          clearTimeout(timer);
          resolve(Number(port));
        }
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`${command} ended before listening (${how})\n${output()}`));
      });
    });
    return { port, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Requests and checks

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly setCookies: readonly string[];
}

/** Any fetch: Node's global one, or Miniflare's dispatchFetch. */
type Fetcher = (
  path: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null; getSetCookie(): string[] };
  text(): Promise<string>;
}>;

async function ask(
  fetcher: Fetcher,
  method: string,
  path: string,
  cookie?: string,
): Promise<Answer> {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie };
  const response = await fetcher(path, { method, headers });
  const text = await response.text();
  expect(response.headers.get('content-type') ?? '', `${method} ${path}: ${text}`).toMatch(
    /^application\/json/,
  );
  return {
    status: response.status,
    body: JSON.parse(text) as unknown,
    setCookies: response.headers.getSetCookie(),
  };
}

/** The attributes of a Set-Cookie header, names lower-cased; `_pair` is `name=value`. */
function attributesOf(setCookie: string): Map<string, string> {
  const [pair = '', ...rest] = setCookie.split(';');
  const attributes = new Map<string, string>([['_pair', pair.trim()]]);
  for (const part of rest) {
    const [name = '', ...value] = part.split('=');
    attributes.set(name.trim().toLowerCase(), value.join('=').trim());
  }
  return attributes;
}

/** Checks the one session cookie of an answer and returns it as a Cookie header. */
function sessionCookie(answer: Answer, name: string): string {
  const ours = answer.setCookies.filter((header) => header.startsWith(`${name}=`));
  expect(ours, `Set-Cookie headers: ${JSON.stringify(answer.setCookies)}`).toHaveLength(1);
  const attributes = attributesOf(ours[0]!);
  expect(attributes.has('httponly'), ours[0]).toBe(true);
  expect(attributes.has('secure'), ours[0]).toBe(true);
  expect(attributes.get('samesite'), ours[0]).toBe('Lax');
  return attributes.get('_pair')!;
}

interface Expectation {
  /** Checks the two answers' bodies. */
  readonly bodies: (first: unknown, second: unknown) => void;
  readonly cookieName: string;
  /** More requests after the first two, with the session cookie. */
  readonly more?: (fetcher: Fetcher, cookie: string) => Promise<void>;
  /**
   * The second answer sets no session cookie: in store mode the first one's reference
   * already says the record exists, and the data changed only in the store.
   */
  readonly secondKeepsCookie?: boolean;
}

const counter: Expectation = {
  cookieName: 'h3',
  bodies(first, second) {
    expect(first).toMatchObject({ visits: 1 });
    expect(second).toMatchObject({ visits: 2 });
  },
};

/** Two GET / (the second with the first's cookie), then `more`. */
async function exercise(fetcher: Fetcher, expectation: Expectation): Promise<void> {
  const first = await ask(fetcher, 'GET', '/');
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  const cookie = sessionCookie(first, expectation.cookieName);
  const second = await ask(fetcher, 'GET', '/', cookie);
  expect(second.status, JSON.stringify(second.body)).toBe(200);
  if (expectation.secondKeepsCookie === true) {
    const name = `${expectation.cookieName}=`;
    expect(second.setCookies.filter((header) => header.startsWith(name))).toEqual([]);
  } else {
    sessionCookie(second, expectation.cookieName);
  }
  expectation.bodies(first.body, second.body);
  await expectation.more?.(fetcher, cookie);
}

function httpFetcher(port: number): Fetcher {
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

// ---------------------------------------------------------------------------------------
// How each example runs

type Runner = (file: string, expectation: Expectation) => Promise<void>;

function serverRunner(
  command: (file: string) => {
    command: string;
    args: readonly string[];
    env?: Record<string, string>;
  },
): Runner {
  return async (file, expectation) => {
    const spec = command(file);
    const server = await startServer(spec.command, spec.args, spec.env);
    try {
      await exercise(httpFetcher(server.port), expectation);
    } catch (error) {
      throw new Error(`${file}: ${String(error)}\n${server.output()}`, { cause: error });
    } finally {
      await server.stop();
    }
  };
}

const underNode = serverRunner((file) => ({ command: process.execPath, args: [file] }));

const underBun = serverRunner((file) => ({
  command: join(BIN, 'bun'),
  args: ['--no-install', file],
  env: { DO_NOT_TRACK: '1' },
}));

/** Deno offline (no remote modules, the scratch node_modules as is, a private cache). */
const underDeno = serverRunner((file) => ({
  command: join(BIN, 'deno'),
  args: [
    'run',
    '--allow-net=127.0.0.1,localhost,0.0.0.0',
    '--allow-env',
    '--allow-read',
    '--no-remote',
    '--cached-only',
    '--no-lock',
    '--no-prompt',
    '--node-modules-dir=manual',
    file,
  ],
  env: { DENO_DIR: join(scratch, '.deno'), DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
}));

/** Bundled as wrangler does (workerd conditions, no nodejs_compat), run in Miniflare. */
const underWorkerd: Runner = async (file, expectation) => {
  const scriptPath = join(scratch, 'worker.bundle.js');
  await bundleForWorkerd({ entry: join(scratch, file), outfile: scriptPath, workingDir: scratch });
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: scratch,
    compatibilityDate: '2025-09-01',
    bindings: { SESSION_PASSWORD: PASSWORD },
  });
  try {
    await exercise((path, init) => mf.dispatchFetch(`http://localhost${path}`, init), expectation);
  } finally {
    await mf.dispose();
  }
};

interface ExampleSpec {
  readonly run: Runner;
  readonly expectation: Expectation;
  readonly timeoutMs: number;
}

/** Every example of the README, with how it runs; a new example must be added here. */
const EXAMPLES: Readonly<Record<string, ExampleSpec>> = {
  'examples/node.mjs': { run: underNode, expectation: counter, timeoutMs: 30_000 },
  'examples/h3.mjs': {
    run: underNode,
    timeoutMs: 30_000,
    expectation: {
      cookieName: 'h3',
      bodies(first, second) {
        const shape = {
          id: expect.any(String) as unknown,
          data: { lastSeen: expect.any(Number) as unknown },
        };
        expect(first).toMatchObject(shape);
        expect(second).toMatchObject(shape);
        expect((second as { id: string }).id).toBe((first as { id: string }).id);
      },
    },
  },
  'examples/express.mjs': {
    run: underNode,
    timeoutMs: 30_000,
    expectation: {
      ...counter,
      async more(fetcher, cookie) {
        const logout = await ask(fetcher, 'POST', '/logout', cookie);
        expect(logout.status).toBe(200);
        expect(logout.body).toEqual({ ok: true });
        const cleared = logout.setCookies.filter((header) => header.startsWith('h3='));
        expect(cleared, JSON.stringify(logout.setCookies)).toHaveLength(1);
        expect(attributesOf(cleared[0]!).get('max-age')).toBe('0');
      },
    },
  },
  'examples/hono.mjs': { run: underNode, expectation: counter, timeoutMs: 30_000 },
  'examples/express-redis.mjs': {
    run: underNode,
    timeoutMs: 30_000,
    expectation: {
      ...counter,
      secondKeepsCookie: true,
      async more(fetcher, cookie) {
        // Signing in moves the session to a new id: a new cookie.
        const login = await ask(fetcher, 'POST', '/login?user=ada', cookie);
        expect(login.status).toBe(200);
        const signedIn = sessionCookie(login, 'h3');
        const devices = await ask(fetcher, 'GET', '/devices', signedIn);
        const { current, sessions } = devices.body as {
          current: string;
          sessions: { id: string }[];
        };
        expect(current).toBe((login.body as { id: string }).id);
        expect(sessions.map((session) => session.id)).toContain(current);
        const everywhere = await ask(fetcher, 'POST', '/logout-everywhere', signedIn);
        expect((everywhere.body as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);
        // The revoked session's cookie now opens a fresh session.
        const after = await ask(fetcher, 'GET', '/', signedIn);
        expect(after.body).toEqual({ visits: 1 });
        const refused = await ask(fetcher, 'GET', '/devices', signedIn);
        expect(refused.status).toBe(401);
      },
    },
  },
  'examples/hono-ioredis.mjs': { run: underNode, expectation: counter, timeoutMs: 30_000 },
  'examples/bun.mjs': { run: underBun, expectation: counter, timeoutMs: 40_000 },
  'examples/deno.mjs': { run: underDeno, expectation: counter, timeoutMs: 40_000 },
  'examples/worker.mjs': { run: underWorkerd, expectation: counter, timeoutMs: 40_000 },
};

// ---------------------------------------------------------------------------------------
// Tests

describe('README code blocks', () => {
  it('are js or sh, and every js block names its examples/ file on its first line', () => {
    expect(blocks.length).toBeGreaterThan(0);
    const strays = blocks
      .filter((block) => block.lang !== 'js' && block.lang !== 'sh')
      .map((block) => `line ${block.line}: \`\`\`${block.lang}`);
    expect(strays, 'code blocks of another language than js or sh').toEqual([]);
    const unmarked = jsBlocks
      .filter((block) => exampleOf(block) === undefined)
      .map((block) => `line ${block.line}: ${block.content.split('\n')[0] ?? ''}`);
    expect(unmarked, 'js blocks without a first line `// examples/<file>.mjs`').toEqual([]);
  });

  it('each js block is byte-identical to its examples/ file, and every example is in README', () => {
    const named = jsBlocks.map(exampleOf).filter((file) => file !== undefined);
    expect(new Set(named).size, 'an examples/ file named by two blocks').toBe(named.length);
    for (const block of jsBlocks) {
      const file = exampleOf(block);
      if (file === undefined) continue;
      const path = join(ROOT, file);
      expect(existsSync(path), `${file} (README line ${block.line}) does not exist`).toBe(true);
      const onDisk = readFileSync(path);
      expect(
        onDisk.equals(Buffer.from(block.content, 'utf8')),
        `${file} differs from README's block at line ${block.line}`,
      ).toBe(true);
    }
    const files = readdirSync(join(ROOT, 'examples'))
      .filter((name) => name.endsWith('.mjs'))
      .map((name) => `examples/${name}`);
    expect(files.sort(), 'examples/*.mjs files that README does not show').toEqual(
      [...named].sort(),
    );
  });

  it('every example has a way to run it here', () => {
    const named = jsBlocks.map(exampleOf).filter((file) => file !== undefined);
    expect([...named].sort()).toEqual(Object.keys(EXAMPLES).sort());
  });
});

describe('README examples run', () => {
  for (const [file, spec] of Object.entries(EXAMPLES)) {
    it(
      `${file}: two requests share the session; the cookie is HttpOnly, Secure, SameSite=Lax`,
      async () => {
        await spec.run(file.slice('examples/'.length), spec.expectation);
      },
      spec.timeoutMs,
    );
  }
});

describe('README shell blocks', () => {
  it('are each known: install (not run), getting started, CLI', () => {
    const known = ['npm install sealed-session', 'npm install && npm test', 'npx sealed-session'];
    const unknown = shBlocks.filter((block) => !known.some((text) => block.content.includes(text)));
    expect(
      unknown.map((block) => `line ${block.line}`),
      'sh blocks this test does not check',
    ).toEqual([]);
  });

  // Not run: it would install the published package from the registry. Checked to name this one.
  it('the install block installs this package', () => {
    const block = shBlockWith('npm install sealed-session');
    expect(block.content).toBe('npm install sealed-session\n');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
    };
    expect(manifest.name).toBe('sealed-session');
  });

  // Not run here (it would run this suite inside itself): .ci/run runs exactly `npm test`
  // after installing, and `npm start` is the demo's script.
  it('the getting-started block is what CI runs', () => {
    const block = shBlockWith('npm install && npm test');
    const commands = block.content
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter((line) => line !== '');
    expect(commands).toEqual(['npm install && npm start', 'npm install && npm test']);
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).toMatch(/^npm (ci|install)\b/m);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts['test']).toMatch(/^npm run build && /);
    expect(manifest.scripts['start']).toMatch(/^npm run build && node demo\/server\.mjs$/);
    expect(existsSync(join(ROOT, 'demo', 'server.mjs'))).toBe(true);
  });

  it('the CLI block runs with bash and unseals {"user":"ada"}', async () => {
    if (!existsSync(CLI_MAIN)) {
      throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` (\`npm test\` builds first)`);
    }
    // npm makes a bin executable when it installs the package; do the same for the link.
    if ((statSync(CLI_MAIN).mode & 0o111) === 0) await chmod(CLI_MAIN, 0o755);
    const block = shBlockWith('npx sealed-session');
    const script = join(scratch, 'readme-cli.sh');
    await writeFile(script, `set -euo pipefail\n${block.content}`);
    const env = baseEnv({
      // npx must use the linked bin, never fetch a package of that name.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_yes: 'false',
    });
    delete env['SEALED_SESSION_PASSWORD'];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn('bash', [script], {
          cwd: scratch,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 30_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => {
          resolve({ code, stdout, stderr });
        });
      },
    );
    const report = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, report).toBe(0);
    expect(firstJsonObject(result.stdout), report).toEqual({ user: 'ada' });
  }, 40_000);
});

/** The first JSON object in a text (pretty-printed or not), or undefined. */
function firstJsonObject(text: string): unknown {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  for (let end = text.indexOf('}', start); end >= 0; end = text.indexOf('}', end + 1)) {
    try {
      return JSON.parse(text.slice(start, end + 1)) as unknown;
    } catch {
      // not yet the end of the object
    }
  }
  return undefined;
}
