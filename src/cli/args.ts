import { parseArgs } from 'node:util';
import { quoteName, usageError } from './cli-error.js';

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** A command's options by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A parsed command line. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h' };

/**
 * Parses a command's arguments with node:util parseArgs. Its strict mode reports errors
 * by quoting the arguments, which may be a token or a password typed in the wrong place,
 * so it runs loose here and the checks below make it strict with messages that only name
 * options.
 *
 * @throws CliError (exit 2) on an unknown option, a missing value or a value for a flag
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  specs: OptionSpecs,
): ParsedArgs {
  const options: OptionSpecs = { ...specs, help: HELP };
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seeHelp = ` (see 'sealed-session ${command} --help')`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (spec === undefined) {
      if (token.name === 'password' || token.name === 'secret') {
        throw usageError(
          'the password is never taken as an argument: use SEALED_SESSION_PASSWORD, --password-env NAME or --password-file PATH',
        );
      }
      throw usageError(`unknown option${quoteName(token.rawName)}${seeHelp}`);
    }
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw usageError(`option ${token.rawName} takes no value${seeHelp}`);
    }
    // Loose parseArgs takes the next argument as the value even when it is another
    // option; strict parseArgs calls that ambiguous, and so do we.
    if (
      spec.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      throw usageError(`option ${token.rawName} needs a value${seeHelp}`);
    }
  }
  const plain: Record<string, string | boolean | undefined> = {};
  // No option is `multiple`, so every value is one string or boolean.
  for (const [name, value] of Object.entries(values) as [string, unknown][]) {
    if (typeof value === 'string' || typeof value === 'boolean') plain[name] = value;
  }
  return { values: plain, positionals };
}

/** The value of string option `name`, if given. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether boolean option `name` is set. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
