import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuthorizerConfig } from '../contract/config';
import { type RevocationBounds, revocationBoundSeconds } from '../contract/revocation';
import { type ApiKind, type StackConfig, parseStackConfig } from '../contract/stack-config';
import { DEFAULT_STACK_NAME } from '../contract/stack-outputs';
import { REGION_PATTERN, STACK_NAME_PATTERN, findStack, regionOf } from './stack-lookup';

/**
 * Where the command-line tool points: the local mode's emulators (described by the file `npm start` writes), or a
 * deployed stack (its table name plus the stack configuration it was deployed with), found by the stack's name or
 * given by hand. AWS clients use the standard SDK environment for credentials either way, and for a deployed stack
 * the region it was found in; for local mode the tool sets that environment from the file.
 */
export interface Target {
  readonly kind: 'local' | 'aws';
  readonly tableName: string;
  readonly apiKeyPrefix: string;
  /** Live API keys a tenant may hold (apiKeys.maxPerTenant). @default - the directory's default (100) */
  readonly apiKeysPerTenant?: number;
  readonly environment: 'live' | 'test';
  /** Service name -> Secrets Manager secret id. */
  readonly services: Readonly<Record<string, string>>;
  /** Signer name -> Secrets Manager secret id (absent: none configured, or a local mode that does not say). */
  readonly signers?: Readonly<Record<string, string>>;
  /** Issuer ids the authorizer knows (for members and sessions). */
  readonly issuerIds: readonly string[];
  /** API Gateway's authorizer result TTL and, per kind of revocation, when it takes effect (contract/revocation.ts). */
  readonly revocation: { readonly resultTtlSeconds: number; readonly bounds: RevocationBounds };
  /**
   * A deployed stack whose API is an HTTP API (`deployment.api: "http"`): it has no usage plans (tenants get no
   * usage-plan key) and no REST stage whose authorizer cache `--flush` could empty. @default 'rest'
   */
  readonly api?: ApiKind;
  /** The REST stage whose authorizer cache `--flush` empties, and whose usage plans hold the tenants' keys. */
  readonly stage?: { readonly restApiId: string; readonly stageName: string; readonly endpoint?: string };
  /** Local mode only: the local issuer, for `tokens mint`. */
  readonly localIssuer?: LocalIssuer;
  /** Local mode only: the SDK environment of the emulator. */
  readonly sdkEnv?: Readonly<Record<string, string>>;
  /** A deployed stack: the region every AWS client of the run uses. */
  readonly region?: string;
  /** A deployed stack found by name (absent with --table): its name and API URL (the outputs it was read from). */
  readonly stack?: { readonly name: string; readonly apiUrl: string };
}

export interface LocalIssuer {
  readonly id: string;
  readonly issuer: string;
  readonly hs256SecretId: string;
  readonly audience: string;
}

/** What `npm start` writes to .local/cli-target.json for the command-line tool. */
export interface LocalTargetFile extends Omit<Target, 'kind'> {
  readonly kind: 'local';
  readonly sdkEnv: Readonly<Record<string, string>>;
  readonly localIssuer: LocalIssuer;
  /** The process serving it: a stale file (local mode stopped) is refused. */
  readonly pid: number;
}

export const LOCAL_TARGET_FILE = '.local/cli-target.json';

/**
 * The CLI target of the local run on `port` (each run writes its own, beside its other files), or without a port
 * the shared one, a copy of the most recently started run's.
 */
export const localTargetFileOf = (port: string | undefined): string => (port ? `.local/${port}/cli-target.json` : LOCAL_TARGET_FILE);

export interface TargetOptions {
  readonly local?: boolean;
  readonly table?: string;
  readonly config?: string;
  readonly restApiId?: string;
  readonly stackName?: string;
  readonly region?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Makes the CloudFormation client for the region (undefined: the SDK's chain); the caller owns and destroys it. */
export type CloudFormationFactory = (region: string | undefined) => CloudFormationClient;

/**
 * The target of a run, in this order:
 * 1. `--local`: the file `npm start` writes (nothing else is read): the most recent run's, or with
 *    GATEHOUSE_LOCAL_PORT the run's on that port.
 * 2. `--table` (or GATEHOUSE_TABLE): that table and the `--config` file (or GATEHOUSE_CONFIG_FILE), with no
 *    CloudFormation call, for credentials without cloudformation:DescribeStacks. `--config` is required: falling
 *    back to the example configuration would mint keys with its prefix and environment, which the stack refuses.
 * 3. Otherwise the stack `--stack-name` (GATEHOUSE_STACK_NAME, default Gatehouse) in `--region` (or the SDK's
 *    region): table, REST API and API URL from its outputs, configuration from its template's metadata. An
 *    explicit `--config` or `--rest-api-id` still wins over what the stack says (a stack deployed before the
 *    metadata existed works with `--config`).
 */
export async function resolveTarget(opts: TargetOptions, env: NodeJS.ProcessEnv, root: string, cloudFormation: CloudFormationFactory): Promise<Target> {
  if (opts.local) {
    // Two local modes side by side: GATEHOUSE_LOCAL_PORT picks one, else the most recently started.
    const port = env.GATEHOUSE_LOCAL_PORT;
    if (port !== undefined && port !== '' && !/^\d{1,5}$/.test(port)) throw new UsageError('GATEHOUSE_LOCAL_PORT: expected the port of a local run, e.g. 3001');
    return readLocalTarget(path.join(root, localTargetFileOf(port || undefined)), port || undefined);
  }
  const stackName = opts.stackName ?? env.GATEHOUSE_STACK_NAME ?? DEFAULT_STACK_NAME;
  if (!STACK_NAME_PATTERN.test(stackName)) throw new UsageError('--stack-name: a stack name is letters, digits and dashes, starting with a letter (at most 128)');
  if (opts.region !== undefined && !REGION_PATTERN.test(opts.region)) throw new UsageError('--region: expected a region like eu-west-1');
  const tableName = opts.table ?? env.GATEHOUSE_TABLE;
  const configPath = opts.config ?? env.GATEHOUSE_CONFIG_FILE;
  const restApiId = opts.restApiId ?? env.GATEHOUSE_REST_API_ID;
  if (tableName && !configPath) {
    throw new UsageError('--table: pass --config <the file the stack was deployed with> too (or neither, and let --stack-name find both)');
  }
  const cfn = cloudFormation(opts.region);
  const region = await regionOf(cfn, opts.region);
  if (!region) throw new UsageError('no AWS region: pass --region or set AWS_REGION (or --local, against `npm start`)');
  if (!REGION_PATTERN.test(region)) throw new UsageError('the AWS region is not a region like eu-west-1: pass --region');
  if (tableName) return deployedTarget(readConfigFile(configPath!), { tableName, restApiId, stackName, region });
  const stack = await findStack(cfn, stackName, region, { withConfig: !configPath });
  const config = configPath ? readConfigFile(configPath) : parseStackConfig(stack.config, `stack ${stackName}'s template metadata`);
  return deployedTarget(config, { tableName: stack.tableName, restApiId: restApiId ?? stack.restApiId, stackName, region, apiUrl: stack.apiUrl });
}

function readConfigFile(configPath: string): StackConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config: cannot read ${configPath} as JSON (${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'})`);
  }
  return parseStackConfig(raw, configPath);
}

/** Where a deployed stack's parts are: given by hand (--table) or read from the stack (then with its API URL). */
interface StackParts {
  readonly tableName: string;
  readonly restApiId: string | undefined;
  readonly stackName: string;
  readonly region: string;
  readonly apiUrl?: string;
}

/** The target of a deployed stack: its parts, and what the tool needs of the configuration it was deployed with. */
function deployedTarget(config: StackConfig, p: StackParts): Target {
  const a = config.authorizer;
  // Secrets the stack creates are named `<stack name>/services/<service>` and `<stack name>/signers/<signer>`
  // (lib/gatehouse-stack.ts); the others are referenced by `secretId`.
  const secretIds = (kind: 'services' | 'signers', list: readonly { name: string; secretId?: string | undefined }[] = []) =>
    Object.fromEntries(list.map((s) => [s.name, s.secretId ?? `${p.stackName}/${kind}/${s.name}`]));
  return {
    kind: 'aws',
    tableName: p.tableName,
    apiKeyPrefix: a.apiKeys?.prefix ?? 'gh',
    ...(a.apiKeys ? { apiKeysPerTenant: a.apiKeys.maxPerTenant } : {}),
    environment: a.environment,
    services: secretIds('services', config.source.services),
    signers: secretIds('signers', config.source.signers),
    issuerIds: a.issuers.map((i) => i.id ?? i.type),
    revocation: revocationOf(a, config.deployment.authorizerResultTtlSeconds),
    region: p.region,
    // An HTTP API's id (the stack's RestApiId output holds it too) is never used for REST API calls.
    ...(config.deployment.api === 'http' ? { api: 'http' as const } : p.restApiId ? { stage: { restApiId: p.restApiId, stageName: config.deployment.stageName } } : {}),
    ...(p.apiUrl !== undefined ? { stack: { name: p.stackName, apiUrl: p.apiUrl } } : {}),
  };
}

function readLocalTarget(file: string, port?: string): Target {
  if (!existsSync(file)) throw new UsageError(`--local: local mode is not running${port ? ` on port ${port}` : ''} (start it with \`npm start\`)`);
  const t = JSON.parse(readFileSync(file, 'utf8')) as LocalTargetFile;
  if (!isAlive(t.pid)) throw new UsageError('--local: local mode is not running any more (start it with `npm start`)');
  return t;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The revocation bounds the tool reports, from the authorizer configuration and the stage's result TTL. */
export function revocationOf(a: AuthorizerConfig, resultTtlSeconds: number): Target['revocation'] {
  return { resultTtlSeconds, bounds: revocationBoundSeconds(a, resultTtlSeconds) };
}

/** Parses `90d`, `24h`, `15m`, `30s` or a number of seconds. */
export function parseDuration(value: string, field: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (!m) throw new UsageError(`${field}: expected a duration like 30s, 15m, 24h, 90d or a number of seconds`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}
