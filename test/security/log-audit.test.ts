import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { COGNITO_CLIENT, clerkSession, cognitoAccess, presetIssuers } from '../support/preset-issuers';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { exportJWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../contract/api-key';
import { createAuthorizer } from '../../lambdas/authorizer/authorizer';
import type { AuthorizerConfigInput } from '../../contract/config';
import { REASONS, type ReasonCode } from '../../lambdas/authorizer/errors';
import { evaluatePolicy, type PolicyDocument } from '../../lambdas/authorizer/policy';
import { createCustomersHandler } from '../../lambdas/handlers/customers';
import { createHealthHandler } from '../../lambdas/handlers/health';
import { createInternalJobsHandler } from '../../lambdas/handlers/internal-jobs';
import { createMeHandler } from '../../lambdas/handlers/me';
import { type LogFields, type Logger, jsonLogger } from '../../contract/log';
import { BEARER_TOKEN, apiKeyAuthorizer, lambdaContext, proxyEvent, serviceAuthorizer, userAuthorizer } from '../lambdas/proxy-event';
import { uniqueName } from '../support/aws';
import { DEAD_ENDPOINT, hangingServer, movableClock, switchableSecretsManager, throttlingDynamoDb, throttlingDynamoDbServer } from '../support/faults';
import { API_ARN_PREFIX, type Fixture, type SignSpec, TEST_ROUTES, authorizerEvent, createFixture, signedHeaders, withRequestLine } from '../support/fixture';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import { v2EventLike } from '../lambdas/v2-event';
import { makeKey, nowSeconds, signHs256, signWith } from '../support/jwt';
import { type Captured, SecretVault, captureOutput } from '../support/leak-audit';
import { putMember, revokeSession } from '../lambdas/authorizer/records';

/**
 * Log audit. "Logs never contain a token, key or secret, nor enough of one to replay it." A realistic run (every
 * credential kind allowed and refused, every reason code, the dependency faults, the handlers) is driven while
 * everything the process writes is captured: the authorizer's and handlers' own JSON loggers on stdout, stderr,
 * console.*, process warnings, and also the fixture-style in-memory log, every error thrown to API Gateway and
 * every result returned to it. After each test, all of it is searched for every 16-character window of every
 * secret used (JWT signatures, API key bodies, service and HS256 secrets, private key members).
 */
let fx: Fixture;
const vault = new SecretVault();
const SIGNER = 'stripe-relay';
let signerSecret: string;
let signerSecretId: string;
const captured: Captured[] = [];
let stopCapture: (() => void) | undefined;
let mark = { captured: 0, logs: 0 };

/** Writes each line both to the in-memory log the fixture reads (fx.logs) and as JSON to stdout (captured). */
function teeLogger(service: string): Logger {
  const out = jsonLogger(service);
  const line = (level: 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => {
    fx.logs.push({ level: level.toUpperCase(), message, ...fields });
    out[level](message, fields);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}
const authz = (config: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  fx.authorizer(config, { logger: teeLogger('gatehouse-authorizer'), ...deps });

beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme', usageKey: `usage-${randomBytes(12).toString('hex')}` });
  await fx.putTenant({ tenantId: 'frozen', status: 'suspended' });
  await fx.putTenant({ tenantId: 'bare' }); // no usage-plan key
  vault.secret('supabase HS256 secret', fx.supabaseSecret);
  vault.secret('service secret', fx.serviceSecret);
  for (const key of [fx.supabaseKey, fx.oidcKey]) vault.secret(`private key ${key.kid}`, String((await exportJWK(key.privateKey)).d));
  vault.jwt(BEARER_TOKEN, 'proxy-event bearer token');
  signerSecret = randomSecret('signer secret');
  signerSecretId = uniqueName('signer');
  const sm = new SecretsManagerClient({});
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
  sm.destroy();
  stopCapture = captureOutput(captured);
});
afterAll(async () => {
  stopCapture?.();
  await fx?.close();
});

beforeEach(() => {
  mark = { captured: captured.length, logs: fx.logs.length };
});
afterEach(() => {
  expect(leaksSince(mark)).toEqual([]);
});

/** Leaks in what was captured since `from`: one entry per source and secret, never the secret itself. */
function leaksSince(from: typeof mark): string[] {
  const texts = [...captured.slice(from.captured), { source: 'in-memory log', text: JSON.stringify(fx.logs.slice(from.logs)) }];
  return texts.flatMap(({ source, text }) => vault.scan(text).map((l) => `${l.label} in ${source} at ${l.at}`));
}

const GENERIC_MESSAGES = ['Unauthorized', 'Authorizer dependency failure'];
type Status = 200 | 401 | 403 | 500;

/**
 * One request through an authorizer, as API Gateway answers it. Everything handed back to API Gateway is added
 * to the audited text; an error must be a bare Error with one of the two generic messages and nothing attached.
 */
async function send(
  authorize: ReturnType<Fixture['authorizer']>,
  headers: Record<string, string>,
  opts: { method?: string; path?: string; multi?: Record<string, string[]>; methodArn?: string; query?: Record<string, string[]>; format?: AnswerFormat } = {},
): Promise<Status> {
  const method = opts.method ?? 'GET';
  const path = opts.path ?? '/v1/me';
  const event = withRequestLine(authorizerEvent(headers, method, path, path, opts.multi), { query: opts.query });
  if (opts.methodArn) event.methodArn = opts.methodArn;
  try {
    // `format: 'http-2.0'`: the same request as an HTTP API's payload 2.0 event (its route ARN is the method ARN).
    const result = await authorize(opts.format === 'http-2.0' ? { ...v2EventLike(event), routeArn: event.methodArn } : event);
    captured.push({ source: 'authorizer result', text: JSON.stringify(result) });
    return evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`) === 'Allow' ? 200 : 403;
  } catch (err) {
    const e = err as Error;
    captured.push({ source: 'thrown to API Gateway', text: `${e.message}\n${e.stack}\n${JSON.stringify(e)}` });
    expect(e).toBeInstanceOf(Error);
    expect(GENERIC_MESSAGES).toContain(e.message);
    expect({ cause: e.cause, ownKeys: Object.keys(e), name: e.name }).toEqual({ cause: undefined, ownKeys: [], name: 'Error' });
    return e.message === 'Unauthorized' ? 401 : 500;
  }
}

const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });
const service = (secret: string, name = fx.serviceName) => bearer(secret, { 'X-Service-Name': name });
const jobs = { method: 'POST', path: '/internal/jobs' };
const seg = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const userClaims = (o: Record<string, unknown> = {}) => fx.userClaims(o);
/** Supabase HS256 session token (the real secret), registered in the vault. */
const user = async (o: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => vault.jwt(await signHs256(fx.supabaseSecret, userClaims(o), header));
/** Supabase ES256 token (signing key from the JWKS). */
const es256 = async (o: Record<string, unknown> = {}) => vault.jwt(await signWith(fx.supabaseKey, userClaims(o)));
/** OIDC RS256 token. */
const corp = async (o: Record<string, unknown> = {}, at = nowSeconds()) =>
  vault.jwt(await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', org: 'acme', iat: at, exp: at + 7200, ...o }));
const newApiKey = async (r: Parameters<Fixture['putApiKey']>[0]) => vault.apiKey((await fx.putApiKey(r)).key);
const randomSecret = (label: string) => vault.secret(label, randomBytes(32).toString('base64url'));
/**
 * Browser callers and signed requests: a cookie route (any method) and a signed route. Every cookie token (a
 * JWT, via user()), CSRF token, signer secret and signature is in the vault; a nonce and a body hash are not
 * secrets (neither lets anyone sign anything).
 */
const SESSION = '/v1/session';
const WEBHOOK = { method: 'POST', path: '/v1/webhooks/stripe' };
const browserAndSigned = (config: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  authz(
    {
      routes: [...TEST_ROUTES!, { method: 'ANY', path: SESSION, accepts: ['user'], cookie: 'sb-access-token' }, { method: 'POST', path: WEBHOOK.path, accepts: ['signed'], scopes: ['webhooks:write'] }],
      signers: [{ name: SIGNER, secretId: signerSecretId, scopes: ['webhooks:write'] }],
      ...config,
    },
    deps,
  );
const csrfToken = (label = 'csrf token') => vault.secret(label, randomBytes(24).toString('base64url'));
/** A Cookie header: the access-token cookie, the CSRF cookie when given, and a harmless one. */
const cookies = (token: string, csrf?: string) => `theme=dark; sb-access-token=${token}${csrf === undefined ? '' : `; __Host-gh-csrf=${csrf}`}`;
/** The headers of a signed request (by default a good one for WEBHOOK), its signature in the vault (hex and as bytes). */
const signed = (spec: Partial<SignSpec> = {}) => {
  const s = signedHeaders({ secret: signerSecret, caller: SIGNER, requestPath: `/prod${WEBHOOK.path}`, body: '{"id":"evt_1"}', ...spec });
  vault.secret('request signature', s.signature);
  vault.add('request signature (bytes as base64)', Buffer.from(s.signature, 'hex').toString('base64'));
  return s.headers;
};
const lastReason = () => fx.lastReason();
const expectAnswer = async (status: Promise<Status>, expected: Status, reason: string) =>
  expect({ status: await status, reason: lastReason() }).toEqual({ status: expected, reason });

describe('log audit', () => {
  it('allowed requests of every credential kind', async () => {
    const rotating = uniqueName('svc-rotating');
    const current = randomSecret('rotating service secret (AWSCURRENT)');
    const pending = randomSecret('rotating service secret (AWSPENDING)');
    const sm = new SecretsManagerClient({});
    await sm.send(new CreateSecretCommand({ Name: rotating, SecretString: current }));
    await sm.send(new PutSecretValueCommand({ SecretId: rotating, SecretString: pending, VersionStages: ['AWSPENDING'] }));
    sm.destroy();
    const authorize = authz();
    const duringRotation = authz({ services: [{ name: fx.serviceName, secretId: rotating, scopes: ['jobs:run'] }] });

    await expectAnswer(send(authorize, bearer(await user())), 200, 'ALLOWED');
    await expectAnswer(send(authorize, bearer(await es256())), 200, 'ALLOWED');
    await expectAnswer(send(authorize, bearer(await corp({ scope: 'customers:read' })), { path: '/v1/customers' }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, bearer(await newApiKey({ tenantId: 'acme', scopes: ['customers:read'] })), { path: '/v1/customers' }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, service(fx.serviceSecret), jobs), 200, 'ALLOWED');
    await expectAnswer(send(duringRotation, service(current), jobs), 200, 'ALLOWED');
    await expectAnswer(send(duringRotation, service(pending), jobs), 200, 'ALLOWED');
  });

  it('allowed browser and signed requests', async () => {
    const authorize = browserAndSigned();
    const csrf = csrfToken();
    await expectAnswer(send(authorize, { Cookie: cookies(await user()) }, { path: SESSION }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, { Cookie: cookies(await user(), csrf), 'X-CSRF-Token': csrf }, { method: 'DELETE', path: SESSION }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, { Authorization: `Bearer ${await user()}`, Cookie: `sb-access-token=; __Host-gh-csrf=${csrf}` }, { method: 'POST', path: SESSION }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, signed(), WEBHOOK), 200, 'ALLOWED');
    const query = { cursor: [randomSecret('secret-looking query value')], a: ['1', '2'] };
    await expectAnswer(send(authorize, signed({ query }), { ...WEBHOOK, query }), 200, 'ALLOWED');
  });

  it('HTTP API (payload 2.0) events: allowed, refused (a Deny), failed and malformed', async () => {
    const authorize = browserAndSigned();
    const http = { format: 'http-2.0' as const };
    const csrf = csrfToken();

    await expectAnswer(send(authorize, bearer(await user()), http), 200, 'ALLOWED');
    await expectAnswer(send(authorize, bearer(await newApiKey({ tenantId: 'acme' })), http), 200, 'ALLOWED');
    await expectAnswer(send(authorize, service(fx.serviceSecret), { ...jobs, ...http }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, { Cookie: cookies(await user(), csrf), 'X-CSRF-Token': csrf }, { method: 'DELETE', path: SESSION, ...http }), 200, 'ALLOWED');
    const query = { cursor: [randomSecret('secret-looking query value (2.0)')], a: ['1', '2'] };
    await expectAnswer(send(authorize, signed({ query }), { ...WEBHOOK, query, ...http }), 200, 'ALLOWED');
    await expectAnswer(send(authorize, bearer(await user({ exp: nowSeconds() - 100, iat: nowSeconds() - 1000 })), http), 403, 'JWT_EXPIRED');
    await expectAnswer(send(authorize, service(randomSecret('wrong service secret (2.0)')), { ...jobs, ...http }), 403, 'SERVICE_SECRET_MISMATCH');
    await expectAnswer(send(authorize, bearer(await user(), { 'X-Gatehouse-Context': randomSecret('forged context header (2.0)') }), http), 403, 'CONTEXT_HEADER_FROM_CLIENT');
    await expectAnswer(send(authz({}, { dynamodb: new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 }) }), bearer(await newApiKey({ tenantId: 'acme' })), http), 500, 'APIKEY_STORE_UNAVAILABLE');
    // A malformed event with a real token in it: INTERNAL_ERROR names the field, never a header.
    const token = await user();
    const malformed = { version: '2.0', type: 'REQUEST', headers: { authorization: `Bearer ${token}` }, routeKey: 'GET /v1/me', rawPath: '/prod/v1/me', requestContext: { http: { method: 'GET' } } };
    await expect(authorize(malformed as never)).rejects.toThrow('Authorizer dependency failure');
    expect(fx.logs.filter((l) => l.message === 'decision').at(-1)).toMatchObject({ decision: 'error', reason: 'INTERNAL_ERROR', cause: 'payload-2.0.routeArn', payload: '2.0' });
  });

  it('every reason code, each with a credential of its kind', async () => {
    const unreachableDb = () => new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 });
    const unreachableSm = () => new SecretsManagerClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 });
    const members = (config: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) => authz({ membership: {}, ...config }, deps);
    const denyList = (deps: Parameters<Fixture['authorizer']>[1] = {}) =>
      authz({ issuers: [{ ...(fx.config.issuers![0] as object), revokedSessions: true } as never, fx.config.issuers![1]!] }, deps);
    const presets = () => authz({ issuers: [...fx.config.issuers!, ...presetIssuers(fx)] });
    const stranger = await makeKey('ES256');
    vault.secret('stranger private key', String((await exportJWK(stranger.privateKey)).d));
    const scenarios: Record<ReasonCode, () => Promise<Status>> = {
      // A forged context header beside a good credential: the header's name is logged, never its value or the token.
      CONTEXT_HEADER_FROM_CLIENT: async () => send(authz(), bearer(await user(), { 'X-Gatehouse-Context': randomSecret('forged context header') })),
      CREDENTIAL_MISSING: () => send(authz(), {}),
      CREDENTIAL_MULTIPLE: async () => {
        const [a, b] = [await user(), await user({ sub: 'user-2' })];
        return send(authz(), bearer(a), { multi: { Authorization: [`Bearer ${a}`, `Bearer ${b}`] } });
      },
      AUTHORIZATION_MALFORMED: () => send(authz(), { Authorization: `Basic ${Buffer.from(`admin:${randomSecret('basic password')}`).toString('base64')}` }),
      AUTHORIZATION_TOO_LARGE: async () => send(authz(), bearer(`${await user()}${'A'.repeat(9000)}`)),
      CREDENTIAL_UNRECOGNIZED: () => send(authz(), bearer(randomSecret('unrecognized bearer value'))),
      CREDENTIAL_AMBIGUOUS: async () => send(browserAndSigned(), { Authorization: `Bearer ${await user()}`, Cookie: cookies(await user({ sub: 'user-2' })) }, { path: SESSION }),
      COOKIE_MALFORMED: () => send(browserAndSigned(), { Cookie: cookies(`"${randomSecret('malformed cookie value')}"`) }, { path: SESSION }),
      CSRF_TOKEN_MISSING: async () => send(browserAndSigned(), { Cookie: cookies(await user(), csrfToken('csrf cookie without its header')) }, { method: 'POST', path: SESSION }),
      CSRF_TOKEN_MISMATCH: async () =>
        send(browserAndSigned(), { Cookie: cookies(await user(), csrfToken('csrf cookie')), 'X-CSRF-Token': csrfToken('other csrf header') }, { method: 'PUT', path: SESSION }),
      CSRF_ORIGIN_NOT_ALLOWED: async () => {
        const csrf = csrfToken();
        const authorize = browserAndSigned({ csrf: { allowedOrigins: ['https://app.example.com'] } });
        return send(authorize, { Cookie: cookies(await user(), csrf), 'X-CSRF-Token': csrf, Origin: 'https://evil.example.com' }, { method: 'PATCH', path: SESSION });
      },
      JWT_MALFORMED: () => send(authz(), bearer(`${Buffer.from('{"alg":').toString('base64url')}.${seg({ iss: 'x' })}.${randomSecret('malformed jwt tail')}`)),
      JWT_HEADER_FORBIDDEN: async () => send(authz(), bearer(await user({}, { jku: 'https://evil.example/jwks' }))),
      JWT_ISSUER_UNKNOWN: async () => send(authz(), bearer(await user({ iss: 'https://evil.example/auth/v1' }))),
      JWT_ALG_NOT_ALLOWED: () => send(authz(), bearer(vault.jwt(`${seg({ alg: 'none' })}.${seg(userClaims())}.${randomBytes(32).toString('base64url')}`))),
      JWT_KID_UNKNOWN: async () => send(authz(), bearer(vault.jwt(await signWith(stranger, userClaims())))),
      JWT_SIGNATURE_INVALID: async () => send(authz(), bearer(vault.jwt(await signHs256(randomSecret('forger HS256 secret'), userClaims())))),
      JWT_EXPIRED: async () => send(authz(), bearer(await user({ exp: nowSeconds() - 3600 }))),
      JWT_NOT_YET_VALID: async () => send(authz(), bearer(await user({ nbf: nowSeconds() + 3600 }))),
      JWT_TOO_OLD: async () => send(authz(), bearer(await user({ iat: nowSeconds() - 3 * 86400 }))),
      JWT_AUDIENCE_MISMATCH: async () => send(authz(), bearer(await user({ aud: 'other-app' }))),
      JWT_CLAIM_MISSING: async () => send(authz(), bearer(await user({ sub: undefined }))),
      JWT_CLAIM_INVALID: async () => send(authz(), bearer(await user({ app_metadata: { tenant_id: { $ne: null } } }))),
      JWT_ROLE_NOT_ALLOWED: async () => send(authz(), bearer(await user({ role: 'service_role' }))),
      JWT_ANONYMOUS_NOT_ALLOWED: async () => send(authz(), bearer(await user({ is_anonymous: true }))),
      JWT_LIFETIME_TOO_LONG: async () => send(authz(), bearer(await user({ iat: nowSeconds(), exp: nowSeconds() + 2 * 86400 }))),
      JWT_TOKEN_TYPE_NOT_ALLOWED: async () => send(presets(), bearer(vault.jwt(await cognitoAccess(fx, { token_use: 'id', aud: COGNITO_CLIENT })))),
      JWT_CLIENT_NOT_ALLOWED: async () => send(presets(), bearer(vault.jwt(await cognitoAccess(fx, { client_id: 'otherappclient0000000000' })))),
      JWT_SESSION_PENDING: async () => send(presets(), bearer(vault.jwt(await clerkSession(fx, { sts: 'pending' })))),
      JWT_KEYS_UNAVAILABLE: async () => {
        fx.supabaseJwks.setMode('garbage');
        try {
          return await send(authz(), bearer(await es256()));
        } finally {
          fx.supabaseJwks.setMode('ok');
        }
      },
      JWT_SECRET_UNAVAILABLE: async () => send(authz({}, { secretsManager: unreachableSm() }), bearer(await user())),
      APIKEY_PREFIX_UNKNOWN: () => send(authz(), bearer(vault.apiKey(generateApiKey('zz', 'live')))),
      APIKEY_CHECKSUM_INVALID: () => send(authz(), bearer(vault.apiKey(`${generateApiKey('gh', 'live').slice(0, -8)}00000000`))),
      APIKEY_ENVIRONMENT_MISMATCH: () => send(authz(), bearer(vault.apiKey(generateApiKey('gh', 'test')))),
      APIKEY_NOT_FOUND: () => send(authz(), bearer(vault.apiKey(generateApiKey('gh', 'live')))),
      APIKEY_REVOKED: async () => send(authz(), bearer(await newApiKey({ tenantId: 'acme', status: 'revoked' }))),
      APIKEY_EXPIRED: async () => send(authz(), bearer(await newApiKey({ tenantId: 'acme', expiresAt: nowSeconds() - 5 }))),
      APIKEY_LOOKUP_BUDGET_EXCEEDED: async () => {
        const a = authz({ apiKeys: { prefix: 'gh', unknownKeyLookupsPerSecond: 1 } });
        await send(a, bearer(vault.apiKey(generateApiKey('gh', 'live'))));
        return send(a, bearer(vault.apiKey(generateApiKey('gh', 'live'))));
      },
      APIKEY_RECORD_INVALID: async () => {
        const key = vault.apiKey(generateApiKey('gh', 'live'));
        await fx.putInvalidApiKey(key);
        return send(authz(), bearer(key));
      },
      APIKEY_STORE_UNAVAILABLE: async () => send(authz({}, { dynamodb: unreachableDb() }), bearer(await newApiKey({ tenantId: 'acme' }))),
      SERVICE_NOT_ACCEPTED: () => send(authz({ routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }] }), service(fx.serviceSecret)),
      SERVICE_UNKNOWN: () => send(authz(), service(fx.serviceSecret, 'payroll'), jobs),
      SERVICE_SECRET_MISMATCH: () => send(authz(), service(randomSecret('wrong service secret')), jobs),
      SERVICE_SECRET_UNAVAILABLE: () => send(authz({}, { secretsManager: unreachableSm() }), service(fx.serviceSecret), jobs),
      SIGNED_NOT_ACCEPTED: () => send(authz(), signed(), WEBHOOK),
      SIGNATURE_MALFORMED: () => {
        const headers = signed();
        return send(browserAndSigned(), { ...headers, Authorization: `${headers.Authorization}, Extra=${randomSecret('extra header member')}` }, WEBHOOK);
      },
      SIGNER_UNKNOWN: () => send(browserAndSigned(), signed({ caller: 'nobody' }), WEBHOOK),
      SIGNATURE_TIMESTAMP_OUT_OF_WINDOW: () => send(browserAndSigned(), signed({ timestamp: nowSeconds() - 3600 }), WEBHOOK),
      SIGNATURE_BODY_HASH_INVALID: () => send(browserAndSigned(), { ...signed(), 'X-Content-SHA256': 'A'.repeat(64) }, WEBHOOK),
      SIGNATURE_MISMATCH: () => send(browserAndSigned(), signed({ secret: randomSecret('forger signer secret') }), WEBHOOK),
      SIGNATURE_REPLAYED: async () => {
        const [authorize, headers] = [browserAndSigned(), signed()];
        await expectAnswer(send(authorize, headers, WEBHOOK), 200, 'ALLOWED');
        return send(authorize, headers, WEBHOOK);
      },
      SIGNER_SECRET_UNAVAILABLE: () => send(browserAndSigned({}, { secretsManager: unreachableSm() }), signed(), WEBHOOK),
      NONCE_STORE_UNAVAILABLE: () => send(browserAndSigned({}, { dynamodb: unreachableDb() }), signed(), WEBHOOK),
      TENANT_MISSING: async () => send(authz(), bearer(await user({ app_metadata: {} }))),
      TENANT_UNKNOWN: async () => send(authz(), bearer(await newApiKey({ tenantId: 'nobody' }))),
      TENANT_SUSPENDED: async () => send(authz(), bearer(await user({ app_metadata: { tenant_id: 'frozen' } }))),
      TENANT_NOT_ONBOARDED: async () => send(authz({ tenants: { requireUsageKey: true } }), bearer(await user({ app_metadata: { tenant_id: 'bare' } }))),
      TENANT_STORE_UNAVAILABLE: async () => send(authz({}, { dynamodb: unreachableDb() }), bearer(await user())),
      OWNER_MISMATCH: async () => send(authz({ owner: { subject: 'the-owner' } }), bearer(await user())),
      TENANT_HEADER_MISSING: async () => send(members(), bearer(await user())),
      TENANT_HEADER_INVALID: async () => send(members(), bearer(await user(), { 'X-Tenant-Id': 'acme.corp' })),
      TENANT_MISMATCH: async () => send(members(), bearer(await newApiKey({ tenantId: 'acme' }), { 'X-Tenant-Id': 'globex' })),
      MEMBERSHIP_NOT_FOUND: async () => send(members(), bearer(await user({ sub: 'not-a-member' }), { 'X-Tenant-Id': 'acme' })),
      MEMBERSHIP_RECORD_INVALID: async () => {
        await putMember(fx.tableName, { tenantId: 'acme', issuer: 'supabase', subject: 'user-bad-role', role: 'owner' });
        return send(members(), bearer(await user({ sub: 'user-bad-role' }), { 'X-Tenant-Id': 'acme' }));
      },
      MEMBERSHIP_STORE_UNAVAILABLE: async () =>
        send(members({ tenants: { verify: false } }, { dynamodb: unreachableDb() }), bearer(await user(), { 'X-Tenant-Id': 'acme' })),
      SESSION_MISSING: async () => send(denyList(), bearer(await user())),
      SESSION_REVOKED: async () => {
        await revokeSession(fx.tableName, 'supabase', 'session-revoked');
        return send(denyList(), bearer(await user({ session_id: 'session-revoked' })));
      },
      SESSION_STORE_UNAVAILABLE: async () => send(denyList({ dynamodb: unreachableDb() }), bearer(await user({ session_id: 'session-1' }))),
      NO_ROUTE_PERMITTED: async () => send(authz({ routes: [{ method: 'GET', path: '/v1/me', accepts: ['apiKey'] }] }), bearer(await user())),
      ROUTE_NOT_PERMITTED: async () => send(authz(), bearer(await newApiKey({ tenantId: 'acme' })), { method: 'DELETE', path: '/v1/customers/1' }),
      INTERNAL_ERROR: async () => send(authz(), bearer(await user()), { methodArn: 'not-an-arn' }),
    };
    const STATUS = { unauthorized: 401, forbidden: 403, error: 500 } as const;

    for (const code of Object.keys(scenarios) as ReasonCode[]) {
      const status = await scenarios[code]();
      expect({ code, status, reason: lastReason() }).toEqual({ code, status: STATUS[REASONS[code]], reason: code });
    }
  });

  it('JWKS endpoint down, hanging or serving garbage, with and without cached keys', async () => {
    const oidc = (o: Record<string, unknown> = {}): Partial<AuthorizerConfigInput> => ({
      issuers: [{ ...(fx.config.issuers![1] as object), jwksTimeoutMs: 300, ...o } as NonNullable<AuthorizerConfigInput['issuers']>[number]],
    });
    try {
      for (const mode of ['error', 'garbage', 'hang'] as const) {
        fx.oidcJwks.setMode(mode);
        await expectAnswer(send(authz(oidc()), bearer(await corp())), 500, 'JWT_KEYS_UNAVAILABLE');

        fx.oidcJwks.setMode('ok');
        const clock = movableClock();
        const warm = authz(oidc(), { now: clock.now });
        await expectAnswer(send(warm, bearer(await corp({}, clock.seconds()))), 200, 'ALLOWED');
        fx.oidcJwks.setMode(mode);
        clock.advance(601_000);
        await expectAnswer(send(warm, bearer(await corp({}, clock.seconds()))), 200, 'ALLOWED');
        const stranger = await makeKey('RS256');
        const unknownKid = vault.jwt(await signWith(stranger, { iss: fx.oidcIssuer, sub: 'u9', aud: 'gatehouse-api', org: 'acme', iat: clock.seconds(), exp: clock.seconds() + 7200 }));
        await expectAnswer(send(warm, bearer(unknownKid)), 500, 'JWT_KEYS_UNAVAILABLE');
        clock.advance(3601_000);
        await expectAnswer(send(warm, bearer(await corp({}, clock.seconds()))), 500, 'JWT_KEYS_UNAVAILABLE');
      }
    } finally {
      fx.oidcJwks.setMode('ok');
    }
  });

  it('Secrets Manager unavailable: stale secrets, then refusal', async () => {
    const sm = switchableSecretsManager();
    const clock = movableClock();
    const authorize = authz({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: fx.supabaseSecretId, jwks: false }] }, { secretsManager: sm.client, now: clock.now });
    const token = async () => vault.jwt(await signHs256(fx.supabaseSecret, userClaims({ iat: clock.seconds(), exp: clock.seconds() + 7200 })));

    await expectAnswer(send(authorize, bearer(await token())), 200, 'ALLOWED');
    await expectAnswer(send(authorize, service(fx.serviceSecret), jobs), 200, 'ALLOWED');
    sm.setDown(true);
    clock.advance(301_000);
    await expectAnswer(send(authorize, bearer(await token())), 200, 'ALLOWED');
    await expectAnswer(send(authorize, service(fx.serviceSecret), jobs), 200, 'ALLOWED');
    await expectAnswer(send(authorize, service(randomSecret('wrong service secret during outage')), jobs), 401, 'SERVICE_SECRET_MISMATCH');
    clock.advance(3300_000);
    await expectAnswer(send(authorize, bearer(await token())), 500, 'JWT_SECRET_UNAVAILABLE');
    await expectAnswer(send(authorize, service(fx.serviceSecret), jobs), 500, 'SERVICE_SECRET_UNAVAILABLE');
    sm.client.destroy();
  });

  it('DynamoDB throttled, unreachable, or never answering', async () => {
    const throttled = throttlingDynamoDb({ maxAttempts: 2 });
    await expectAnswer(send(authz({}, { dynamodb: throttled.client }), bearer(await newApiKey({ tenantId: 'acme' }))), 500, 'APIKEY_STORE_UNAVAILABLE');
    await expectAnswer(send(authz({}, { dynamodb: throttled.client }), bearer(await user())), 500, 'TENANT_STORE_UNAVAILABLE');
    throttled.client.destroy();

    const server = await throttlingDynamoDbServer();
    const hung = await hangingServer();
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    try {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = server.url;
      await expectAnswer(send(authz({}, { dynamodb: undefined }), bearer(await newApiKey({ tenantId: 'acme' }))), 500, 'APIKEY_STORE_UNAVAILABLE');
      // A DynamoDB that never answers: the default client gives up after its request timeout (2 attempts of 1 s),
      // and whatever the SDK prints on the way is captured and audited with the rest.
      process.env.AWS_ENDPOINT_URL_DYNAMODB = hung.url;
      expect(await send(authz({}, { dynamodb: undefined }), bearer(await newApiKey({ tenantId: 'acme' })))).toBe(500);
      await hung.close();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
      await server.close();
      await hung.close();
    }
  });

  it('50 concurrent first requests of every kind', async () => {
    const authorize = authz();
    const key = await newApiKey({ tenantId: 'acme' });
    const requests = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        switch (i % 5) {
          case 0:
            return send(authorize, bearer(await user({ sub: `user-${i}` })));
          case 1:
            return send(authorize, bearer(await es256({ sub: `user-${i}` })));
          case 2:
            return send(authorize, bearer(await corp({ sub: `u${i}` })));
          case 3:
            return send(authorize, bearer(key));
          default:
            return send(authorize, service(fx.serviceSecret), jobs);
        }
      }),
    );

    expect(requests.every((s) => s === 200)).toBe(true);
  });

  it('handlers, with real credentials in the headers and secrets in bodies, paths and queries', async () => {
    const token = await user();
    const key = await newApiKey({ tenantId: 'acme', scopes: ['customers:read', 'customers:write'] });
    const headers = (value: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${value}`, ...extra });
    const down = new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 });
    const me = createMeHandler();
    const internalJobs = createInternalJobsHandler();
    const health = createHealthHandler();
    const customers = createCustomersHandler({ dynamodb: fx.clients.dynamodb, tableName: fx.tableName });
    const customersDown = createCustomersHandler({ dynamodb: down, tableName: fx.tableName });
    const call = async (handler: (e: ReturnType<typeof proxyEvent>, c: ReturnType<typeof lambdaContext>) => Promise<APIGatewayProxyResult>, spec: Parameters<typeof proxyEvent>[0]) =>
      (await handler(proxyEvent(spec), lambdaContext())).statusCode;
    const asKey = apiKeyAuthorizer({ tenantId: 'acme', scopes: 'customers:read customers:write' });

    const statuses = {
      me: await call(me, { resource: '/v1/me', headers: headers(token), authorizer: userAuthorizer() }),
      meNoContext: await call(me, { resource: '/v1/me', headers: headers(token), authorizer: null }),
      meBadContext: await call(me, { resource: '/v1/me', headers: headers(key), authorizer: userAuthorizer({ kind: 'root' }) }),
      jobs: await call(internalJobs, { method: 'POST', resource: '/internal/jobs', headers: headers(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), authorizer: serviceAuthorizer() }),
      jobsAsUser: await call(internalJobs, { method: 'POST', resource: '/internal/jobs', headers: headers(token), authorizer: userAuthorizer() }),
      health: await call(health, { resource: '/health', headers: headers(key) }),
      create: await call(customers, { method: 'POST', resource: '/v1/customers', headers: headers(key), authorizer: asKey, body: { name: 'Ada', email: 'ada@example.com' } }),
      createSecretValues: await call(customers, {
        method: 'POST',
        resource: '/v1/customers',
        headers: headers(key),
        authorizer: asKey,
        body: { name: fx.serviceSecret, email: `not-an-email-${key}`, password: fx.supabaseSecret },
      }),
      createInvalidJson: await call(customers, { method: 'POST', resource: '/v1/customers', headers: headers(key), authorizer: asKey, body: `{"name": "${key}", "token": "${token}"` }),
      getSecretId: await call(customers, { resource: '/v1/customers/{id}', pathParameters: { id: key }, headers: headers(key), authorizer: asKey }),
      listSecretCursor: await call(customers, { resource: '/v1/customers', query: { cursor: token, limit: fx.serviceSecret }, headers: headers(key), authorizer: asKey }),
      scopeMissing: await call(customers, { method: 'DELETE', resource: '/v1/customers/{id}', pathParameters: { id: key }, headers: headers(key), authorizer: apiKeyAuthorizer() }),
      unknownRoute: await call(customers, { resource: '/v1/nope', headers: headers(key), authorizer: asKey }),
      dynamoDown: await call(customersDown, { resource: '/v1/customers', headers: headers(token), authorizer: userAuthorizer() }),
    };
    down.destroy();

    expect(statuses).toEqual({
      me: 200,
      meNoContext: 500,
      meBadContext: 500,
      jobs: 202,
      jobsAsUser: 403,
      health: 200,
      create: 201,
      createSecretValues: 400,
      createInvalidJson: 400,
      getSecretId: 400,
      listSecretCursor: 400,
      scopeMissing: 403,
      unknownRoute: 404,
      dynamoDown: 500,
    });
    // The handlers wrote their lines to stdout, where the audit reads them.
    expect(captured.slice(mark.captured).filter((c) => c.source === 'stdout' && c.text.includes('"request failed"')).length).toBeGreaterThanOrEqual(9);
  });

  it('configuration errors name the field, never the value', () => {
    const d = String(randomSecret('misplaced private key member'));
    const cases: Record<string, unknown>[] = [
      { issuers: [{ type: 'oidc', issuer: 'https://x.example/', keys: { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d }] } }, algorithms: ['ES256'], audience: 'a' }] },
      { apiKeys: { prefix: fx.serviceSecret } },
      { environment: fx.supabaseSecret },
      { maxAuthorizationBytes: fx.serviceSecret },
      { tableName: `${fx.supabaseSecret}!` },
      { issuers: [{ type: 'supabase', url: `http://${fx.serviceSecret}.example.com`, jwks: true }] },
      { routes: [{ method: 'GET', path: `/${fx.serviceSecret} `, accepts: ['user'] }] },
    ];
    for (const overrides of cases) {
      let message = '';
      try {
        createAuthorizer({ ...fx.config, ...overrides });
      } catch (err) {
        message = `${(err as Error).name}: ${(err as Error).message}`;
      }
      expect(message).toMatch(/^ConfigError: /);
      captured.push({ source: 'config error', text: message });
    }
  });

  it('the audit saw every reason code, every decision on stdout, and finds a planted secret', () => {
    const decisions = fx.logs.filter((l) => l.message === 'decision');
    const reasons = new Set(decisions.map((l) => String(l.reason)));
    const stdoutDecisions = captured.filter((c) => c.source === 'stdout' && c.text.includes('"message":"decision"')).length;

    expect([...Object.keys(REASONS), 'ALLOWED'].filter((r) => !reasons.has(r))).toEqual([]);
    expect(stdoutDecisions).toBe(decisions.length);
    expect(decisions.length).toBeGreaterThan(100);
    expect(vault.size.parts).toBeGreaterThan(100);
    // The scanner works: a 16-character piece of a secret in the middle of a line is found.
    expect(vault.scan(`{"x":"..${fx.serviceSecret.slice(5, 21)}.."}`)).toEqual([{ label: 'service secret', at: 8 }]);
    expect(vault.scan(`{"x":"..${fx.serviceSecret.slice(5, 20)}.."}`)).toEqual([]);
    // The signer secret is in the vault too, in each spelling.
    expect(vault.scan(`..${signerSecret.slice(3, 19)}`)).toEqual([{ label: 'signer secret', at: 2 }]);
    expect(vault.scan(Buffer.from(signerSecret).toString('hex').slice(0, 40))).toEqual([{ label: 'signer secret (hex)', at: 0 }]);
  });

  // A client that sends a credential as a field name (`{ "gh_live_...": true }`, a pasted header) must not get it
  // logged or echoed: validationIssues names unknown fields only when they look like field names.
  it('does not log or echo an unknown body field named with an API key', async () => {
    const key = await newApiKey({ tenantId: 'acme' });
    const customers = createCustomersHandler({ dynamodb: fx.clients.dynamodb, tableName: fx.tableName });
    const authorizer = apiKeyAuthorizer({ tenantId: 'acme', scopes: 'customers:write' });

    const res = await customers(proxyEvent({ method: 'POST', resource: '/v1/customers', body: { name: 'Ada', [key]: true }, authorizer }), lambdaContext());

    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain(key.slice(8, 24));
    expect(leaksSince(mark)).toEqual([]);
  });
});
