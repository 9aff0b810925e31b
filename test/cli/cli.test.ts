/**
 * The `sealed-session` bin as users run it: the BUILT dist/cli/main.js in a child process
 * (`npm test` builds first), with its stdin, stdout, stderr and exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectToken, seal } from '../../src/iron/index.js';
import { PURPOSE_KEY } from '../../src/session/purpose.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'dist', 'cli', 'main.js');

const PASSWORD = 'cli_test_password_that_is_long_enough_0123';
const OTHER_PASSWORD = 'another_password_that_is_also_long_enough_9876';
const BASE64URL_43 = /^[A-Za-z0-9_-]{43}$/;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  /** Environment variables besides PATH; the parent's environment is not inherited. */
  readonly env?: Record<string, string>;
  /** Written to stdin; stdin is closed empty when absent. */
  readonly input?: string;
}

/** Runs `node dist/cli/main.js ...args`. */
function cli(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

const withPassword = (password = PASSWORD): Record<string, string> => ({
  SEALED_SESSION_PASSWORD: password,
});

/** Seals `data` (a JSON text) with the default password source; returns the token. */
async function sealed(data: string, args: readonly string[] = [], password = PASSWORD) {
  const result = await cli(['seal', data, ...args], { env: withPassword(password) });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

/** Failure output: exactly one line, prefixed, without any of `secrets`. */
function expectOneLine(result: Result, exitCode: number, secrets: readonly string[] = []) {
  expect(result.code).toBe(exitCode);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^sealed-session: [^\n]+\n$/);
  for (const secret of secrets) expect(result.stderr).not.toContain(secret);
}

let scratch = '';

beforeAll(async () => {
  if (!existsSync(BIN)) {
    throw new Error(
      `${BIN} is missing: build first with \`npm run build\` (npm test builds before testing)`,
    );
  }
  scratch = await mkdtemp(join(tmpdir(), 'sealed-session-cli-'));
});

afterAll(async () => {
  if (scratch !== '') await rm(scratch, { recursive: true, force: true });
});

describe('the built bin', () => {
  it('starts with a node shebang, so npm can link it as an executable', () => {
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints the package version', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await cli(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it('has --help and -h for the bin and for every command', async () => {
    const main = await cli(['--help']);
    expect(main.code).toBe(0);
    expect((await cli(['-h'])).stdout).toBe(main.stdout);
    for (const command of ['seal', 'unseal', 'inspect', 'password']) {
      expect(main.stdout).toContain(command);
      const result = await cli([command, command === 'inspect' ? '-h' : '--help']);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(new RegExp(`^Usage: sealed-session ${command}`));
    }
    const seal = await cli(['seal', '--help']);
    expect(seal.stdout).toContain('never accepted as an argument');
    expect(seal.stdout).toContain('SEALED_SESSION_PASSWORD');
    expect((await cli(['help', 'unseal'])).stdout).toMatch(/^Usage: sealed-session unseal/);
  });

  it('shows tokens passed on stdin in every example, and says why', async () => {
    const helps = [(await cli(['--help'])).stdout];
    for (const command of ['seal', 'unseal', 'inspect', 'password']) {
      helps.push((await cli([command, '--help'])).stdout);
    }
    let examples = 0;
    for (const help of helps) {
      // The lines of the "Example:" or "Examples:" section, up to the next blank line.
      const section = /^Examples?:\n((?: {2}.*\n)+)/m.exec(help)?.[1] ?? '';
      for (const line of section.split('\n')) {
        // A command line that reads a token: the token comes from a pipe or a file.
        const reader = /sealed-session (unseal|inspect)\b(.*)/.exec(line);
        if (reader === null) continue;
        examples++;
        expect(line).toMatch(/\| sealed-session (unseal|inspect)\b|<\s*\S+/);
        expect(reader[2]).not.toMatch(/\$TOKEN|Fe26/);
      }
    }
    expect(examples).toBeGreaterThanOrEqual(4);
    for (const command of ['unseal', 'inspect']) {
      const help = (await cli([command, '--help'])).stdout;
      expect(help.replace(/\s+/g, ' ')).toContain('visible to other users of the machine in `ps`');
      expect(help).toMatch(new RegExp(`\\| sealed-session ${command}`));
      expect(help).toMatch(new RegExp(`sealed-session ${command}[^\\n]*< token\\.txt`));
    }
    expect(helps[0]!.replace(/\s+/g, ' ')).toContain(
      'visible to other users of the machine in `ps`',
    );
  });
});

describe('seal and unseal', () => {
  it('round-trips JSON passed as arguments', async () => {
    const data = { user: 'ada', n: 1, nested: { list: [1, 'two', null, true] }, text: 'ü €' };
    const token = await sealed(JSON.stringify(data));
    expect(token).toMatch(/^Fe26\.2\*\*/);
    const result = await cli(['unseal', token], { env: withPassword() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${JSON.stringify(data, null, 2)}\n`);
  });

  it('round-trips through stdin, with "-" and with no argument', async () => {
    const env = withPassword();
    const sealedStdin = await cli(['seal'], { env, input: '{"cart":[1,2,3]}\n' });
    expect(sealedStdin.code).toBe(0);
    const token = sealedStdin.stdout.trim();
    const dash = await cli(['unseal', '-'], { env, input: `${token}\n` });
    expect(dash.code).toBe(0);
    expect(JSON.parse(dash.stdout)).toEqual({ cart: [1, 2, 3] });

    const sealedDash = await cli(['seal', '-'], { env, input: '"just a string"' });
    const absent = await cli(['unseal'], { env, input: sealedDash.stdout });
    expect(absent.code).toBe(0);
    expect(JSON.parse(absent.stdout)).toBe('just a string');
  });

  it('reads the password from the variable named by --password-env', async () => {
    const env = { MY_SESSION_KEY: OTHER_PASSWORD };
    const sealedResult = await cli(['seal', '{"a":1}', '--password-env', 'MY_SESSION_KEY'], {
      env,
    });
    expect(sealedResult.code).toBe(0);
    const token = sealedResult.stdout.trim();
    const opened = await cli(['unseal', token, '--password-env=MY_SESSION_KEY'], { env });
    expect(JSON.parse(opened.stdout)).toEqual({ a: 1 });
    // The default variable holds another password: it must not have been used.
    const wrong = await cli(['unseal', token], { env: withPassword() });
    expectOneLine(wrong, 1, [token, PASSWORD]);
  });

  it('reads the password from --password-file, trailing newline trimmed', async () => {
    const file = join(scratch, 'password-lf');
    const crlf = join(scratch, 'password-crlf');
    await writeFile(file, `${OTHER_PASSWORD}\n`);
    await writeFile(crlf, `${OTHER_PASSWORD}\r\n`);
    const sealedResult = await cli(['seal', '[1,2]', '--password-file', file]);
    expect(sealedResult.code).toBe(0);
    const token = sealedResult.stdout.trim();
    const opened = await cli(['unseal', token, '--password-file', crlf]);
    expect(JSON.parse(opened.stdout)).toEqual([1, 2]);
    // Same secret from the environment: the newline was not part of the password.
    const fromEnv = await cli(['unseal', token], { env: withPassword(OTHER_PASSWORD) });
    expect(fromEnv.code).toBe(0);
  });

  it('wraps the password with --password-id and unseals with a rotation map', async () => {
    const old = await sealed('{"v":"old"}', ['--password-id', '1']);
    const unnamed = await sealed('{"v":"default"}', [], OTHER_PASSWORD);
    const map = JSON.stringify({ '2': OTHER_PASSWORD, '1': PASSWORD, default: OTHER_PASSWORD });
    const env = { SEALED_SESSION_PASSWORD: map };
    const openedOld = await cli(['unseal', old], { env });
    expect(openedOld.code).toBe(0);
    expect(JSON.parse(openedOld.stdout)).toEqual({ v: 'old' });
    const openedDefault = await cli(['unseal', unnamed], { env });
    expect(JSON.parse(openedDefault.stdout)).toEqual({ v: 'default' });

    // Sealing with a map uses the highest numeric id.
    const fresh = await cli(['seal', '{"v":"new"}'], { env });
    expect(fresh.code).toBe(0);
    const token = fresh.stdout.trim();
    const inspected = await cli(['inspect', token, '--json']);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ passwordId: '2' });
    const openedNew = await cli(['unseal', token], {
      env: { SEALED_SESSION_PASSWORD: `{"2":"${OTHER_PASSWORD}"}` },
    });
    expect(JSON.parse(openedNew.stdout)).toEqual({ v: 'new' });

    // A map without the token's id.
    const missing = await cli(['unseal', old], {
      env: { SEALED_SESSION_PASSWORD: JSON.stringify({ '7': PASSWORD }) },
    });
    expectOneLine(missing, 1, [old, PASSWORD]);
    expect(missing.stderr).toContain('ERR_PASSWORD_NOT_FOUND');
  });
});

describe('inspect', () => {
  const cookieValue = (name: string, token: string) =>
    `${name}=${token}; Path=/; HttpOnly; Secure; SameSite=Lax`;

  it('shows a token without password id or expiration, as text and JSON', async () => {
    const token = await sealed('{"a":1}');
    const text = await cli(['inspect', token]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^format\s+Fe26\.2$/m);
    expect(text.stdout).toMatch(/^password id\s+\(none\)$/m);
    expect(text.stdout).toMatch(/^expiration\s+never$/m);
    expect(text.stdout).toMatch(/^encryption salt\s+present, 64 hex characters$/m);
    expect(text.stdout).toMatch(/^iv\s+[\w-]{22} \(16 bytes\)$/m);
    expect(text.stdout).toMatch(/^ciphertext\s+16 bytes$/m);
    expect(text.stdout).toContain(`${token.length} characters`);
    expect(text.stdout).toContain('Set-Cookie: h3=<token>; Path=/; HttpOnly; Secure; SameSite=Lax');
    expect(text.stdout).toContain(`fits: ${cookieValue('h3', token).length} of 4096 bytes`);
    expect(text.stdout).not.toContain(token);

    const json = await cli(['inspect', '--json'], { input: token });
    expect(json.code).toBe(0);
    // The library's inspector, printed as it answers.
    expect(JSON.parse(json.stdout)).toEqual(inspectToken(token));
    const iv = token.split('*')[3];
    expect(JSON.parse(json.stdout)).toEqual({
      format: 'Fe26.2',
      passwordId: null,
      expiration: null,
      encryptionSalt: { present: true, length: 64 },
      integritySalt: { present: true, length: 64 },
      iv,
      ivBytes: 16,
      ciphertextBytes: 16,
      tokenLength: token.length,
      cookie: {
        name: 'h3',
        setCookie: 'Set-Cookie: h3=<token>; Path=/; HttpOnly; Secure; SameSite=Lax',
        bytes: cookieValue('h3', token).length,
        limit: 4096,
        fits: true,
      },
    });
  });

  it('shows the password id and the expiration of a token with a ttl', async () => {
    const before = Date.now();
    const token = await sealed('{"a":1}', ['--ttl', '3600', '--password-id', 'k2025']);
    const after = Date.now();
    const json = await cli(['inspect', token, '--json', '--name', 'my_session']);
    const description = JSON.parse(json.stdout) as {
      passwordId: string;
      expiration: { ms: number; iso: string; past: boolean };
      cookie: { name: string; bytes: number; fits: boolean };
    };
    expect(description.passwordId).toBe('k2025');
    expect(description.expiration.ms).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(description.expiration.ms).toBeLessThanOrEqual(after + 3_600_000);
    expect(description.expiration.iso).toBe(new Date(description.expiration.ms).toISOString());
    expect(description.expiration.past).toBe(false);
    expect(description.cookie).toMatchObject({
      name: 'my_session',
      bytes: cookieValue('my_session', token).length,
      fits: true,
    });

    const text = await cli(['inspect', token]);
    expect(text.stdout).toMatch(/^password id\s+k2025$/m);
    expect(text.stdout).toContain(`${description.expiration.iso} (in the future)`);
  });

  it('says when the expiration has passed, and unseal refuses the token', async () => {
    // Sealed as if two hours ago, with a one-minute ttl.
    const token = await seal({ a: 1 }, PASSWORD, {
      ttl: 60_000,
      localtimeOffsetMsec: -7_200_000,
    });
    const text = await cli(['inspect', token]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^expiration\s+\S+Z \(past: expired\)$/m);
    expect(JSON.parse((await cli(['inspect', token, '--json'])).stdout)).toMatchObject({
      expiration: { past: true },
    });
    const opened = await cli(['unseal', token], { env: withPassword() });
    expectOneLine(opened, 1, [token, PASSWORD]);
    expect(opened.stderr).toContain('ERR_SEAL_EXPIRED');
  });

  it('says that a 5 KB token does not fit a cookie', async () => {
    const data = JSON.stringify({ blob: 'x'.repeat(3_700) });
    const result = await cli(['seal', '-'], { env: withPassword(), input: data });
    const token = result.stdout.trim();
    expect(token.length).toBeGreaterThan(5_000);
    const text = await cli(['inspect', '-'], { input: token });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/does not fit: \d+ bytes, over the 4096-byte limit/);
    const json = await cli(['inspect', token, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      cookie: { fits: false, limit: 4096, bytes: cookieValue('h3', token).length },
    });
  });

  it('exits 1 with one line on a malformed token, without quoting it', async () => {
    const token = await sealed('{"a":1}');
    const malformed = [
      'not a token',
      token.replace('Fe26.2', 'Fe26.1'),
      token.slice(0, -1), // the MAC is one character short
      `${token}*extra`,
      token.replace(/\*[\w-]{22}\*/, '*short*'), // the iv
    ];
    for (const bad of malformed) {
      const asArgument = await cli(['inspect', bad]);
      expectOneLine(asArgument, 1, [bad]);
      // The library's code and message, as the library writes them.
      expect(asArgument.stderr).toBe(
        'sealed-session: ERR_SEAL_INVALID: Not a valid Fe26.2 token\n',
      );
      const opened = await cli(['unseal', bad], { env: withPassword() });
      expectOneLine(opened, 1, [bad, PASSWORD]);
      expect(opened.stderr).toBe(asArgument.stderr);
    }
    const fromStdin = await cli(['inspect'], { input: `${malformed[2]!}\n` });
    expectOneLine(fromStdin, 1, [malformed[2]!]);
  });
});

describe('failures', () => {
  it('exits 1 with ERR_SEAL_UNSEAL_FAILED on a wrong password or a tampered token', async () => {
    const token = await sealed('{"secret":"data-never-shown"}');
    const wrong = await cli(['unseal', token], { env: withPassword(OTHER_PASSWORD) });
    expectOneLine(wrong, 1, [token, OTHER_PASSWORD, PASSWORD, 'data-never-shown']);
    expect(wrong.stderr).toBe(
      'sealed-session: ERR_SEAL_UNSEAL_FAILED: The token does not verify with this password\n',
    );

    const parts = token.split('*');
    const ciphertext = parts[4]!;
    parts[4] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
    const tampered = parts.join('*');
    const result = await cli(['unseal', tampered], { env: withPassword() });
    expectOneLine(result, 1, [tampered, PASSWORD]);
    expect(result.stderr).toContain('ERR_SEAL_UNSEAL_FAILED');
  });

  it('exits 1 on invalid JSON data or a password too short, without quoting them', async () => {
    const badJson = await cli(['seal', '{"user": secret-value}'], { env: withPassword() });
    expectOneLine(badJson, 1, ['secret-value', PASSWORD]);
    expect(badJson.stderr).toContain('ERR_DATA_INVALID');

    const short = 'too-short-password';
    const shortSeal = await cli(['seal', '{}'], { env: withPassword(short) });
    expectOneLine(shortSeal, 1, [short]);
    expect(shortSeal.stderr).toContain('ERR_PASSWORD_INVALID');
    const token = await sealed('{}');
    const shortUnseal = await cli(['unseal', token], { env: withPassword(short) });
    expectOneLine(shortUnseal, 1, [short, token]);
    expect(shortUnseal.stderr).toContain('ERR_PASSWORD_INVALID');
  });

  it('exits 2 when no password source is usable', async () => {
    const token = await sealed('{}');
    const cases: [readonly string[], RunOptions][] = [
      [['seal', '{}'], {}],
      [['unseal', token], {}],
      [['seal', '{}'], { env: { SEALED_SESSION_PASSWORD: '' } }],
      [['unseal', token, '--password-env', 'NOT_SET_ANYWHERE'], withPasswordEnv()],
      [['seal', '{}', '--password-file', join(scratch, 'no-such-file')], {}],
      [['seal', '{}', '--password-env', 'A', '--password-file', 'b'], { env: { A: PASSWORD } }],
    ];
    for (const [args, options] of cases) {
      const result = await cli(args, options);
      expectOneLine(result, 2, [token, PASSWORD]);
    }
    const hint = await cli(['seal', '{}']);
    expect(hint.stderr).toContain('SEALED_SESSION_PASSWORD');
  });

  it('refuses a password given as an argument, without echoing it', async () => {
    for (const args of [
      ['seal', '{}', `--password=${PASSWORD}`],
      ['unseal', '--password', PASSWORD, 'x'],
    ]) {
      const result = await cli(args, { env: withPassword() });
      expectOneLine(result, 2, [PASSWORD]);
      expect(result.stderr).toContain('never taken as an argument');
    }
  });

  it('exits 2 on an unknown command or option, or a malformed option', async () => {
    const token = await sealed('{}');
    const cases: (readonly string[])[] = [
      [],
      ['frobnicate'],
      [token], // a token where the command belongs is not echoed
      ['--frobnicate'],
      ['seal', '{}', '--frobnicate'],
      ['seal', '{}', '--ttl'],
      ['seal', '{}', '--ttl', 'soon'],
      ['seal', '{}', '--ttl', '-5'],
      ['seal', '{}', '{}'],
      ['inspect', token, '--json=yes'],
      ['inspect', token, '--name', 'bad name;'],
      ['password', '--bytes', '31'],
      ['password', '--bytes', 'lots'],
      ['help', 'frobnicate'],
    ];
    for (const args of cases) {
      const result = await cli(args, { env: withPassword() });
      expectOneLine(result, 2, [token, PASSWORD]);
    }
    const unknown = await cli(['frobnicate']);
    expect(unknown.stderr).toContain('unknown command in argument 1');
    expect(unknown.stderr).not.toContain('frobnicate');
  });

  it('suggests the command or option meant, by its own name, not the typed one', async () => {
    const command = await cli(['unseel']);
    expectOneLine(command, 2, ['unseel']);
    expect(command.stderr).toContain('did you mean unseal?');
    const option = await cli(['seal', '{}', '--tll', '60'], { env: withPassword() });
    expectOneLine(option, 2, ['tll']);
    expect(option.stderr).toBe(
      "sealed-session: unknown option in argument 3; did you mean --ttl? (see 'sealed-session seal --help')\n",
    );
  });
});

describe('no word of the command line in an error', () => {
  // Typed where a name or a value was expected: any of these could be a password.
  const SECRET = 'Hunter2CorrectHorseBatteryStaple';
  const OTHER_SECRET = 'ZebraQuartzVelvetMango77';

  /** Every `args` fails with `exitCode` and one line holding none of `secrets`. */
  async function expectNoEcho(
    cases: readonly (readonly string[])[],
    exitCode: number,
    secrets: readonly string[],
    options: RunOptions = { env: withPassword() },
  ) {
    for (const args of cases) {
      const result = await cli(args, options);
      // On failure, the assertion names the case.
      expect({ args, code: result.code }).toEqual({ args, code: exitCode });
      expectOneLine(result, exitCode, secrets);
      for (const secret of secrets) {
        expect(result.stdout).not.toContain(secret);
        // Not even in another case: the messages are fixed phrases.
        expect(result.stderr.toLowerCase()).not.toContain(secret.toLowerCase());
      }
    }
  }

  it('names no unknown command or option, wherever it stands', async () => {
    const token = await sealed('{}');
    await expectNoEcho(
      [
        [SECRET],
        [token],
        ['help', SECRET],
        ['help', token],
        [`--${SECRET}`],
        [`-${SECRET}`],
        [`--${SECRET}=${OTHER_SECRET}`],
        ['seal', '{}', `--${SECRET}`],
        ['seal', '{}', `--${SECRET}=${OTHER_SECRET}`],
        ['seal', '{}', `-${SECRET}`], // a group of short options, one per character
        ['seal', `--${SECRET}`, OTHER_SECRET],
        ['unseal', `--${token}`],
        ['unseal', token, `--x${SECRET}`],
        ['inspect', `--${SECRET}`, token],
        ['password', `--${SECRET}`],
        ['password', `-${SECRET}`],
      ],
      2,
      [SECRET, OTHER_SECRET, token, PASSWORD],
    );
  });

  it('refuses the password typed as an option, misspelled or not, without echoing it', async () => {
    await expectNoEcho(
      [
        ['seal', '{}', `--pasword=${SECRET}`],
        ['seal', '{}', '--pasword', SECRET],
        ['seal', '{}', `--passwd=${SECRET}`],
        ['seal', '{}', `--secret=${SECRET}`],
        ['unseal', '-p', SECRET],
        ['unseal', `-p${SECRET}`],
        [`--password=${SECRET}`, 'seal', '{}'],
        ['password', `--password=${SECRET}`],
      ],
      2,
      [SECRET, PASSWORD],
    );
    const result = await cli(['seal', '{}', `--pasword=${SECRET}`], { env: withPassword() });
    expect(result.stderr).toContain('never taken as an argument (argument 3)');
  });

  it('names no unexpected argument', async () => {
    const token = await sealed('{}');
    await expectNoEcho(
      [
        ['seal', '{}', SECRET],
        ['seal', SECRET, token],
        ['unseal', token, SECRET],
        ['unseal', SECRET, token],
        ['inspect', token, SECRET],
        ['password', SECRET],
      ],
      2,
      [SECRET, token, PASSWORD],
    );
  });

  it('names no bad option value', async () => {
    const token = await sealed('{}');
    const missingFile = join(scratch, SECRET);
    await expectNoEcho(
      [
        ['seal', '{}', '--ttl', SECRET],
        ['seal', '{}', `--ttl=${SECRET}`],
        ['seal', '{}', '--ttl', token],
        ['seal', '{}', '--password-env', `${SECRET}!`],
        ['seal', '{}', '--password-env', token],
        ['seal', '{}', '--password-env', SECRET], // a fine name, but not set
        ['unseal', token, '--password-env', `${SECRET}=x`],
        ['seal', '{}', '--password-file', missingFile],
        ['unseal', token, `--password-file=${missingFile}`],
        ['seal', '{}', '--password-env', SECRET, '--password-file', missingFile],
        ['password', '--bytes', SECRET],
        ['password', `--bytes=${SECRET}`],
        ['inspect', token, '--name', `${SECRET};`],
        ['inspect', token, `--json=${SECRET}`],
        ['unseal', token, `--require-purpose=${SECRET}`],
        ['unseal', token, '--require-purpose'], // without --purpose
        ['seal', '{}', `--purpose=${SECRET.repeat(9)}`], // over 256 characters
        ['unseal', token, '--purpose='],
        [`--version=${SECRET}`],
      ],
      2,
      [SECRET, token, PASSWORD],
    );
    // Refused by iron's rule for ids, after the command line was read: exit 1.
    await expectNoEcho([['seal', '{}', '--password-id', `${SECRET}!`]], 1, [SECRET, PASSWORD]);
  });

  it('names neither purpose when they differ', async () => {
    const token = await sealed('{"a":1}', ['--purpose', OTHER_SECRET]);
    await expectNoEcho(
      [
        ['unseal', token, '--purpose', SECRET],
        ['seal', JSON.stringify({ [PURPOSE_KEY]: OTHER_SECRET }), '--purpose', SECRET],
      ],
      1,
      [SECRET, OTHER_SECRET, token, PASSWORD],
    );
  });
});

describe('purpose binding', () => {
  /** The library's session payload: h3's three members, then the purpose. */
  const session = (purpose?: string) => ({
    id: 'session-id',
    createdAt: 1_700_000_000_000,
    data: { user: 'ada' },
    ...(purpose === undefined ? {} : { [PURPOSE_KEY]: purpose }),
  });

  it('seal --purpose adds the purpose member after the others; unseal --purpose opens it', async () => {
    const token = await sealed(JSON.stringify(session()), ['--purpose', 'h3']);
    const opened = await cli(['unseal', '--purpose', 'h3', '--require-purpose'], {
      env: withPassword(),
      input: token,
    });
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    expect(opened.stdout).toBe(`${JSON.stringify(session('h3'), null, 2)}\n`);
    // The library's member name, last, as the library writes it: h3 still reads the rest.
    expect(Object.keys(JSON.parse(opened.stdout) as object)).toEqual([
      'id',
      'createdAt',
      'data',
      PURPOSE_KEY,
    ]);
  });

  it('opens a token sealed as the library seals a session', async () => {
    const token = await seal(session('h3'), PASSWORD, { ttl: 0 });
    const opened = await cli(['unseal', '-', '--purpose=h3'], {
      env: withPassword(),
      input: token,
    });
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.stdout)).toEqual(session('h3'));
  });

  it('refuses a token sealed for another purpose with ERR_PURPOSE_MISMATCH', async () => {
    const library = await seal(session('admin'), PASSWORD, { ttl: 0 });
    const cliSealed = await sealed('{"a":1}', ['--purpose', 'admin']);
    const notAString = await seal({ [PURPOSE_KEY]: 7 }, PASSWORD, { ttl: 0 });
    for (const token of [library, cliSealed, notAString]) {
      for (const extra of [[], ['--require-purpose']]) {
        const result = await cli(['unseal', '--purpose', 'h3', ...extra], {
          env: withPassword(),
          input: token,
        });
        expectOneLine(result, 1, [token, PASSWORD, 'admin']);
        expect(result.stderr).toBe(
          'sealed-session: ERR_PURPOSE_MISMATCH: The token was sealed for another purpose\n',
        );
      }
    }
  });

  it('accepts a token without a purpose unless --require-purpose is given', async () => {
    const h3Token = await seal(session(), PASSWORD, { ttl: 0 }); // as h3 and vinxi seal
    const array = await sealed('[1,2]'); // no members at all
    for (const token of [h3Token, array]) {
      const accepted = await cli(['unseal', '--purpose', 'h3'], {
        env: withPassword(),
        input: token,
      });
      expect(accepted.stderr).toBe('');
      expect(accepted.code).toBe(0);
      const refused = await cli(['unseal', '--purpose', 'h3', '--require-purpose'], {
        env: withPassword(),
        input: token,
      });
      expectOneLine(refused, 1, [token, PASSWORD]);
      expect(refused.stderr).toBe(
        'sealed-session: ERR_PURPOSE_MISSING: The token is not bound to a purpose\n',
      );
    }
    // Without --purpose, unseal checks no purpose at all.
    const bound = await sealed('{"a":1}', ['--purpose', 'admin']);
    const plain = await cli(['unseal'], { env: withPassword(), input: bound });
    expect(JSON.parse(plain.stdout)).toEqual({ a: 1, [PURPOSE_KEY]: 'admin' });
  });

  it('keeps the positional TOKEN working with --purpose', async () => {
    const token = await sealed('{"a":1}', ['--purpose', 'h3']);
    const opened = await cli(['unseal', token, '--purpose', 'h3'], { env: withPassword() });
    expect(JSON.parse(opened.stdout)).toEqual({ a: 1, [PURPOSE_KEY]: 'h3' });
  });

  it('seal --purpose needs an object, and keeps a purpose member only when it is the same', async () => {
    for (const data of ['[1]', '"text"', '1', 'null']) {
      const result = await cli(['seal', data, '--purpose', 'h3'], { env: withPassword() });
      expectOneLine(result, 1, [PASSWORD]);
      expect(result.stderr).toBe(
        'sealed-session: ERR_DATA_INVALID: with --purpose, the data must be a JSON object\n',
      );
    }
    for (const purpose of ['admin', 7, null, '']) {
      const data = JSON.stringify({ a: 1, [PURPOSE_KEY]: purpose });
      const result = await cli(['seal', data, '--purpose', 'h3'], { env: withPassword() });
      expectOneLine(result, 1, [PASSWORD, 'admin']);
      expect(result.stderr).toContain('ERR_PURPOSE_MISMATCH');
    }
    const same = await sealed(`{"${PURPOSE_KEY}":"h3","a":1}`, ['--purpose', 'h3']);
    const opened = await cli(['unseal', '--purpose', 'h3'], { env: withPassword(), input: same });
    expect(opened.stdout).toBe(`${JSON.stringify({ [PURPOSE_KEY]: 'h3', a: 1 }, null, 2)}\n`);
  });

  it('refuses a --purpose the library would refuse, as a usage error', async () => {
    const token = await sealed('{}');
    for (const args of [
      ['seal', '{}', '--purpose='],
      ['seal', '{}', `--purpose=${'p'.repeat(257)}`],
      ['unseal', token, '--purpose='],
      ['unseal', token, '--purpose'],
      ['unseal', token, '--require-purpose'],
    ]) {
      const result = await cli(args, { env: withPassword() });
      expectOneLine(result, 2, [token, PASSWORD, 'p'.repeat(257)]);
    }
    const tooLong = await cli(['seal', '{}', `--purpose=${'p'.repeat(257)}`], {
      env: withPassword(),
    });
    expect(tooLong.stderr).toBe(
      'sealed-session: ERR_CONFIG_INVALID: Invalid session config: --purpose must be a string of 1 to 256 characters\n',
    );
    const longest = await sealed('{}', ['--purpose', 'p'.repeat(256)]);
    expect(longest).toMatch(/^Fe26\.2\*\*/);
  });

  it('inspect reads no purpose (it is encrypted) and says so', async () => {
    const help = await cli(['inspect', '--help']);
    expect(help.stdout).toContain('a purpose is sealed inside');
    const token = await sealed('{"a":1}', ['--purpose', 'admin']);
    const json = await cli(['inspect', '--json'], { input: token });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('admin');
  });
});

describe('password', () => {
  it('prints 32 random bytes as 43 base64url characters, new on every run', async () => {
    const first = await cli(['password']);
    const second = await cli(['password']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(second.stdout.trim()).toMatch(BASE64URL_43);
    expect(second.stdout).not.toBe(first.stdout);
  });

  it('prints more bytes with --bytes, and the output seals', async () => {
    const result = await cli(['password', '--bytes', '64']);
    expect(result.stdout).toMatch(/^[A-Za-z0-9_-]{86}\n$/);
    const password = result.stdout.trim();
    const token = await sealed('{"ok":true}', [], password);
    const opened = await cli(['unseal', token], { env: withPassword(password) });
    expect(JSON.parse(opened.stdout)).toEqual({ ok: true });
  });
});

/** An environment with the default variable set, to show --password-env does not fall back. */
function withPasswordEnv(): RunOptions {
  return { env: { SEALED_SESSION_PASSWORD: PASSWORD } };
}
