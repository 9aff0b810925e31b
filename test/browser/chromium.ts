/**
 * Debian's Chromium, headless, as every browser test here starts it (.ci/run installs the
 * package). The flags keep it from reaching for the network: this machine has none, and
 * Chromium's background connections would otherwise fail at every start.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** What a test may add to the common launch. */
export interface LaunchOptions {
  /**
   * More command-line flags, after the common ones (a test that needs host names mapped
   * to the loopback address, say, passes `--host-resolver-rules` here).
   */
  readonly args?: readonly string[] | undefined;
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...(options.args ?? []),
    ],
  });
}
