/**
 * `sealed-session password`: a new random password to seal with.
 */
import { randomBytes } from 'node:crypto';
import { stringOption } from '../args.js';
import { usageError } from '../cli-error.js';
import type { Command } from '../command.js';

const MIN_BYTES = 32;
const MAX_BYTES = 1024;

/** `sealed-session password`: a new random password. */
export const passwordCommand: Command = {
  name: 'password',
  summary: 'print a new random password (32 bytes, base64url)',
  options: { bytes: { type: 'string' } },
  help: `Usage: sealed-session password [--bytes N]

Prints a new password: N random bytes (default ${MIN_BYTES}: 256 bits) from the system's
CSPRNG, base64url without padding (43 characters for 32 bytes).

Options:
  --bytes N    number of random bytes, ${MIN_BYTES} to ${MAX_BYTES}
  -h, --help   show this help

Example:
  sealed-session password > session.key && chmod 600 session.key
  sealed-session seal '{"n":1}' --password-file session.key
`,
  run(args, io) {
    const text = stringOption(args, 'bytes');
    const bytes = text === undefined ? MIN_BYTES : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(bytes >= MIN_BYTES && bytes <= MAX_BYTES)) {
      throw usageError(`--bytes takes a whole number from ${MIN_BYTES} to ${MAX_BYTES}`);
    }
    if (args.positionals.length > 0) throw usageError('password takes no arguments');
    io.out(`${randomBytes(bytes).toString('base64url')}\n`);
    return Promise.resolve();
  },
};
