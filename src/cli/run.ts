import { parseCommandArgs } from './args.js';
import { describeFailure, quoteName, usageError } from './cli-error.js';
import type { Command } from './command.js';
import { inspectCommand } from './commands/inspect.js';
import { passwordCommand } from './commands/password.js';
import { sealCommand } from './commands/seal.js';
import { unsealCommand } from './commands/unseal.js';
import type { Io } from './io.js';
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
    if (rest[0] !== undefined && topic === undefined) {
      throw usageError(`unknown command${quoteName(rest[0])} (see 'sealed-session --help')`);
    }
    io.out(topic === undefined ? mainHelp(COMMANDS) : topic.help);
    return;
  }
  const command = find(first);
  if (command === undefined) {
    throw usageError(
      first.startsWith('-')
        ? `unknown option${quoteName(first)} (see 'sealed-session --help')`
        : `unknown command${quoteName(first)} (see 'sealed-session --help')`,
    );
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
