/**
 * The bin's top-level help: its commands, where the password and the input come from, and
 * the exit codes.
 */
import type { Command } from './command.js';
import { DEFAULT_PASSWORD_ENV } from './password-source.js';

/** The top-level `--help` text, listing `commands`. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 4;
  const list = commands
    .map((command) => `  ${command.name.padEnd(width)}${command.summary}`)
    .join('\n');
  return `Usage: sealed-session <command> [options]

Seal, unseal and inspect iron Fe26.2 session tokens (the cookies of sealed-session,
h3/vinxi, @hapi/iron and iron-session).

Commands:
${list}

Options:
  -h, --help    show help; 'sealed-session <command> --help' for a command
  --version     print the version

seal and unseal read the password from ${DEFAULT_PASSWORD_ENV},
--password-env NAME or --password-file PATH; never from the command line.
Input is read from stdin when the DATA or TOKEN argument is '-' or absent. Pass
tokens on stdin ('sealed-session unseal < token.txt'): an argument is visible to
other users of the machine in \`ps\`.

Exit codes: 0 ok, 1 invalid token, data or password, 2 usage error.
`;
}
