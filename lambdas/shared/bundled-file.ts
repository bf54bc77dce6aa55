import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../contract/config-error';

/**
 * The text of a file the stack bundled next to a function's code (contract/bundled-config.ts), or undefined when the
 * bundle has none (a function run another way: its caller falls back to the environment). Any other failure throws,
 * naming the file, never quoting it. Read once, at cold start.
 */
export function readBundledFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(`${path.basename(file)} cannot be read (${code})`);
  }
}
