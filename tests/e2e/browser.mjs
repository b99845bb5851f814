// Shared by the console's browser tests: Debian's Chromium under puppeteer-core, killed with the
// test, and the folder screenshots go to. A missing Chromium fails the test: a console nobody
// clicked through is not tested.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** $VERDICT_SCREENSHOTS (docs/screenshots to refresh the committed ones), else a temporary one. */
export function screenshotFolder() {
  const shots = process.env.VERDICT_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'verdict-shots-'));
  mkdirSync(shots, { recursive: true });
  return shots;
}

/** A headless Chromium, or exit 1 when it is not installed. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    console.error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh --test)`);
    process.exit(1);
  }
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu', '--no-first-run', '--font-render-hinting=none'],
  });
  process.on('exit', () => browser.process()?.kill('SIGKILL'));
  return browser;
}
