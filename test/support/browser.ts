import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/**
 * The browser suite's Chromium: the system's own (playwright-core downloads none). Looked for, in order, at
 * GATEHOUSE_CHROMIUM, /usr/bin/chromium, then `chromium`, `chromium-browser`, `google-chrome` and
 * `google-chrome-stable` on PATH.
 */
export const INSTALL_HINT = 'install it with `apt-get install -y chromium` (Debian, Ubuntu), or set GATEHOUSE_CHROMIUM to a Chromium or Chrome executable';

export type ChromiumLookup = { readonly found: true; readonly path: string } | { readonly found: false; readonly reason: string };

const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Debian's `chromium` package puts its launcher here. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Finds Chromium without starting it. A GATEHOUSE_CHROMIUM that is not an executable is an error, not a fallback. */
export function findChromium(env: NodeJS.ProcessEnv = process.env, systemChromium = SYSTEM_CHROMIUM): ChromiumLookup {
  const configured = env.GATEHOUSE_CHROMIUM;
  if (configured) {
    return executable(configured)
      ? { found: true, path: configured }
      : { found: false, reason: `GATEHOUSE_CHROMIUM is set to ${configured}, which is not an executable file` };
  }
  if (executable(systemChromium)) return { found: true, path: systemChromium };
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of PATH_NAMES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (executable(file)) return { found: true, path: file };
    }
  }
  return { found: false, reason: `no Chromium found (GATEHOUSE_CHROMIUM unset; not at ${systemChromium}; none of ${PATH_NAMES.join(', ')} on PATH)` };
}

/**
 * `describe` for a suite that drives a real browser. With Chromium found, the suite runs. Without it, in CI
 * (CI=true) the suite fails with the reason; elsewhere it is skipped, and says why and how to install one.
 */
export function describeWithBrowser(name: string, fn: (chromiumPath: () => string) => void): void {
  const lookup = findChromium();
  if (lookup.found) {
    describe(name, () => fn(() => lookup.path));
    return;
  }
  const why = `${lookup.reason}: ${INSTALL_HINT}`;
  if (browserRequired()) {
    describe(name, () => {
      it('has a browser to run in (CI=true: the browser suite must run)', () => {
        throw new Error(`The browser suite cannot run: ${why}. In CI, .ci/run installs it before the tests.`);
      });
    });
    return;
  }
  process.stderr.write(`\n[browser suite] SKIPPED "${name}": ${why}.\n\n`);
  describe.skip(`${name} [skipped: ${lookup.reason}; apt-get install -y chromium]`, () => fn(() => ''));
}

/** Whether a missing browser fails the suite rather than skipping it: in CI (CI=true, as .ci/run and most CI services set). */
export function browserRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true';
}

/** Launch generously: a cold start on a loaded 2-CPU machine can take many seconds. */
export const BROWSER_LAUNCH_TIMEOUT_MS = 120_000;

/** Starts headless Chromium (no sandbox: CI containers run as root). */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: BROWSER_LAUNCH_TIMEOUT_MS,
    args: [
      '--no-sandbox',
      // `localhost` is 127.0.0.1 for every origin of the suite (the servers listen there), never ::1, where
      // another program (a developer's own Vite server) might listen on the same port.
      '--host-resolver-rules=MAP localhost 127.0.0.1',
      '--disable-dev-shm-usage',
    ],
  });
}
