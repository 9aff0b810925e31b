/**
 * The bin's entry point (`runCli`) run inside the test process over an in-memory Io, for
 * coverage-gaps.test.ts: test/cli/cli.test.ts runs the built bin in a child process, which
 * proves the real thing but is invisible to coverage of src/.
 */
import { runCli } from '../../src/cli/run.js';
import type { Io } from '../../src/cli/io.js';

/** What a run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The process a run sees. */
export interface CliWorld {
  readonly env?: Readonly<Record<string, string>>;
  /** Piped into stdin; stdin is a terminal when this is undefined and `terminal` is set. */
  readonly stdin?: string;
  readonly terminal?: boolean;
  /** Readable files by path; any other path fails with ENOENT. */
  readonly files?: Readonly<Record<string, string>>;
  /** Paths whose read fails with an error that has no code. */
  readonly unreadable?: readonly string[];
  readonly now?: number;
  /** stdin fails with this (an Error, or anything else a broken platform might throw). */
  readonly stdinFailure?: unknown;
}

/** Runs `sealed-session ...argv` in-process. */
export async function cli(argv: readonly string[], world: CliWorld = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    env: world.env ?? {},
    stdinIsTerminal: world.terminal ?? false,
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    readStdin: () =>
      world.stdinFailure === undefined
        ? Promise.resolve(world.stdin ?? '')
        : // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as a platform may
          Promise.reject(world.stdinFailure),
    readFile: (path) => {
      if (world.unreadable?.includes(path) === true) {
        return Promise.reject(new Error('unreadable'));
      }
      const content = world.files?.[path];
      if (content !== undefined) return Promise.resolve(content);
      return Promise.reject(Object.assign(new Error('missing'), { code: 'ENOENT' }));
    },
    now: () => world.now ?? Date.now(),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
