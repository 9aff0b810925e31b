/**
 * The shape every subcommand of the bin has, so run.ts can list, document and dispatch them alike.
 */
import type { OptionSpecs, ParsedArgs } from './args.js';
import type { Io } from './io.js';

/** One subcommand of the bin. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  /** Options besides `--help`. */
  readonly options: OptionSpecs;
  /** Does the work; throws CliError or SessionError on failure. */
  run(args: ParsedArgs, io: Io): Promise<void>;
}
