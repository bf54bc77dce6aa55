import { Command } from 'commander';
import { registerKeyCommands } from './commands/keys';
import { registerMemberCommands } from './commands/members';
import { registerSecretHolderCommands } from './commands/secret-holders';
import { registerSessionCommands } from './commands/sessions';
import { registerTenantCommands } from './commands/tenants';
import { registerTokenCommands } from './commands/tokens';
import { type CliEnvironment, CliSession, type ContextFactory } from './context';
import { EXIT, reportError } from './exit';
import type { Io } from './output';

export { EXIT } from './exit';
export type { CliEnvironment } from './context';

/**
 * `gatehouse`: tenants, API keys, services, signers, members, sessions and development tokens, against local mode
 * (`--local`) or a deployed stack (`--table`). Returns the exit code; never calls process.exit.
 */
export async function runCli(argv: readonly string[], cli: CliEnvironment): Promise<number> {
  const session = new CliSession(cli);
  const program = createProgram(cli.io, session.context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return reportError(err, cli.io, argv.includes('--json'));
  } finally {
    session.destroy();
  }
}

/** The program: its global options and help, and every command group in the order `--help` lists them. */
function createProgram(io: Io, context: ContextFactory): Command {
  const program = new Command('gatehouse')
    .description('Manage Gatehouse: tenants, API keys, service and signer secrets, members, sessions (and dev tokens in local mode).')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('--local', 'act on the running local mode (`npm start`)')
    .option('--table <name>', 'the deployed table (stack output TableName; or GATEHOUSE_TABLE)')
    .option('--config <file>', 'stack configuration the stack was deployed with (default config/gatehouse.example.json; or GATEHOUSE_CONFIG_FILE)')
    .option('--rest-api-id <id>', 'the deployed REST API, for usage-plan keys and --flush (stack output RestApiId; or GATEHOUSE_REST_API_ID)')
    .option('--stack-name <name>', 'the deployed stack, for the names of the secrets it creates (default Gatehouse; or GATEHOUSE_STACK_NAME)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addHelpText(
    'after',
    `
Exit codes: 0 done, 1 AWS or unexpected failure, 2 bad usage or input, 3 not found, 4 conflict (exists, suspended, revoked).
AWS clients use the standard SDK environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...); --local sets it
from .local/cli-target.json, which \`npm start\` writes.`,
  );
  registerTenantCommands(program, context);
  registerKeyCommands(program, context);
  registerSecretHolderCommands(program, context);
  registerMemberCommands(program, context);
  registerSessionCommands(program, context);
  registerTokenCommands(program, context);
  return program;
}
