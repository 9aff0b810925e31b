/**
 * The bin's entry point: picks the command from the first argument, parses the rest and
 * turns whatever fails into an exit code and one line on stderr.
 */
import { parseCommandArgs, unknownOptionError } from './args.js';
import { describeFailure, usageError, type CliError } from './cli-error.js';
import type { Command } from './command.js';
import { inspectCommand } from './commands/inspect.js';
import { passwordCommand } from './commands/password.js';
import { sealCommand } from './commands/seal.js';
import { unsealCommand } from './commands/unseal.js';
import type { Io } from './io.js';
import { closest } from './suggest.js';
import { mainHelp } from './usage.js';
import { packageVersion } from './version.js';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  sealCommand,
  unsealCommand,
  inspectCommand,
  passwordCommand,
];

function find(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** A word that names no command; it is not shown (it may be a token or a password). */
function unknownCommandError(word: string, position: number): CliError {
  const names = COMMANDS.map((command) => command.name);
  const suggestion = closest(word, names);
  const hint =
    suggestion === undefined ? `one of ${names.join(', ')}` : `did you mean ${suggestion}?`;
  return usageError(
    `unknown command in argument ${position}: ${hint} (see 'sealed-session --help')`,
  );
}

async function dispatch(argv: readonly string[], io: Io): Promise<void> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    const names = COMMANDS.map((command) => command.name).join(', ');
    throw usageError(`no command given: one of ${names} (see 'sealed-session --help')`);
  }
  if (first === '--help' || first === '-h') {
    io.out(mainHelp(COMMANDS));
    return;
  }
  if (first === '--version') {
    io.out(`${packageVersion()}\n`);
    return;
  }
  if (first === 'help') {
    const topic = rest[0] === undefined ? undefined : find(rest[0]);
    if (rest[0] !== undefined && topic === undefined) throw unknownCommandError(rest[0], 2);
    io.out(topic === undefined ? mainHelp(COMMANDS) : topic.help);
    return;
  }
  const command = find(first);
  if (command === undefined) {
    if (!first.startsWith('-')) throw unknownCommandError(first, 1);
    // The name as parseArgs would see it: dashes off, any `=value` dropped.
    const name = first.replace(/^-{1,2}/, '').split('=')[0]!;
    if (first.startsWith(`--${name}=`) && (name === 'help' || name === 'version')) {
      throw usageError(`option --${name} takes no value (see 'sealed-session --help')`);
    }
    throw unknownOptionError(name, 1, undefined, ['help', 'version']);
  }
  const args = parseCommandArgs(command.name, rest, command.options);
  if (args.values['help'] === true) {
    io.out(command.help);
    return;
  }
  await command.run(args, io);
}

/**
 * Runs the bin on `argv` (without node and the script) and returns the exit code: 0 ok,
 * 1 invalid token, data or password, 2 usage. Failures go to stderr as one line.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  try {
    await dispatch(argv, io);
    return 0;
  } catch (error) {
    const { exitCode, line } = describeFailure(error);
    io.err(`${line}\n`);
    return exitCode;
  }
}
