/**
 * Where seal and unseal get the password: an environment variable or a file, never the
 * command line, where other users and shell history could read it.
 */
import type { PasswordInput } from '../iron/index.js';
import { stringOption, type OptionSpecs, type ParsedArgs } from './args.js';
import { usageError } from './cli-error.js';
import type { Io } from './io.js';

/** The environment variable read for the password when no other source is named. */
export const DEFAULT_PASSWORD_ENV = 'SEALED_SESSION_PASSWORD';

/** The options every command that needs a password accepts. */
export const PASSWORD_OPTIONS: OptionSpecs = {
  'password-env': { type: 'string' },
  'password-file': { type: 'string' },
};

/** Help text for {@link PASSWORD_OPTIONS}. */
export const PASSWORD_HELP: string = `Password (32+ characters), never accepted as an argument (other users and shell
history could read it):
  (default)              the environment variable ${DEFAULT_PASSWORD_ENV}
  --password-env NAME    the environment variable NAME instead
  --password-file PATH   the content of a file, trailing newline trimmed
A password that is a JSON object is a rotation map, {"2": "<new>", "1": "<old>"}:
unseal looks up the token's password id ("default" for a token without one),
seal uses the highest numeric id.`;

// POSIX names of environment variables.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSON object is a password map (or one `{ id, secret }`); anything else is the text. */
function interpret(text: string): PasswordInput {
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as PasswordInput;
      }
    } catch {
      // Not JSON: a password that happens to start with "{".
    }
  }
  return text;
}

/**
 * Reads the password from the source the options name. Names and paths are never quoted
 * in errors: a password given there by mistake would end up on the terminal.
 *
 * @throws CliError (exit 2) when no usable source is given
 */
export async function loadPassword(args: ParsedArgs, io: Io): Promise<PasswordInput> {
  const envName = stringOption(args, 'password-env');
  const file = stringOption(args, 'password-file');
  if (envName !== undefined && file !== undefined) {
    throw usageError('give either --password-env or --password-file, not both');
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw usageError(
        `cannot read the file given to --password-file${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    text = text.replace(/[\r\n]+$/, '');
    if (text === '') throw usageError('the file given to --password-file is empty');
    return interpret(text);
  }
  if (envName !== undefined && !ENV_NAME.test(envName)) {
    throw usageError('--password-env takes the name of an environment variable');
  }
  const text = io.env[envName ?? DEFAULT_PASSWORD_ENV];
  if (text === undefined || text === '') {
    throw usageError(
      envName === undefined
        ? `no password: set ${DEFAULT_PASSWORD_ENV}, or use --password-env NAME or --password-file PATH`
        : 'no password: the environment variable given to --password-env is not set or empty',
    );
  }
  return interpret(text);
}
