import path from 'node:path';
import { runCli } from '../../bin/cli/program';
import type { CliRun } from './local';

/**
 * The command-line tool in-process against a deployed-stack target, whose AWS is the emulator (the SDK
 * environment jest's global setup sets, or what a test puts in process.env around the call). `env` is what the tool
 * reads for its own settings (GATEHOUSE_*): by default none, so a developer's shell cannot change a test.
 */
export async function gatehouse(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, env, root: path.resolve(__dirname, '../..') });
  const stdout = out.join('');
  return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) };
}
