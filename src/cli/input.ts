import { usageError } from './cli-error.js';
import type { Io } from './io.js';

/**
 * The one input of a command: its argument, or stdin when the argument is `-` or absent.
 * Absent with an interactive stdin is a usage error rather than a silent wait.
 *
 * @throws CliError (exit 2) on extra arguments or nothing to read
 */
export async function readInput(
  command: string,
  what: 'DATA' | 'TOKEN',
  positionals: readonly string[],
  io: Io,
): Promise<string> {
  if (positionals.length > 1) {
    throw usageError(
      `${command} takes one ${what} argument; quote it (a shell splits and expands unquoted JSON and '*')`,
    );
  }
  const argument = positionals[0];
  if (argument !== undefined && argument !== '-') return argument;
  if (argument === undefined && io.stdinIsTerminal) {
    throw usageError(`no ${what} given: pass it as an argument, or pipe it in`);
  }
  return io.readStdin();
}
