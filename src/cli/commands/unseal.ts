import { unseal } from '../../iron/index.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { loadPassword, PASSWORD_HELP, PASSWORD_OPTIONS } from '../password-source.js';
import { readToken } from '../token-input.js';

/** `sealed-session unseal`: token in, pretty JSON out. */
export const unsealCommand: Command = {
  name: 'unseal',
  summary: 'verify and open a token, print its data as JSON',
  options: { ...PASSWORD_OPTIONS },
  help: `Usage: sealed-session unseal [TOKEN|-] [options]

Verifies an Fe26.2 token (MAC, then expiration with 60 s of clock skew), decrypts it
and prints its data as indented JSON. TOKEN is read from stdin when it is '-' or
absent; quote it on the command line (it contains '*').

Options:
  --password-env NAME    read the password from the environment variable NAME
  --password-file PATH   read the password from a file
  -h, --help             show this help

${PASSWORD_HELP}

Example:
  sealed-session unseal "$TOKEN"
  sealed-session seal '{"n":1}' | sealed-session unseal
`,
  async run(args, io) {
    const password = await loadPassword(args, io);
    const token = readToken(await readInput('unseal', 'TOKEN', args.positionals, io));
    const value = await unseal(token, password);
    io.out(`${JSON.stringify(value, null, 2)}\n`);
  },
};
