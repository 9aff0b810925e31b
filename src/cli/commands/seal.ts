import { seal, type PasswordInput } from '../../iron/index.js';
import { stringOption } from '../args.js';
import { inputError, usageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { loadPassword, PASSWORD_HELP, PASSWORD_OPTIONS } from '../password-source.js';

/** Seconds as a whole number; the token's expiration is written in milliseconds. */
function parseTtl(text: string | undefined): number {
  if (text === undefined) return 0;
  const seconds = /^\d{1,12}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seconds * 1000)) {
    throw usageError('--ttl takes a whole number of seconds (0 for no expiration)');
  }
  return seconds;
}

/** `sealed-session seal`: JSON in, Fe26.2 token out. */
export const sealCommand: Command = {
  name: 'seal',
  summary: 'seal JSON data into a token',
  options: {
    ttl: { type: 'string' },
    'password-id': { type: 'string' },
    ...PASSWORD_OPTIONS,
  },
  help: `Usage: sealed-session seal [DATA|-] [options]

Seals JSON DATA into an Fe26.2 token and prints the token. DATA is read from stdin
when it is '-' or absent.

Options:
  --ttl SECONDS          token lifetime; 0 (the default) writes no expiration
  --password-id ID       write ID (letters, digits, _) into the token, for rotation
  --password-env NAME    read the password from the environment variable NAME
  --password-file PATH   read the password from a file
  -h, --help             show this help

${PASSWORD_HELP}

Example:
  export SEALED_SESSION_PASSWORD="$(sealed-session password)"
  sealed-session seal '{"user":"ada"}' --ttl 3600
`,
  async run(args, io) {
    const ttl = parseTtl(stringOption(args, 'ttl'));
    const id = stringOption(args, 'password-id');
    let password: PasswordInput = await loadPassword(args, io);
    if (id !== undefined) {
      if (typeof password !== 'string') {
        throw usageError('--password-id needs a plain password, not a JSON object');
      }
      password = { id, secret: password };
    }
    const text = await readInput('seal', 'DATA', args.positionals, io);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the input: never show it.
      throw inputError('ERR_DATA_INVALID', 'the data is not valid JSON');
    }
    const token = await seal(data, password, { ttl: ttl * 1000 });
    io.out(`${token}\n`);
  },
};
