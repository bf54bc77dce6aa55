import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { type AuthorizerDeps, type AuthorizerHandler, createAuthorizer } from '../../lambdas/authorizer/authorizer';
import { generateApiKey, hashApiKey } from '../../contract/api-key';
import type { AuthorizerConfigInput } from '../../contract/config';
import { canonicalString, formatSignatureHeader, sha256Hex, signatureOf } from '../../contract/signing';
import { type ApiKeyRecord, type TenantRecord, apiKeyItemKey, tenantItemKey } from '../../contract/table';
import { createTable, uniqueName } from './aws';
import { type JwksServer, type TestKey, makeKey, nowSeconds, signHs256, startJwksServer } from './jwt';
import { CONTENT_SHA256_HEADER } from '../../contract/headers';

export const API_ARN_PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';

/** AWS SDK clients against the emulator that count the commands they send (real wire calls, counted). */
export function countingClients() {
  const calls: string[] = [];
  const count = <C extends { middlewareStack: { add: (mw: never, opts: never) => void } }>(client: C): C => {
    const counter = (next: (args: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
      calls.push(String(ctx.commandName));
      return next(args);
    };
    client.middlewareStack.add(counter as never, { step: 'initialize', name: 'gatehouseCallCounter' } as never);
    return client;
  };
  const dynamodb = count(new DynamoDBClient({ maxAttempts: 1 }));
  const secretsManager = count(new SecretsManagerClient({ maxAttempts: 1 }));
  return {
    dynamodb,
    secretsManager,
    calls,
    count: (name: string) => calls.filter((c) => c === name).length,
    reset: () => calls.splice(0),
  };
}

/** A request event as API Gateway REST sends it to a REQUEST authorizer. */
export function authorizerEvent(
  headers: Record<string, string>,
  method = 'GET',
  path = '/v1/me',
  resource = path,
  multiValueHeaders?: Record<string, string[]>,
): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: `${API_ARN_PREFIX}/${method}${path}`,
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: { requestId: `req-${randomBytes(4).toString('hex')}` } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** The route table the tests share: users, API keys, services, scopes and a path parameter. */
export const TEST_ROUTES: AuthorizerConfigInput['routes'] = [
  { method: 'GET', path: '/health', public: true },
  { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
  { method: 'GET', path: '/v1/customers', accepts: ['user', 'apiKey'], scopes: ['customers:read'] },
  { method: 'POST', path: '/v1/customers', accepts: ['user', 'apiKey'], scopes: ['customers:write'] },
  { method: 'GET', path: '/v1/customers/{id}', accepts: ['user', 'apiKey'], scopes: ['customers:read'] },
  { method: 'DELETE', path: '/v1/customers/{id}', accepts: ['user'], scopes: ['customers:admin'] },
  { method: 'POST', path: '/internal/jobs', accepts: ['service'] },
];

export interface Fixture {
  readonly tableName: string;
  readonly supabaseUrl: string;
  readonly supabaseSecret: string;
  readonly supabaseSecretId: string;
  readonly supabaseKey: TestKey;
  readonly oidcIssuer: string;
  readonly oidcKey: TestKey;
  readonly supabaseJwks: JwksServer;
  readonly oidcJwks: JwksServer;
  readonly serviceName: string;
  readonly serviceSecretId: string;
  readonly serviceSecret: string;
  readonly config: AuthorizerConfigInput;
  readonly clients: ReturnType<typeof countingClients>;
  readonly logs: Record<string, unknown>[];
  /** A fresh authorizer (fresh caches) over the fixture's config, with overrides. */
  authorizer(config?: Partial<AuthorizerConfigInput>, deps?: AuthorizerDeps): AuthorizerHandler;
  putTenant(t: Partial<TenantRecord> & { tenantId: string }): Promise<void>;
  putApiKey(r: Partial<ApiKeyRecord> & { tenantId: string }, key?: string): Promise<{ key: string; record: ApiKeyRecord }>;
  /** Claims of a signed-in Supabase user of tenant `acme` (sub `user-1`, 10 minutes left), with overrides. */
  userClaims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Those claims signed with the Supabase issuer's HS256 secret. */
  userToken(overrides?: Record<string, unknown>): Promise<string>;
  /** Stores an API key record with an invalid status, as a corrupted or hand-edited item would look. */
  putInvalidApiKey(key: string): Promise<void>;
  /** The reason code of the last decision logged. */
  lastReason(): string | undefined;
  close(): Promise<void>;
}

/**
 * Everything an authorizer test needs, over real wire APIs: a DynamoDB table and Secrets Manager secrets on the
 * emulator, JWKS servers on loopback, keys generated for this run, and a config document that uses them all.
 */
export async function createFixture(): Promise<Fixture> {
  const clients = countingClients();
  const tableName = uniqueName('gatehouse');
  await createTable(tableName);

  const supabaseSecret = randomBytes(32).toString('base64');
  const supabaseSecretId = uniqueName('supabase-jwt');
  const serviceName = 'billing';
  const serviceSecret = randomBytes(32).toString('base64url');
  const serviceSecretId = uniqueName('svc-billing');
  const sm = new SecretsManagerClient({});
  await sm.send(new CreateSecretCommand({ Name: supabaseSecretId, SecretString: supabaseSecret }));
  await sm.send(new CreateSecretCommand({ Name: serviceSecretId, SecretString: serviceSecret }));
  sm.destroy();

  const supabaseKey = await makeKey('ES256');
  const supabaseJwks = await startJwksServer([supabaseKey.publicJwk], '/auth/v1/.well-known/jwks.json');
  const supabaseUrl = supabaseJwks.url.replace('/auth/v1/.well-known/jwks.json', '');
  const oidcKey = await makeKey('RS256');
  const oidcJwks = await startJwksServer([oidcKey.publicJwk]);
  const oidcIssuer = 'https://login.example.com/';

  const config: AuthorizerConfigInput = {
    environment: 'live',
    tableName,
    // Every Allow carries the context encoded for HTTP backends, so the provider tests check that copy too.
    backendContext: true,
    issuers: [
      { type: 'supabase', url: supabaseUrl, hs256SecretId: supabaseSecretId, jwks: true },
      {
        type: 'oidc',
        id: 'corp',
        issuer: oidcIssuer,
        keys: { jwksUrl: oidcJwks.url },
        algorithms: ['RS256'],
        audience: 'gatehouse-api',
        claims: { subject: 'sub', tenant: 'org', scopes: 'scope', email: 'email' },
      },
    ],
    apiKeys: { prefix: 'gh' },
    services: [{ name: serviceName, secretId: serviceSecretId, scopes: ['jobs:run'] }],
    routes: TEST_ROUTES,
  };

  const logs: Record<string, unknown>[] = [];
  const logger = {
    info: (message: string, f?: object) => logs.push({ level: 'INFO', message, ...f }),
    warn: (message: string, f?: object) => logs.push({ level: 'WARN', message, ...f }),
    error: (message: string, f?: object) => logs.push({ level: 'ERROR', message, ...f }),
  };

  const userClaims = (overrides: Record<string, unknown>) => ({
    iss: `${supabaseUrl}/auth/v1`,
    sub: 'user-1',
    aud: 'authenticated',
    role: 'authenticated',
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    app_metadata: { tenant_id: 'acme' },
    ...overrides,
  });
  const ddb = new DynamoDBClient({});
  return {
    tableName,
    supabaseUrl,
    supabaseSecret,
    supabaseSecretId,
    supabaseKey,
    oidcIssuer,
    oidcKey,
    supabaseJwks,
    oidcJwks,
    serviceName,
    serviceSecretId,
    serviceSecret,
    config,
    clients,
    logs,
    authorizer: (overrides = {}, deps = {}) =>
      createAuthorizer({ ...config, ...overrides }, { dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger, ...deps }),
    async putTenant(t) {
      const item = { tenantId: t.tenantId, status: t.status ?? 'active', tier: t.tier ?? 'default', ...(t.usageKey ? { usageKey: t.usageKey } : {}) };
      const k = tenantItemKey(t.tenantId);
      await ddb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: Object.fromEntries(Object.entries({ ...k, ...item }).map(([n, v]) => [n, { S: v }])),
        }),
      );
    },
    async putApiKey(r, key = generateApiKey('gh', r.environment ?? 'live')) {
      const record: ApiKeyRecord = {
        keyId: r.keyId ?? `key_${randomBytes(8).toString('hex')}`,
        tenantId: r.tenantId,
        name: r.name ?? 'test key',
        scopes: r.scopes ?? [],
        status: r.status ?? 'active',
        environment: r.environment ?? 'live',
        createdAt: r.createdAt ?? new Date().toISOString(),
        ...(r.expiresAt !== undefined ? { expiresAt: r.expiresAt } : {}),
      };
      const k = apiKeyItemKey(hashApiKey(key));
      await ddb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: k.pk },
            sk: { S: k.sk },
            keyId: { S: record.keyId },
            tenantId: { S: record.tenantId },
            name: { S: record.name },
            scopes: { L: record.scopes.map((s) => ({ S: s })) },
            status: { S: record.status },
            environment: { S: record.environment },
            createdAt: { S: record.createdAt },
            ...(record.expiresAt !== undefined ? { expiresAt: { N: String(record.expiresAt) } } : {}),
          },
        }),
      );
      return { key, record };
    },
    userClaims: (overrides = {}) => userClaims(overrides),
    userToken: (overrides = {}) => signHs256(supabaseSecret, userClaims(overrides)),
    async putInvalidApiKey(key) {
      const k = apiKeyItemKey(hashApiKey(key));
      await ddb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: k.pk }, sk: { S: k.sk }, keyId: { S: 'key_bad' }, tenantId: { S: 'acme' }, status: { S: 'maybe' }, environment: { S: 'live' } },
        }),
      );
    },
    lastReason: () => {
      const d = logs.filter((l) => l.message === 'decision');
      return d.length ? String(d[d.length - 1]!.reason) : undefined;
    },
    async close() {
      ddb.destroy();
      clients.dynamodb.destroy();
      clients.secretsManager.destroy();
      await supabaseJwks.close();
      await oidcJwks.close();
    },
  };
}

/** The stage of API_ARN_PREFIX: on API Gateway's default endpoint the request line's path starts with it. */
export const STAGE_PATH = '/prod';

/**
 * What a REQUEST authorizer event holds besides headers, as API Gateway fills it: the request line's path in
 * `requestContext.path` (with the stage, unless `requestPath` says otherwise) and the query in both of its maps
 * (the single-value map holds each key's last value). Changes `event` in place and returns it.
 */
export function withRequestLine(
  event: APIGatewayRequestAuthorizerEvent,
  opts: { readonly query?: Record<string, string[]> | null; readonly requestPath?: string } = {},
): APIGatewayRequestAuthorizerEvent {
  (event.requestContext as { path?: string }).path = opts.requestPath ?? `${STAGE_PATH}${event.path}`;
  if (opts.query !== undefined) {
    event.multiValueQueryStringParameters = opts.query;
    event.queryStringParameters = opts.query ? Object.fromEntries(Object.entries(opts.query).map(([k, v]) => [k, v.at(-1)!])) : null;
  }
  return event;
}

/** What a caller signs (contract/signing.ts); every part has a default but the secret. */
export interface SignSpec {
  readonly secret: string;
  readonly caller: string;
  readonly method?: string;
  /** The request line's path, with the stage: what lands in requestContext.path. @default `/prod/v1/webhooks/stripe` */
  readonly requestPath?: string;
  readonly query?: Record<string, string[]> | null;
  readonly body?: string;
  readonly timestamp?: number;
  readonly nonce?: string;
}

/** The two headers of a signed request, as a caller following contract/signing.ts sends them. */
export function signedHeaders(s: SignSpec): { headers: Record<string, string>; signature: string; bodySha256: string; nonce: string; timestamp: number } {
  const timestamp = s.timestamp ?? nowSeconds();
  const nonce = s.nonce ?? randomBytes(16).toString('base64url');
  const bodySha256 = sha256Hex(s.body ?? '');
  const header = { caller: s.caller, timestamp, nonce };
  const canonical = canonicalString(header, { method: s.method ?? 'POST', path: s.requestPath ?? `${STAGE_PATH}/v1/webhooks/stripe`, query: s.query, bodySha256 });
  const signature = signatureOf(s.secret, canonical).toString('hex');
  return {
    headers: { Authorization: formatSignatureHeader({ ...header, signature }), [CONTENT_SHA256_HEADER]: bodySha256 },
    signature,
    bodySha256,
    nonce,
    timestamp,
  };
}
