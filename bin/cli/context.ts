import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { Directory } from '../../control/directory/directory';
import { type Target, type TargetOptions, resolveTarget } from '../../control/target';
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
  track<C extends { destroy(): void }>(client: C): C;
}

/** Builds a command's context from the command (its options with the program's). */
export type ContextFactory = (cmd: Command) => CommandContext;

/**
 * One run of the tool: resolves the target once (on the first command that needs it) and keeps every client it
 * makes, so {@link CliSession.destroy} can close them all at the end.
 */
export class CliSession {
  private target: Target | undefined;
  private readonly clients: { destroy(): void }[] = [];

  constructor(private readonly cli: CliEnvironment) {}

  /** The context of `cmd`: the target, a printer honouring --json, the directory and fresh clients. */
  readonly context: ContextFactory = (cmd) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const t = (this.target ??= resolveTarget(g, this.cli.env, this.cli.root));
    const sdk = t.sdkEnv ? sdkConfig(t.sdkEnv) : {};
    const track = <C extends { destroy(): void }>(client: C): C => {
      this.clients.push(client);
      return client;
    };
    const dynamodb = track(new DynamoDBClient(sdk));
    const secrets = track(new SecretsManagerClient(sdk));
    return { t, out: new Printer(this.cli.io, g.json === true), dir: new Directory(dynamodb, t.tableName), dynamodb, secrets, sdk, track };
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
