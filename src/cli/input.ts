/**
 * The one input of seal, unseal and inspect: the DATA or TOKEN argument, or stdin.
 */
import { usageError } from './cli-error.js';
import type { Io } from './io.js';

/**
 * The one input of a command: its argument, or stdin when the argument is `-` or absent.
 * Absent with an interactive stdin is a usage error rather than a silent wait. Messages
 * never show the arguments: a second word may be a token split by an unquoted `*`.
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
      what === 'TOKEN'
        ? `${command} takes one TOKEN argument: pipe it in, or quote it (a shell splits and expands an unquoted '*')`
        : `${command} takes one DATA argument; quote it (a shell splits and expands unquoted JSON and '*')`,
    );
  }
  const argument = positionals[0];
  if (argument !== undefined && argument !== '-') return argument;
  if (argument === undefined && io.stdinIsTerminal) {
    // Tokens are better piped: an argument is visible to every user in `ps`.
    throw usageError(
      what === 'TOKEN'
        ? `no TOKEN given: pipe it in ('sealed-session ${command} < token.txt'), or pass it as an argument`
        : 'no DATA given: pass it as an argument, or pipe it in',
    );
  }
  return io.readStdin();
}
