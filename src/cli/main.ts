#!/usr/bin/env node
/**
 * The `sealed-session` bin: seal, unseal, inspect Fe26.2 tokens and make passwords.
 * `sealed-session --help` lists the commands.
 */
import { nodeIo } from './io.js';
import { runCli } from './run.js';

// exitCode rather than process.exit(): stdout is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2), nodeIo());
