import { Command } from 'commander';
import { registerKeyCommands } from './commands/keys';
import { registerMemberCommands } from './commands/members';
import { registerSecretHolderCommands } from './commands/secret-holders';
import { registerSessionCommands } from './commands/sessions';
import { registerTenantCommands } from './commands/tenants';
import { registerTokenCommands } from './commands/tokens';
import { DEFAULT_STACK_NAME } from '../../contract/stack-outputs';
import { type CliEnvironment, CliSession } from './context';
import { EXIT, reportError } from './exit';
import type { Io } from './output';

export { EXIT } from './exit';
export type { CliEnvironment } from './context';

/**
 * `gatehouse`: tenants, API keys, services, signers, members, sessions and development tokens, against local mode
 * (`--local`) or a deployed stack (found by `--stack-name`, or given by `--table` and `--config`). Returns the exit
 * code; never calls process.exit.
 */
export async function runCli(argv: readonly string[], cli: CliEnvironment): Promise<number> {
  const session = new CliSession(cli);
  const program = createProgram(cli.io, session);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return reportError(err, cli.io, argv.includes('--json'), session.target);
  } finally {
    session.destroy();
  }
}

/** The program: its global options and help, and every command group in the order `--help` lists them. */
function createProgram(io: Io, session: CliSession): Command {
  const program = new Command('gatehouse')
    .description('Manage Gatehouse: tenants, API keys, service and signer secrets, members, sessions (and dev tokens in local mode).')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('--local', 'act on the running local mode (`npm start`)')
    .option(
      '--stack-name <name>',
      `the deployed stack: its table, REST API and configuration are read from CloudFormation (default ${DEFAULT_STACK_NAME}; or GATEHOUSE_STACK_NAME)`,
    )
    .option('--region <region>', "the stack's region (default: AWS_REGION or the AWS_PROFILE's region)")
    .option('--table <name>', 'instead of the stack lookup: the deployed table (stack output TableName; or GATEHOUSE_TABLE); needs --config')
    .option('--config <file>', 'the stack configuration the stack was deployed with (default: the one the stack holds; or GATEHOUSE_CONFIG_FILE)')
    .option('--rest-api-id <id>', "the deployed REST API, for usage-plan keys and --flush (default: the stack's; or GATEHOUSE_REST_API_ID)")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addHelpText(
    'after',
    `
Exit codes: 0 done, 1 AWS or unexpected failure, 2 bad usage or input, 3 not found (incl. the stack), 4 conflict
(exists, suspended, revoked). AWS clients use the standard SDK environment for credentials (AWS_PROFILE,
AWS_ACCESS_KEY_ID, ...; AWS_ENDPOINT_URL) and the stack's region; --local sets it from .local/cli-target.json,
which \`npm start\` writes.`,
  );
  // Before any action: the target (a CloudFormation lookup by default), after commander has checked the usage.
  program.hook('preAction', (_program, actionCommand) => session.resolve(actionCommand));
  const context = session.context;
  registerTenantCommands(program, context);
  registerKeyCommands(program, context);
  registerSecretHolderCommands(program, context);
  registerMemberCommands(program, context);
  registerSessionCommands(program, context);
  registerTokenCommands(program, context);
  return program;
}
