import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuthorizerConfig } from '../contract/config';
import { type RevocationBounds, revocationBoundSeconds } from '../contract/revocation';
import { parseStackConfig } from '../contract/stack-config';

/**
 * Where the command-line tool points: the local mode's emulators (described by the file `npm start` writes), or a
 * deployed stack (its table name plus the stack configuration it was deployed with). AWS clients are built from
 * the standard SDK environment either way; for local mode the tool sets that environment from the file.
 */
export interface Target {
  readonly kind: 'local' | 'aws';
  readonly tableName: string;
  readonly apiKeyPrefix: string;
  readonly environment: 'live' | 'test';
  /** Service name -> Secrets Manager secret id. */
  readonly services: Readonly<Record<string, string>>;
  /** Signer name -> Secrets Manager secret id (absent: none configured, or a local mode that does not say). */
  readonly signers?: Readonly<Record<string, string>>;
  /** Issuer ids the authorizer knows (for members and sessions). */
  readonly issuerIds: readonly string[];
  /** API Gateway's authorizer result TTL and, per kind of revocation, when it takes effect (contract/revocation.ts). */
  readonly revocation: { readonly resultTtlSeconds: number; readonly bounds: RevocationBounds };
  /** The stage whose authorizer cache `--flush` empties. */
  readonly stage?: { readonly restApiId: string; readonly stageName: string; readonly endpoint?: string };
  /** Local mode only: the local issuer, for `tokens mint`. */
  readonly localIssuer?: LocalIssuer;
  /** Local mode only: the SDK environment of the emulator. */
  readonly sdkEnv?: Readonly<Record<string, string>>;
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

export interface TargetOptions {
  readonly local?: boolean;
  readonly table?: string;
  readonly config?: string;
  readonly restApiId?: string;
  readonly stackName?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function resolveTarget(opts: TargetOptions, env: NodeJS.ProcessEnv, root: string): Target {
  if (opts.local) return readLocalTarget(path.join(root, LOCAL_TARGET_FILE));
  const tableName = opts.table ?? env.GATEHOUSE_TABLE;
  if (!tableName) {
    throw new UsageError('no target: pass --local (against `npm start`) or --table <name> / GATEHOUSE_TABLE (the stack output TableName)');
  }
  const configPath = opts.config ?? env.GATEHOUSE_CONFIG_FILE ?? path.join(root, 'config/gatehouse.example.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config: cannot read ${configPath} as JSON (${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'})`);
  }
  const config = parseStackConfig(raw, configPath);
  const a = config.authorizer;
  const restApiId = opts.restApiId ?? env.GATEHOUSE_REST_API_ID;
  // Secrets the stack creates are named `<stack name>/services/<service>` and `<stack name>/signers/<signer>`
  // (lib/gatehouse-stack.ts); the others are referenced by `secretId`.
  const stackName = opts.stackName ?? env.GATEHOUSE_STACK_NAME ?? 'Gatehouse';
  const secretIds = (kind: 'services' | 'signers', list: readonly { name: string; secretId?: string | undefined }[] = []) =>
    Object.fromEntries(list.map((s) => [s.name, s.secretId ?? `${stackName}/${kind}/${s.name}`]));
  return {
    kind: 'aws',
    tableName,
    apiKeyPrefix: a.apiKeys?.prefix ?? 'gh',
    environment: a.environment,
    services: secretIds('services', config.source.services),
    signers: secretIds('signers', config.source.signers),
    issuerIds: a.issuers.map((i) => i.id ?? i.type),
    revocation: revocationOf(a, config.deployment.authorizerResultTtlSeconds),
    ...(restApiId ? { stage: { restApiId, stageName: config.deployment.stageName } } : {}),
  };
}

function readLocalTarget(file: string): Target {
  if (!existsSync(file)) throw new UsageError('--local: local mode is not running (start it with `npm start`)');
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
