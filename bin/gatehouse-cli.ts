#!/usr/bin/env node
/**
 * The `gatehouse` command-line tool (`npx gatehouse --help`): tenants, API keys, services, members, sessions and
 * development tokens. The commands live in bin/cli/commands/, wired by bin/cli/program.ts; this is the process
 * wrapper.
 */
import { runCli } from './cli/program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
runCli(process.argv.slice(2), {
  io: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
  env: process.env,
  root: process.env.GATEHOUSE_ROOT ?? process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: unexpected failure: ${(err as Error).name}\n`);
    process.exitCode = 1;
  },
);
