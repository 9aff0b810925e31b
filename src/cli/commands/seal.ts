/**
 * `sealed-session seal`: JSON data in, an Fe26.2 token out, optionally bound to a purpose
 * the way the library binds its session tokens.
 */
import { seal, type PasswordInput } from '../../iron/index.js';
import { stringOption } from '../args.js';
import { inputError, usageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { loadPassword, PASSWORD_HELP, PASSWORD_OPTIONS } from '../password-source.js';
import { bindPurpose, PURPOSE_OPTION, purposeOption } from '../purpose-option.js';

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
    ...PURPOSE_OPTION,
    ...PASSWORD_OPTIONS,
  },
  help: `Usage: sealed-session seal [DATA|-] [options]

Seals JSON DATA into an Fe26.2 token and prints the token. DATA is read from stdin
when it is '-' or absent.

Options:
  --ttl SECONDS          token lifetime; 0 (the default) writes no expiration
  --password-id ID       write ID (letters, digits, _) into the token, for rotation
  --purpose NAME         bind the token to a purpose, as sealed-session binds its
                         sessions (the session name, 'h3' by default): DATA must be a
                         JSON object, and NAME is added as its "purpose" member (DATA
                         that already has another purpose is refused)
  --password-env NAME    read the password from the environment variable NAME
  --password-file PATH   read the password from a file
  -h, --help             show this help

${PASSWORD_HELP}

Examples:
  export SEALED_SESSION_PASSWORD="$(sealed-session password)"
  sealed-session seal '{"user":"ada"}' --ttl 3600 > token.txt
  sealed-session seal '{"email":"ada@example.com"}' --purpose reset --ttl 900 > token.txt
`,
  async run(args, io) {
    const ttl = parseTtl(stringOption(args, 'ttl'));
    const purpose = purposeOption(args);
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
    if (purpose !== undefined) data = bindPurpose(data, purpose);
    const token = await seal(data, password, { ttl: ttl * 1000 });
    io.out(`${token}\n`);
  },
};
