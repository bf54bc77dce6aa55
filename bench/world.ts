/**
 * What the in-process sections decide against, on the emulator the benchmark started: one Gatehouse table with
 * tenants and API keys, Secrets Manager secrets (an HS256 issuer secret and one per service), one issuer per JWT
 * algorithm (the asymmetric ones with a JWKS on loopback), and the configuration document that uses them all.
 */
import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { createAuthorizer } from '../lambdas/authorizer/authorizer';
import { generateApiKey, hashApiKey } from '../contract/api-key';
import type { AuthorizerConfigInput } from '../contract/config';
import { type LogFields, type Logger, jsonLogger } from '../contract/log';
import { apiKeyItemKey, tenantItemKey } from '../contract/table';
import { createGatehouseTable } from '../local/create-table';
import { ASYMMETRIC, type Alg, type AsymmetricAlg, type JwksServer, type SigningKey, asymmetricKey, hs256Key, nowSeconds, signJwt, startJwksServer } from './keys';
import { SERVICE_NAME_HEADER } from '../contract/headers';

export const ARN_PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:bench12345/prod';
export const AUDIENCE = 'gatehouse-bench';
const SUPABASE_URL = 'http://127.0.0.1:54321';

export const ROUTES: AuthorizerConfigInput['routes'] = [
  { method: 'GET', path: '/health', public: true },
  { method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] },
  { method: 'GET', path: '/v1/customers', accepts: ['user', 'apiKey'], scopes: ['customers:read'] },
  { method: 'POST', path: '/v1/customers', accepts: ['user', 'apiKey'], scopes: ['customers:write'] },
  { method: 'GET', path: '/v1/customers/{id}', accepts: ['user', 'apiKey'], scopes: ['customers:read'] },
  { method: 'POST', path: '/internal/jobs', accepts: ['service'] },
];

/** Runs `fn` over `items`, at most `concurrency` at a time. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/**
 * One AWS command as the SDK sent it: its name, the item's `pk` for DynamoDB reads, and the caller's tag then; the
 * read's consistency and the time the caller waited for it (retries included) once it has answered.
 */
export interface Call {
  readonly service: 'dynamodb' | 'secretsmanager';
  readonly command: string;
  readonly pk?: string;
  readonly tag: unknown;
  readonly consistentRead?: boolean;
  ms?: number;
}

/**
 * SDK clients that record every command they send (a middleware at the initialize step, as the tests'
 * countingClients), tagged with whatever `tag` holds at the time: sections set it to the decision in flight.
 */
export function countingClients() {
  const calls: Call[] = [];
  const state = { tag: undefined as unknown };
  const count = <C extends { middlewareStack: { add: (mw: never, opts: never) => void } }>(service: Call['service'], client: C): C => {
    const counter =
      (next: (args: unknown) => Promise<unknown>, ctx: { commandName?: string }) =>
      async (args: { input?: { Key?: { pk?: { S?: string } }; ConsistentRead?: boolean } }) => {
        const pk = args.input?.Key?.pk?.S;
        const call: Call = { service, command: String(ctx.commandName), ...(pk ? { pk } : {}), tag: state.tag, ...(args.input?.ConsistentRead ? { consistentRead: true } : {}) };
        calls.push(call);
        const start = performance.now();
        try {
          return await next(args);
        } finally {
          call.ms = performance.now() - start;
        }
      };
    client.middlewareStack.add(counter as never, { step: 'initialize', name: 'benchCallCounter' } as never);
    return client;
  };
  return {
    dynamodb: count('dynamodb', new DynamoDBClient({ maxAttempts: 2 })),
    secretsManager: count('secretsmanager', new SecretsManagerClient({ maxAttempts: 2 })),
    calls,
    state,
    destroy() {
      this.dynamodb.destroy();
      this.secretsManager.destroy();
    },
  };
}

/**
 * The decision logger the benchmark gives the authorizer: the default JSON logger (the same formatting, to the
 * byte) with a write that discards the line, so writing to stdout does not dominate the figures. It remembers the
 * last decision line, so the benchmark can check that what it times is what it meant to time.
 */
export function discardLogger(service = 'gatehouse-authorizer') {
  let lastLine = '';
  let bytes = 0;
  const logger: Logger = jsonLogger(service, (line) => {
    bytes += line.length;
    if (line.includes('"message":"decision"')) lastLine = line;
  });
  return { logger, last: (): LogFields => (lastLine ? (JSON.parse(lastLine) as LogFields) : {}), bytes: () => bytes };
}

/** A REQUEST authorizer event as API Gateway REST sends it. */
export function authorizerEvent(headers: Record<string, string>, method = 'GET', path = '/v1/me'): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: `${ARN_PREFIX}/${method}${path}`,
    resource: path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: { requestId: randomBytes(8).toString('hex') } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export const bearer = (value: string) => authorizerEvent({ Authorization: `Bearer ${value}` });
export const serviceEvent = (service: string, secret: string) =>
  authorizerEvent({ Authorization: `Bearer ${secret}`, [SERVICE_NAME_HEADER]: service }, 'POST', '/internal/jobs');

export interface Service {
  readonly name: string;
  readonly secret: string;
}

export interface World {
  readonly tableName: string;
  readonly config: AuthorizerConfigInput;
  readonly keys: Readonly<Record<Alg, SigningKey>>;
  readonly jwks: Readonly<Record<AsymmetricAlg, JwksServer>>;
  /** The `iss` of each algorithm's issuer. */
  readonly issuers: Readonly<Record<Alg, string>>;
  readonly tenants: readonly string[];
  /** The few services a deployment has (billing, reporting, search). */
  readonly services: readonly Service[];
  /** Extra services, each used once by the first-seen service-secret case. */
  readonly extraServices: readonly Service[];
  /** A valid token of algorithm `alg` for user `sub` of `tenant` (a fresh `jti` each call). */
  token(alg: Alg, sub: string, tenant: string): string;
  /** Stores `n` new active API keys of `tenant` (batched writes) and returns them. */
  putApiKeys(n: number, tenant: string): Promise<string[]>;
  /** A fresh authorizer over the world's config (fresh caches) with the given clients, logger and clock. */
  authorizer(deps: Parameters<typeof createAuthorizer>[1], overrides?: Partial<AuthorizerConfigInput>): ReturnType<typeof createAuthorizer>;
  close(): Promise<void>;
}

export async function createWorld(opts: { extraServices: number; log: (m: string) => void }): Promise<World> {
  const ddb = new DynamoDBClient({ maxAttempts: 3 });
  const sm = new SecretsManagerClient({ maxAttempts: 3 });
  const run = randomBytes(3).toString('hex');
  const tableName = `gatehouse-bench-${run}`;
  await createGatehouseTable(ddb, tableName);
  const tenants = await putTenants(ddb, tableName, 8);
  const secrets = await createSecrets(sm, run, opts);
  const { keys, jwks, issuers } = await startIssuers(run, secrets.hsSecret);
  const config = worldConfig(tableName, secrets, jwks, issuers);
  const named = secrets.services.filter((s) => !s.extra).map(({ name, secret }) => ({ name, secret }));
  const extra = secrets.services.filter((s) => s.extra).map(({ name, secret }) => ({ name, secret }));
  return {
    tableName,
    config,
    keys,
    jwks,
    issuers,
    tenants,
    services: named,
    extraServices: extra,
    token: tokenSigner(keys, issuers),
    putApiKeys: (n, tenant) => putApiKeys(ddb, tableName, n, tenant),
    authorizer: (deps, overrides = {}) => createAuthorizer({ ...config, ...overrides }, deps),
    async close() {
      ddb.destroy();
      sm.destroy();
      await Promise.all(Object.values(jwks).map((j) => j.close()));
    },
  };
}

/** `count` active tenants (`tenant-1`...) on the default tier. */
async function putTenants(ddb: DynamoDBClient, tableName: string, count: number): Promise<string[]> {
  const tenants = Array.from({ length: count }, (_, i) => `tenant-${i + 1}`);
  for (const tenantId of tenants) {
    const item = { ...tenantItemKey(tenantId), tenantId, status: 'active', tier: 'default' };
    await ddb.send(new PutItemCommand({ TableName: tableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])) }));
  }
  return tenants;
}

interface WorldSecrets {
  readonly hsSecret: string;
  readonly hsSecretId: string;
  /** The named services first, then the extra ones. */
  readonly services: readonly (Service & { readonly secretId: string; readonly extra: boolean })[];
}

/** The Supabase HS256 secret and one secret per service (billing, reporting, search, then the extra ones). */
async function createSecrets(sm: SecretsManagerClient, run: string, opts: { extraServices: number; log: (m: string) => void }): Promise<WorldSecrets> {
  const hsSecret = randomBytes(32).toString('base64');
  const hsSecretId = `gatehouse-bench-${run}/supabase-jwt`;
  await sm.send(new CreateSecretCommand({ Name: hsSecretId, SecretString: hsSecret }));
  const named = ['billing', 'reporting', 'search'];
  const extra = Array.from({ length: opts.extraServices }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
  const services = [...named, ...extra].map((name, i) => ({
    name,
    secret: randomBytes(32).toString('base64url'),
    secretId: `gatehouse-bench-${run}/services/${name}`,
    extra: i >= named.length,
  }));
  if (extra.length) opts.log(`creating ${services.length} service secrets`);
  await pool(services, 8, (s) => sm.send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.secret })));
  return { hsSecret, hsSecretId, services };
}

/** A signing key per algorithm, a JWKS server per asymmetric one, and each issuer's `iss`. */
async function startIssuers(run: string, hsSecret: string): Promise<Pick<World, 'keys' | 'jwks' | 'issuers'>> {
  const asym = Object.fromEntries(ASYMMETRIC.map((alg) => [alg, asymmetricKey(alg, `bench-${alg.toLowerCase()}-${run}`)])) as Record<AsymmetricAlg, SigningKey>;
  const keys = { HS256: hs256Key(hsSecret), ...asym };
  const jwks = Object.fromEntries(await Promise.all(ASYMMETRIC.map(async (alg) => [alg, await startJwksServer([asym[alg].publicJwk!])]))) as Record<AsymmetricAlg, JwksServer>;
  const issuers = {
    HS256: `${SUPABASE_URL}/auth/v1`,
    ...Object.fromEntries(ASYMMETRIC.map((alg) => [alg, `https://idp-${alg.toLowerCase()}.example.com/`])),
  } as Record<Alg, string>;
  return { keys, jwks, issuers };
}

/** The configuration document that uses it all: a Supabase HS256 issuer, one OIDC issuer per asymmetric algorithm. */
function worldConfig(tableName: string, secrets: WorldSecrets, jwks: World['jwks'], issuers: World['issuers']): AuthorizerConfigInput {
  return {
    environment: 'live',
    tableName,
    issuers: [
      // Supabase's legacy HS256 secret, read from Secrets Manager.
      { type: 'supabase', url: SUPABASE_URL, hs256SecretId: secrets.hsSecretId, jwks: false },
      ...ASYMMETRIC.map((alg) => ({
        type: 'oidc' as const,
        id: `idp-${alg.toLowerCase()}`,
        issuer: issuers[alg],
        keys: { jwksUrl: jwks[alg].url },
        algorithms: [alg],
        audience: AUDIENCE,
        claims: { subject: 'sub', tenant: 'org', scopes: 'scope' },
      })),
    ],
    apiKeys: { prefix: 'gh' },
    services: secrets.services.map((s) => ({ name: s.name, secretId: s.secretId, scopes: ['jobs:run'] })),
    routes: ROUTES,
  };
}

/** World.token: Supabase-shaped claims for HS256, the OIDC issuers' (org, scope) for the others. */
function tokenSigner(keys: World['keys'], issuers: World['issuers']): World['token'] {
  return (alg, sub, tenant) => {
    const iat = nowSeconds();
    const jti = randomBytes(8).toString('hex');
    const claims =
      alg === 'HS256'
        ? { iss: issuers.HS256, sub, aud: 'authenticated', role: 'authenticated', iat, exp: iat + 7200, jti, app_metadata: { tenant_id: tenant } }
        : { iss: issuers[alg], sub, aud: AUDIENCE, iat, exp: iat + 7200, jti, org: tenant, scope: 'customers:read' };
    return signJwt(keys[alg], claims);
  };
}

/** World.putApiKeys: `n` new active keys of `tenant`, written 25 to a BatchWriteItem, 4 batches at a time. */
async function putApiKeys(ddb: DynamoDBClient, tableName: string, n: number, tenant: string): Promise<string[]> {
  const created = new Date().toISOString();
  const keysOut = Array.from({ length: n }, () => generateApiKey('gh', 'live'));
  const writes: WriteRequest[] = keysOut.map((key) => ({ PutRequest: { Item: apiKeyItem(key, tenant, created) } }));
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < writes.length; i += 25) chunks.push(writes.slice(i, i + 25));
  await pool(chunks, 4, async (chunk) => {
    let pending: WriteRequest[] | undefined = chunk;
    for (let attempt = 0; pending?.length && attempt < 10; attempt++) {
      const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName];
    }
    if (pending?.length) throw new Error('BatchWriteItem left items unprocessed');
  });
  return keysOut;
}

/** An active API key item of `tenant` (scope customers:read), as DynamoDB attribute values. */
function apiKeyItem(key: string, tenant: string, created: string): NonNullable<NonNullable<WriteRequest['PutRequest']>['Item']> {
  const k = apiKeyItemKey(hashApiKey(key));
  return {
    pk: { S: k.pk },
    sk: { S: k.sk },
    keyId: { S: `key_${randomBytes(8).toString('hex')}` },
    tenantId: { S: tenant },
    name: { S: 'bench key' },
    scopes: { L: [{ S: 'customers:read' }] },
    status: { S: 'active' },
    environment: { S: 'live' },
    createdAt: { S: created },
  };
}
