import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { Directory } from '../../control/directory/directory';
import { type Target, type TargetOptions, resolveTarget } from '../../control/target';
import { labelFailures } from './aws-failure';
import { type Io, Printer } from './output';

/** Where a run of the tool prints, which environment it reads, and the repository root. */
export interface CliEnvironment {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** The repository root (config/ and .local/ are found from it). */
  readonly root: string;
}

/** The program's own options (`gatehouse --json --table ...`), as every command sees them. */
export interface GlobalOptions extends TargetOptions {
  readonly json?: boolean;
}

/** An AWS SDK client's configuration: empty for the standard SDK environment, explicit for local mode. */
export interface SdkConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** What a command's action works with: the target, the printer, the directory and the AWS clients. */
export interface CommandContext {
  readonly t: Target;
  readonly out: Printer;
  readonly dir: Directory;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly sdk: SdkConfig;
  /** Registers a client made by the command, so it is destroyed when the run ends; returns it. */
  track<C extends SdkClient>(client: C): C;
}

/** Builds a command's context from the command (its options with the program's). */
export type ContextFactory = (cmd: Command) => CommandContext;

/** An AWS SDK client as the session handles it: destroyed at the end, its failures labelled (./aws-failure.ts). */
export type SdkClient = { destroy(): void; middlewareStack: { add: (...args: never[]) => unknown } };

/**
 * One run of the tool: resolves the target once, before the command's action runs ({@link CliSession.resolve},
 * which may look the stack up in CloudFormation), and keeps every client it makes, so {@link CliSession.destroy}
 * can close them all at the end.
 */
export class CliSession {
  private resolved: Target | undefined;
  private readonly clients: { destroy(): void }[] = [];

  constructor(private readonly cli: CliEnvironment) {}

  /** The run's target once resolved (for error messages: its region and table). */
  get target(): Target | undefined {
    return this.resolved;
  }

  /** Resolves the target from `cmd`'s options (control/target.ts says in which order); runs before every action. */
  async resolve(cmd: Command): Promise<void> {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    this.resolved ??= await resolveTarget(g, this.cli.env, this.cli.root, (region) => this.track(new CloudFormationClient(region ? { region } : {})));
  }

  /** The context of `cmd`: the target, a printer honouring --json, the directory and fresh clients. */
  readonly context: ContextFactory = (cmd) => {
    const t = this.resolved;
    if (!t) throw new Error('no target: CliSession.resolve runs before every action');
    const sdk: SdkConfig = t.sdkEnv ? sdkConfig(t.sdkEnv) : t.region ? { region: t.region } : {};
    const dynamodb = this.track(new DynamoDBClient(sdk));
    const secrets = this.track(new SecretsManagerClient(sdk));
    const json = cmd.optsWithGlobals<GlobalOptions>().json === true;
    return { t, out: new Printer(this.cli.io, json), dir: new Directory(dynamodb, t.tableName), dynamodb, secrets, sdk, track: this.track };
  };

  /** Registers a client, so it is destroyed when the run ends and its failures say which call failed; returns it. */
  readonly track = <C extends SdkClient>(client: C): C => {
    this.clients.push(labelFailures(client));
    return client;
  };

  /** Destroys every client the run made. */
  destroy(): void {
    for (const c of this.clients) c.destroy();
  }
}

function sdkConfig(env: Readonly<Record<string, string>>): SdkConfig {
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local' },
  };
}
