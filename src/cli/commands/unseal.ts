/**
 * `sealed-session unseal`: an Fe26.2 token in, its data out as JSON, optionally refused
 * unless it was sealed for a given purpose, with the library's own check.
 */
import { unseal } from '../../iron/index.js';
import { checkPurpose } from '../../session/purpose.js';
import { flag } from '../args.js';
import { usageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { loadPassword, PASSWORD_HELP, PASSWORD_OPTIONS } from '../password-source.js';
import { isJsonObject, PURPOSE_OPTION, purposeOption } from '../purpose-option.js';
import { readToken, TOKEN_HELP } from '../token-input.js';

/** `sealed-session unseal`: token in, pretty JSON out. */
export const unsealCommand: Command = {
  name: 'unseal',
  summary: 'verify and open a token, print its data as JSON',
  options: {
    ...PURPOSE_OPTION,
    'require-purpose': { type: 'boolean' },
    ...PASSWORD_OPTIONS,
  },
  help: `Usage: sealed-session unseal [TOKEN|-] [options]

Verifies an Fe26.2 token (MAC, then expiration with 60 s of clock skew), decrypts it
and prints its data as indented JSON.

${TOKEN_HELP}

Options:
  --purpose NAME         refuse a token sealed for another purpose (exit 1,
                         ERR_PURPOSE_MISMATCH); sealed-session's sessions carry their
                         session name ('h3' by default). A token without a purpose
                         (h3, vinxi, older versions, or data that is not a JSON object)
                         is accepted, unless --require-purpose is given
  --require-purpose      with --purpose, also refuse a token without a purpose (exit 1,
                         ERR_PURPOSE_MISSING), as the library does when configured to
                         refuse unbound tokens
  --password-env NAME    read the password from the environment variable NAME
  --password-file PATH   read the password from a file
  -h, --help             show this help

${PASSWORD_HELP}

Examples:
  sealed-session unseal < token.txt
  printf '%s' "$TOKEN" | sealed-session unseal --purpose h3 --require-purpose
  sealed-session seal '{"n":1}' | sealed-session unseal
`,
  async run(args, io) {
    const purpose = purposeOption(args);
    const requirePurpose = flag(args, 'require-purpose');
    if (requirePurpose && purpose === undefined) {
      throw usageError('--require-purpose needs --purpose NAME');
    }
    const password = await loadPassword(args, io);
    const token = readToken(await readInput('unseal', 'TOKEN', args.positionals, io));
    const value = await unseal(token, password);
    if (purpose !== undefined) {
      // Only an object has members: any other value carries no purpose.
      checkPurpose(isJsonObject(value) ? value : {}, purpose, !requirePurpose);
    }
    io.out(`${JSON.stringify(value, null, 2)}\n`);
  },
};
