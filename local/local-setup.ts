import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import type { AuthorizerConfig, AuthorizerConfigInput, IssuerConfig } from '../contract/config';
import type { CorsConfig } from '../contract/cors';
import { type ApiKind, DEFAULT_STAGE_THROTTLE, csrfWithCorsOrigins, hasBackendRoutes } from '../contract/stack-config';
import type { StandInIssuer } from '../control/dev-tokens/stand-in';
import { type LocalTargetFile, revocationOf } from '../control/target';

/** The demo tenant: the demo API keys and the demo user's tokens are its. */
export const DEMO_TENANT = 'demo';
/** A second tenant, for trying cross-tenant requests. */
export const OTHER_TENANT = 'globex';
/** The demo user (subject of the demo tokens), admin of the demo tenant. */
export const DEMO_USER = 'demo-user';
/** The other tenant's admin. */
export const OTHER_USER = 'other-user';
/** The local issuer's id in the authorizer configuration (members and revoked sessions are keyed by it). */
export const LOCAL_ISSUER_ID = 'local';
/** The stage of the local REST API (usage plans, method ARNs, the control plane). */
export const LOCAL_STAGE = 'local';

/** Everything a local run needs to recreate the same demo credentials (kept with --keep). */
export interface LocalState {
  readonly supabaseSecret: string;
  readonly signingKey: JWK;
  readonly serviceSecrets: Record<string, string>;
  /** Secrets of the configured signers (signed requests); absent in a state kept before signers existed. */
  readonly signerSecrets?: Record<string, string>;
  /** The stand-in issuers' RSA signing key (a private JWK); absent in a state kept before stand-ins existed. */
  readonly rsaSigningKey?: JWK;
  /** HS256 stand-ins' secrets, by issuer id. */
  readonly issuerSecrets?: Record<string, string>;
  readonly apiKeys: { readonly read: string; readonly write: string };
  readonly items: Record<string, AttributeValue>[];
}

/** A run's secrets and demo API keys: what --keep saves besides the table's items. `apiKeys` is set by seeding. */
export type LocalSecrets = { -readonly [K in keyof Omit<LocalState, 'items'>]: LocalState[K] };

/** A calling service or signer of the stack configuration. */
export interface LocalCaller {
  readonly name: string;
  readonly scopes: string[];
}

/** The names one local run uses (its table, secrets and REST API share a random suffix), and its callers. */
export interface LocalSetup {
  readonly suffix: string;
  readonly tableName: string;
  readonly apiKeyPrefix: string;
  readonly services: readonly LocalCaller[];
  readonly signers: readonly LocalCaller[];
  /** The Secrets Manager name of one of the run's secrets (`supabase-jwt-secret`, `services/<name>`, `signers/<name>`). */
  secretId(name: string): string;
}

/** Draws the run's suffix and reads the API key prefix, services and signers from the stack configuration. */
export function localSetup(stackConfig: Record<string, unknown>): LocalSetup {
  const suffix = randomBytes(3).toString('hex');
  const callers = (key: 'services' | 'signers') =>
    ((stackConfig[key] as { name: string; scopes?: string[] }[] | undefined) ?? []).map((s) => ({ name: s.name, scopes: s.scopes ?? [] }));
  return {
    suffix,
    tableName: `gatehouse-local-${suffix}`,
    apiKeyPrefix: String((stackConfig.apiKeys as { prefix?: string } | undefined)?.prefix ?? 'gh'),
    services: callers('services'),
    signers: callers('signers'),
    secretId: (name) => `gatehouse-local-${suffix}/${name}`,
  };
}

/**
 * The kept secrets and signing keys (--keep), or new ones for every configured service and signer, the stand-in
 * issuers' RSA key, and a secret per HS256 stand-in (`hs256Issuers`, by id).
 */
export async function localSecrets(setup: LocalSetup, kept: LocalState | undefined, hs256Issuers: readonly string[] = []): Promise<LocalSecrets> {
  const signing = kept?.signingKey ?? (await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey));
  const rsa = kept?.rsaSigningKey ?? (await exportJWK((await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })).privateKey));
  return {
    supabaseSecret: kept?.supabaseSecret ?? randomBytes(32).toString('base64'),
    signingKey: { ...signing, kid: signing.kid ?? `local-${setup.suffix}`, alg: 'ES256' },
    serviceSecrets: Object.fromEntries(setup.services.map((s) => [s.name, kept?.serviceSecrets[s.name] ?? randomBytes(32).toString('base64url')])),
    signerSecrets: Object.fromEntries(setup.signers.map((s) => [s.name, kept?.signerSecrets?.[s.name] ?? randomBytes(32).toString('base64url')])),
    rsaSigningKey: { ...rsa, kid: rsa.kid ?? `local-rsa-${setup.suffix}` },
    issuerSecrets: Object.fromEntries(hs256Issuers.map((id) => [id, kept?.issuerSecrets?.[id] ?? randomBytes(32).toString('base64url')])),
    // Replaced by the keys the directory creates, unless a kept state brings its own (with its table items).
    apiKeys: kept?.apiKeys ?? { read: '', write: '' },
  };
}

/**
 * The authorizer configuration of the local run, whose issuer is served at `baseUrl`. The stack configuration's own
 * settings (cache TTLs, tenants, membership, owner, routes) apply locally too; the issuers are the local one and the
 * stand-ins for the configured ones (local/stand-ins.ts), the services and table are local ones, and API keys are
 * `test` keys. `api` is the kind of API served (`deployment.api`, or the `--api` override).
 */
export function localAuthorizerConfig(
  setup: LocalSetup,
  stackConfig: Record<string, unknown>,
  baseUrl: string,
  standIns: readonly IssuerConfig[] = [],
  api: ApiKind = 'rest',
): AuthorizerConfigInput {
  const { deployment: _deployment, handlers: _handlers, backends: _backends, cors, issuers: _issuers, services: _services, signers: _signers, environment: _environment, ...settings } = stackConfig;
  return {
    ...(settings as Partial<AuthorizerConfigInput>),
    // As the stack renders it: credentialed CORS origins are the CSRF check's allowed origins unless csrf names its own.
    ...csrfWithCorsOrigins(settings as AuthorizerConfigInput, cors as CorsConfig | undefined),
    // As the stack renders it: with routes to HTTP backends, every Allow carries the context they receive.
    ...(hasBackendRoutes((stackConfig.routes as { backend?: string }[] | undefined) ?? []) ? { backendContext: true } : {}),
    // As the stack renders it: on a REST API every tenant has a usage-plan key, and one without is refused with a
    // reason; an HTTP API has no usage plans, so no key is required there.
    ...((settings.tenants as { verify?: boolean } | undefined)?.verify === false || api === 'http' ? {} : { tenants: { ...(settings.tenants as object), requireUsageKey: true } }),
    environment: 'test',
    tableName: setup.tableName,
    issuers: [
      {
        type: 'supabase',
        id: LOCAL_ISSUER_ID,
        url: baseUrl,
        hs256SecretId: setup.secretId('supabase-jwt-secret'),
        jwks: true,
        scopesClaim: 'app_metadata.scopes',
        // Signed-out sessions can be denied locally: `gatehouse --local sessions revoke <session_id>`.
        revokedSessions: true,
        sessionCacheTtlSeconds: 5,
      },
      ...standIns,
    ],
    apiKeys: { ...(settings.apiKeys as AuthorizerConfigInput['apiKeys']), prefix: setup.apiKeyPrefix },
    services: setup.services.map((s) => ({ name: s.name, secretId: setup.secretId(`services/${s.name}`), scopes: s.scopes })),
    signers: setup.signers.map((s) => ({ name: s.name, secretId: setup.secretId(`signers/${s.name}`), scopes: s.scopes })),
    routes: (stackConfig.routes as AuthorizerConfigInput['routes']) ?? [],
  };
}

/** Which API local mode emulates and the stage's throttle, from the stack configuration's `deployment` section. */
export interface LocalDeployment {
  readonly api: ApiKind;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * `deployment.api` (or the `--api` override) and `deployment.throttle` as the stack reads them: `rest` and
 * DEFAULT_STAGE_THROTTLE unless set. Any other api value is refused, naming the field.
 */
export function localDeployment(stackConfig: Record<string, unknown>, apiOverride?: ApiKind): LocalDeployment {
  const deployment = (stackConfig.deployment ?? {}) as { api?: unknown; throttle?: { rateLimit?: unknown; burstLimit?: unknown } };
  const api = apiOverride ?? deployment.api ?? 'rest';
  if (api !== 'rest' && api !== 'http') throw new Error('deployment.api: expected "rest" or "http"');
  const t = deployment.throttle;
  const throttle = typeof t?.rateLimit === 'number' && typeof t.burstLimit === 'number' ? { rateLimit: t.rateLimit, burstLimit: t.burstLimit } : DEFAULT_STAGE_THROTTLE;
  return { api, throttle };
}

/** API Gateway's authorizer result TTL locally: the option, else the stack configuration's deployment setting. */
export function localResultTtlSeconds(stackConfig: Record<string, unknown>, override: number | undefined): number {
  return override ?? (stackConfig.deployment as { authorizerResultTtlSeconds?: number } | undefined)?.authorizerResultTtlSeconds ?? 300;
}

/** Where the local gateway's stage and control plane are, as the command-line tool's target needs them. */
export interface LocalStage {
  readonly restApiId: string;
  readonly stageName: string;
  readonly endpoint: string;
}

/**
 * What the command-line tool needs to act on this environment (`gatehouse --local`), less the process id: the
 * fields control/target.ts declares, and the stand-in issuers `tokens mint --issuer` signs for (read by
 * control/dev-tokens/stand-in.ts).
 */
export type LocalCliTarget = Omit<LocalTargetFile, 'pid' | 'sdkEnv'> & { readonly standIns: readonly StandInIssuer[] };

/** What the command-line tool needs to act on this environment (`gatehouse --local`), less the process id. */
export function localCliTarget(setup: LocalSetup, config: AuthorizerConfig, resultTtlSeconds: number, stage: LocalStage, baseUrl: string, standIns: readonly StandInIssuer[] = []): LocalCliTarget {
  return {
    kind: 'local',
    tableName: setup.tableName,
    apiKeyPrefix: setup.apiKeyPrefix,
    ...(config.apiKeys ? { apiKeysPerTenant: config.apiKeys.maxPerTenant } : {}),
    environment: 'test',
    services: Object.fromEntries(config.services.map((s) => [s.name, s.secretId])),
    signers: Object.fromEntries(config.signers.map((s) => [s.name, s.secretId])),
    issuerIds: [LOCAL_ISSUER_ID, ...standIns.map((s) => s.id)],
    revocation: revocationOf(config, resultTtlSeconds),
    stage,
    localIssuer: { id: LOCAL_ISSUER_ID, issuer: `${baseUrl}/auth/v1`, hs256SecretId: setup.secretId('supabase-jwt-secret'), audience: 'authenticated' },
    standIns,
  };
}
