/**
 * The `--purpose NAME` option of seal and unseal: the purpose member the library writes into
 * the session tokens it seals, so that a token made for one use never opens as another.
 */
import { isSessionError } from '../errors.js';
import { PURPOSE_KEY, validatePurpose } from '../session/purpose.js';
import { stringOption, type OptionSpecs, type ParsedArgs } from './args.js';
import { CliError, inputError } from './cli-error.js';

/** The option itself, for a command's option specs. */
export const PURPOSE_OPTION: OptionSpecs = { purpose: { type: 'string' } };

/**
 * The purpose given with `--purpose`, checked by the library's own rule (so the CLI seals
 * nothing the library would refuse to read). The value is never shown: it came from the
 * command line.
 *
 * @throws CliError (exit 2) `ERR_CONFIG_INVALID` when the name breaks the rule
 */
export function purposeOption(args: ParsedArgs): string | undefined {
  const purpose = stringOption(args, 'purpose');
  if (purpose === undefined) return undefined;
  try {
    return validatePurpose(purpose, '--purpose');
  } catch (error) {
    // A bad option is a usage error (exit 2); the library's code and message still tell why.
    if (isSessionError(error)) throw new CliError(2, error.message, error.code);
    throw error;
  }
}

/** Whether `value` is a JSON object, the only kind of sealed value that has members. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The purpose member `value` carries, `undefined` when it has none. */
function purposeOf(value: unknown): unknown {
  return isJsonObject(value) && Object.hasOwn(value, PURPOSE_KEY) ? value[PURPOSE_KEY] : undefined;
}

/**
 * `data` with its purpose member set to `purpose`, as the library seals a session: only an
 * object has members, and a purpose already there must be the same one (overwriting it
 * would turn a token made for one use into another silently).
 *
 * @throws CliError (exit 1) `ERR_DATA_INVALID` (not an object), `ERR_PURPOSE_MISMATCH`
 */
export function bindPurpose(data: unknown, purpose: string): Record<string, unknown> {
  if (!isJsonObject(data)) {
    throw inputError('ERR_DATA_INVALID', 'with --purpose, the data must be a JSON object');
  }
  const current = purposeOf(data);
  if (current !== undefined && current !== purpose) {
    throw inputError(
      'ERR_PURPOSE_MISMATCH',
      `the data already has a ${PURPOSE_KEY} member, and not the one given to --purpose`,
    );
  }
  // Appended when new, so h3's { id, createdAt, data } order is kept, as the library does.
  return { ...data, [PURPOSE_KEY]: purpose };
}
