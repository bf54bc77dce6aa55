import { DynamoDBClient, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type JWK, SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { createAuthorizer } from '../lambdas/authorizer/authorizer';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { AuthorizerConfigInput } from '../contract/config';
import { parseConfig } from '../contract/config';
import type { Logger } from '../contract/log';
import { Directory } from '../control/directory/directory';
import { createRateLimiter } from '../lambdas/shared/rate-limit/limiter';
import { createGatehouseTable } from './create-table';
import { type LocalTargetFile, revocationOf } from '../control/target';
import { type LambdaHandler, type LocalGateway, createLocalGateway } from './gateway';
import { localHandlers } from './handlers';
import { UsagePlans, usagePlansOf } from './usage-plans';
import { APIGatewayClient, CreateRestApiCommand, CreateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { UsageKeys } from '../control/usage-keys';
import { usagePlanKeyed, usagePlanLimits, usagePlanName } from '../contract/stack-config';

/** Everything a local run needs to recreate the same demo credentials (kept with --keep). */
export interface LocalState {
  readonly supabaseSecret: string;
  readonly signingKey: JWK;
  readonly serviceSecrets: Record<string, string>;
  /** Secrets of the configured signers (signed requests); absent in a state kept before signers existed. */
  readonly signerSecrets?: Record<string, string>;
  readonly apiKeys: { readonly read: string; readonly write: string };
  readonly items: Record<string, AttributeValue>[];
}

export interface DemoCredentials {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly userTokenHs256: string;
  readonly userTokenEs256: string;
  readonly otherTenantToken: string;
  readonly apiKeyRead: string;
  readonly apiKeyWrite: string;
  readonly serviceName: string;
  readonly serviceSecret: string;
  /** The first configured signer (signed requests) and its secret; '' when none is configured. */
  readonly signerName: string;
  readonly signerSecret: string;
  /** Browser callers: the cookie that carries the user's token ('' when no route takes one), and the CSRF pair. */
  readonly tokenCookie: string;
  readonly csrf: { readonly cookie: string; readonly header: string; readonly token: string };
  /** The default tier's limits (config rateLimits.tiers.default). */
  readonly rateLimit: { readonly requestsPerMinute: number; readonly burst: number };
}

export interface ProvisionOptions {
  /** The stack's configuration document (config/gatehouse.example.json): routes, services, API key prefix. */
  readonly stackConfig: Record<string, unknown>;
  /** Port for the gateway (0: any free port). */
  readonly port: number;
  readonly host?: string;
  readonly state?: LocalState;
  readonly resultTtlSeconds?: number;
  readonly logger?: Logger;
}

export interface LocalEnvironment {
  readonly gateway: LocalGateway;
  readonly credentials: DemoCredentials;
  readonly tableName: string;
  /** What the command-line tool needs to act on this environment (`gatehouse --local`), less the process id. */
  readonly cliTarget: Omit<LocalTargetFile, 'pid' | 'sdkEnv'>;
  /** What --keep saves: the secrets, the signing key and the table's items. */
  snapshot(): Promise<LocalState>;
  close(): Promise<void>;
}

export const DEMO_TENANT = 'demo';
export const OTHER_TENANT = 'globex';
export const DEMO_USER = 'demo-user';
export const OTHER_USER = 'other-user';
/** The local issuer's id in the authorizer configuration (members and revoked sessions are keyed by it). */
export const LOCAL_ISSUER_ID = 'local';
const LOCAL_STAGE = 'local';

/**
 * Builds the whole API on this machine against the AWS endpoints of the environment (the emulator): a table and
 * secrets, a demo tenant with API keys and a service secret, a local Supabase-style issuer (HS256 secret and an
 * ES256 key whose JWKS the gateway serves), and the local gateway over the real authorizer and handlers.
 */
export async function provisionLocal(opts: ProvisionOptions): Promise<LocalEnvironment> {
  const host = opts.host ?? '127.0.0.1';
  const dynamodb = new DynamoDBClient({});
  const secretsManager = new SecretsManagerClient({});
  const suffix = randomBytes(3).toString('hex');
  const tableName = `gatehouse-local-${suffix}`;
  const prefix = String((opts.stackConfig.apiKeys as { prefix?: string } | undefined)?.prefix ?? 'gh');
  const callers = (key: 'services' | 'signers') =>
    ((opts.stackConfig[key] as { name: string; scopes?: string[] }[] | undefined) ?? []).map((s) => ({ name: s.name, scopes: s.scopes ?? [] }));
  const services = callers('services');
  const signers = callers('signers');

  const signing = opts.state?.signingKey ?? (await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey));
  const state: { -readonly [K in keyof Omit<LocalState, 'items'>]: LocalState[K] } = {
    supabaseSecret: opts.state?.supabaseSecret ?? randomBytes(32).toString('base64'),
    signingKey: { ...signing, kid: signing.kid ?? `local-${suffix}`, alg: 'ES256' },
    serviceSecrets: Object.fromEntries(services.map((s) => [s.name, opts.state?.serviceSecrets[s.name] ?? randomBytes(32).toString('base64url')])),
    signerSecrets: Object.fromEntries(signers.map((s) => [s.name, opts.state?.signerSecrets?.[s.name] ?? randomBytes(32).toString('base64url')])),
    // Replaced by the keys the directory creates, unless a kept state brings its own (with its table items).
    apiKeys: opts.state?.apiKeys ?? { read: '', write: '' },
  };
  const { d: _private, ...publicJwk } = state.signingKey;

  await createGatehouseTable(dynamodb, tableName);
  const secretId = (name: string) => `gatehouse-local-${suffix}/${name}`;
  await secretsManager.send(new CreateSecretCommand({ Name: secretId('supabase-jwt-secret'), SecretString: state.supabaseSecret }));
  for (const [name, value] of Object.entries(state.serviceSecrets)) {
    await secretsManager.send(new CreateSecretCommand({ Name: secretId(`services/${name}`), SecretString: value }));
  }
  for (const [name, value] of Object.entries(state.signerSecrets ?? {})) {
    await secretsManager.send(new CreateSecretCommand({ Name: secretId(`signers/${name}`), SecretString: value }));
  }
  // The stack configuration's own settings (cache TTLs, tenants, membership, owner, routes) apply locally too; the
  // issuers, services and table are local ones, and API keys are `test` keys.
  const { deployment, issuers: _issuers, services: _services, signers: _signers, environment: _environment, ...settings } = opts.stackConfig as Record<string, unknown>;
  const configFor = (baseUrl: string): AuthorizerConfigInput => ({
    ...(settings as Partial<AuthorizerConfigInput>),
    // As the stack renders it: every tenant has a usage-plan key, and one without is refused with a reason.
    ...((settings.tenants as { verify?: boolean } | undefined)?.verify === false ? {} : { tenants: { ...(settings.tenants as object), requireUsageKey: true } }),
    environment: 'test',
    tableName,
    issuers: [
      {
        type: 'supabase',
        id: LOCAL_ISSUER_ID,
        url: baseUrl,
        hs256SecretId: secretId('supabase-jwt-secret'),
        jwks: true,
        scopesClaim: 'app_metadata.scopes',
        // Signed-out sessions can be denied locally: `gatehouse --local sessions revoke <session_id>`.
        revokedSessions: true,
        sessionCacheTtlSeconds: 5,
      },
    ],
    apiKeys: { ...(settings.apiKeys as AuthorizerConfigInput['apiKeys']), prefix },
    services: services.map((s) => ({ name: s.name, secretId: secretId(`services/${s.name}`), scopes: s.scopes })),
    signers: signers.map((s) => ({ name: s.name, secretId: secretId(`signers/${s.name}`), scopes: s.scopes })),
    routes: (opts.stackConfig.routes as AuthorizerConfigInput['routes']) ?? [],
  });

  const shape = parseConfig(configFor('http://127.0.0.1'));

  // API Gateway's side of rate limiting, on the emulator: a REST API whose stage carries one usage plan per tier,
  // as the stack deploys them. Tenants get their usage-plan keys through the command-line tool's own code.
  const apigateway = new APIGatewayClient({});
  const restApi = await apigateway.send(new CreateRestApiCommand({ name: `gatehouse-local-${suffix}`, description: 'Gatehouse local mode' }));
  const restApiId = restApi.id!;
  for (const [tier, limits] of Object.entries(shape.rateLimits.tiers)) {
    const plan = usagePlanLimits(limits, shape.rateLimits.usagePlanHeadroom);
    await apigateway.send(
      new CreateUsagePlanCommand({
        name: usagePlanName(`gatehouse-local-${suffix}`, tier),
        throttle: plan.throttle,
        ...(plan.quota ? { quota: plan.quota } : {}),
        apiStages: [{ apiId: restApiId, stage: LOCAL_STAGE }],
      }),
    );
  }
  const usageKeys = new UsageKeys(apigateway, restApiId, LOCAL_STAGE);

  if (opts.state?.items.length) {
    for (const item of opts.state.items) {
      // A kept tenant's usage-plan key lived in the previous emulator: make it again, with the same value.
      if (item.sk?.S === 'TENANT' && item.usageKey?.S) {
        const again = await usageKeys.create(item.tenantId!.S!, item.tier?.S ?? 'default', item.usageKey.S);
        item.usageKeyId = { S: again.usageKeyId };
      }
      await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: item }));
    }
  } else {
    // Seeded through the same directory code as the command-line tool and the self-service API.
    const directory = new Directory(dynamodb, tableName);
    for (const tenantId of [DEMO_TENANT, OTHER_TENANT]) {
      await directory.createTenant({ tenantId, tier: 'default', ...(await usageKeys.create(tenantId, 'default')) });
    }
    const read = await directory.createApiKey({ tenantId: DEMO_TENANT, name: 'demo read-only key', scopes: ['customers:read'], prefix, environment: 'test' });
    const write = await directory.createApiKey({ tenantId: DEMO_TENANT, name: 'demo read-write key', scopes: ['customers:read', 'customers:write'], prefix, environment: 'test' });
    state.apiKeys = { read: read.key, write: write.key };
    // The demo user administers the demo tenant (membership mode reads this; claim mode reads app_metadata.roles).
    await directory.addMember(DEMO_TENANT, LOCAL_ISSUER_ID, DEMO_USER, 'admin');
    await directory.addMember(OTHER_TENANT, LOCAL_ISSUER_ID, OTHER_USER, 'admin');
  }

  const resultTtlSeconds = opts.resultTtlSeconds ?? (deployment as { authorizerResultTtlSeconds?: number } | undefined)?.authorizerResultTtlSeconds ?? 300;
  // The local issuer's URL is the gateway's own, known once it listens; the route table does not depend on it.
  let authorize: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult> | undefined;
  const gateway = createLocalGateway({
    routes: shape.routes,
    // Membership mode: user routes are keyed by the tenant header too, exactly as the stack's third authorizer.
    ...(shape.membership ? { tenantHeader: shape.membership.header } : {}),
    authorizer: (event, context) => authorize!(event, context),
    handlers: localHandlers({
      dynamodb,
      tableName,
      apiKeyPrefix: prefix,
      environment: 'test',
      rateLimit: { limiter: createRateLimiter({ dynamodb, tableName }), tiers: shape.rateLimits.tiers },
      ...(opts.logger ? { logger: opts.logger } : {}),
    }),
    resultTtlSeconds,
    restApiId,
    stageName: LOCAL_STAGE,
    usagePlans: new UsagePlans(usagePlansOf(apigateway, restApiId, LOCAL_STAGE)),
    apiKeyRequired: (route) => usagePlanKeyed(shape, route),
    staticRoutes: { '/auth/v1/.well-known/jwks.json': () => ({ status: 200, body: { keys: [publicJwk] } }) },
  });
  const baseUrl = await gateway.listen(opts.port, host);
  const authorizer = createAuthorizer(configFor(baseUrl), { dynamodb, secretsManager, ...(opts.logger ? { logger: opts.logger } : {}) });
  authorize = (event) => authorizer(event);

  const signingKey = await importJWK(state.signingKey, 'ES256');
  const token = async (alg: 'HS256' | 'ES256', tenantId: string, sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      role: 'authenticated',
      aud: 'authenticated',
      email: `${sub}@example.com`,
      session_id: randomBytes(8).toString('hex'),
      is_anonymous: false,
      app_metadata: { tenant_id: tenantId, scopes: ['customers:read', 'customers:write'], roles: ['admin'] },
      user_metadata: {},
    })
      .setIssuer(`${baseUrl}/auth/v1`)
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 12 * 3600);
    return alg === 'HS256'
      ? jwt.setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(state.supabaseSecret))
      : jwt.setProtectedHeader({ alg, typ: 'JWT', kid: state.signingKey.kid! }).sign(signingKey);
  };
  const serviceName = services[0]?.name ?? '';
  const signerName = signers[0]?.name ?? '';
  const credentials: DemoCredentials = {
    baseUrl,
    tenantId: DEMO_TENANT,
    userTokenHs256: await token('HS256', DEMO_TENANT, DEMO_USER),
    userTokenEs256: await token('ES256', DEMO_TENANT, DEMO_USER),
    otherTenantToken: await token('HS256', OTHER_TENANT, OTHER_USER),
    apiKeyRead: state.apiKeys.read,
    apiKeyWrite: state.apiKeys.write,
    serviceName,
    serviceSecret: state.serviceSecrets[serviceName] ?? '',
    signerName,
    signerSecret: state.signerSecrets?.[signerName] ?? '',
    tokenCookie: shape.routes.find((r) => r.cookie !== undefined)?.cookie ?? '',
    // What the web app would draw per session and put in its CSRF cookie and header; any random value works.
    csrf: { cookie: shape.csrf.cookie, header: shape.csrf.header, token: randomBytes(18).toString('base64url') },
    rateLimit: { requestsPerMinute: shape.rateLimits.tiers.default.requestsPerMinute, burst: shape.rateLimits.tiers.default.burst },
  };

  const parsed = parseConfig(configFor(baseUrl));
  const cliTarget: LocalEnvironment['cliTarget'] = {
    kind: 'local',
    tableName,
    apiKeyPrefix: prefix,
    environment: 'test',
    services: Object.fromEntries(parsed.services.map((s) => [s.name, s.secretId])),
    signers: Object.fromEntries(parsed.signers.map((s) => [s.name, s.secretId])),
    issuerIds: [LOCAL_ISSUER_ID],
    revocation: revocationOf(parsed, resultTtlSeconds),
    stage: { restApiId: gateway.restApiId, stageName: gateway.stageName, endpoint: gateway.controlPlaneUrl! },
    localIssuer: { id: LOCAL_ISSUER_ID, issuer: `${baseUrl}/auth/v1`, hs256SecretId: secretId('supabase-jwt-secret'), audience: 'authenticated' },
  };

  return {
    gateway,
    credentials,
    tableName,
    cliTarget,
    async snapshot() {
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return { ...state, items };
    },
    async close() {
      await gateway.close();
      dynamodb.destroy();
      secretsManager.destroy();
    },
  };
}
