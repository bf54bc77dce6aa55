import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../../contract/api-key';
import { REASONS, type ReasonCode } from '../../../lambdas/authorizer/errors';
import { evaluatePolicy, type PolicyDocument } from '../../../lambdas/authorizer/policy';
import type { AuthorizerConfigInput } from '../../../contract/config';
import { uniqueName } from '../../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture, signedHeaders, withRequestLine } from '../../support/fixture';
import { makeKey, nowSeconds, signHs256, signWith } from '../../support/jwt';
import { putMember, revokeSession } from './records';
import { COGNITO_CLIENT, clerkSession, cognitoAccess, presetIssuers } from '../../support/preset-issuers';

/**
 * One scenario per reason code, each through the real handler with real AWS wire APIs, asserting both the status
 * API Gateway would answer and the code in the decision log. A code added without a scenario fails the last test.
 */
let fx: Fixture;
const SIGNER = 'stripe-relay';
const signerSecret = randomBytes(32).toString('base64url');
const signerSecretId = uniqueName('signer');
beforeAll(async () => {
  fx = await createFixture();
  const sm = new SecretsManagerClient({});
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
  sm.destroy();
  await fx.putTenant({ tenantId: 'acme' });
  await fx.putTenant({ tenantId: 'frozen', status: 'suspended' });
  await putMember(fx.tableName, { tenantId: 'acme', issuer: 'supabase', subject: 'user-bad-role', role: 'owner' });
  await revokeSession(fx.tableName, 'supabase', 'session-revoked');
});
afterAll(() => fx.close());

type Status = 200 | 401 | 403 | 500;
interface Scenario {
  readonly run: () => Promise<Status>;
}

const unreachable = () => new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
const unreachableSecrets = () => new SecretsManagerClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });

async function send(
  headers: Record<string, string>,
  opts: { method?: string; path?: string; authorizer?: ReturnType<Fixture['authorizer']>; methodArn?: string; multi?: Record<string, string[]> } = {},
): Promise<Status> {
  const method = opts.method ?? 'GET';
  const path = opts.path ?? '/v1/me';
  const event = withRequestLine(authorizerEvent(headers, method, path, path, opts.multi));
  if (opts.methodArn) event.methodArn = opts.methodArn;
  try {
    const result = await (opts.authorizer ?? fx.authorizer())(event);
    return evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`) === 'Allow' ? 200 : 403;
  } catch (err) {
    return (err as Error).message === 'Unauthorized' ? 401 : 500;
  }
}

const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });
const user = (claims: Record<string, unknown> = {}) => fx.userToken(claims);
const seg = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
// Membership mode and the session deny list, on the fixture's own configuration.
const members = (deps: Parameters<Fixture['authorizer']>[1] = {}, extra: Record<string, unknown> = {}) => fx.authorizer({ membership: {}, ...extra }, deps);
const denyList = (deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  fx.authorizer({ issuers: [{ ...(fx.config.issuers![0] as object), revokedSessions: true } as never, fx.config.issuers![1]!] }, deps);

// Hosted-provider presets (Cognito, Clerk) beside the fixture's issuers.
const presets = () => fx.authorizer({ issuers: [...fx.config.issuers!, ...presetIssuers(fx)] });

// Browser callers (a JWT in a cookie, the CSRF check on mutating requests) and signed requests.
const SESSION = '/v1/session';
const WEBHOOK = { method: 'POST', path: '/v1/webhooks/stripe' };
const browser = (extra: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) =>
  fx.authorizer(
    { routes: [...TEST_ROUTES!, { method: 'ANY', path: SESSION, accepts: ['user'], cookie: 'sb-access-token' }, { method: 'POST', path: WEBHOOK.path, accepts: ['signed'] }], signers: [{ name: SIGNER, secretId: signerSecretId }], ...extra },
    deps,
  );
const cookie = (token: string, csrf?: string, extra: Record<string, string> = {}) => ({ Cookie: `sb-access-token=${token}${csrf ? `; __Host-gh-csrf=${csrf}` : ''}`, ...extra });
const csrfToken = () => randomBytes(18).toString('base64url');
const signed = (o: { timestamp?: number; caller?: string; secret?: string; nonce?: string } = {}) =>
  signedHeaders({ secret: o.secret ?? signerSecret, caller: o.caller ?? SIGNER, body: '{"id":"evt_1"}', requestPath: `/prod${WEBHOOK.path}`, ...o }).headers;

const SCENARIOS: Record<ReasonCode, Scenario> = {
  // A good credential with a client's own X-Gatehouse-* header (any case, either header map): refused before it is read.
  CONTEXT_HEADER_FROM_CLIENT: {
    run: async () => {
      const key = (await fx.putApiKey({ tenantId: 'acme' })).key;
      expect(await send(bearer(key))).toBe(200);
      expect(await send(bearer(key), { multi: { 'x-gatehouse-roles': ['admin'] } })).toBe(401);
      return send(bearer(await user(), { 'X-Gatehouse-Scopes': 'orders:write' }));
    },
  },
  CREDENTIAL_MISSING: { run: () => send({}) },
  CREDENTIAL_MULTIPLE: {
    run: async () => {
      const t = await user();
      return send(bearer(t), { multi: { Authorization: [`Bearer ${t}`, `Bearer ${t}`] } });
    },
  },
  AUTHORIZATION_MALFORMED: { run: async () => send({ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }) },
  AUTHORIZATION_TOO_LARGE: { run: () => send(bearer('a'.repeat(9000))) },
  CREDENTIAL_UNRECOGNIZED: { run: () => send(bearer('not-a-jwt-nor-a-key')) },
  CREDENTIAL_AMBIGUOUS: { run: async () => send(bearer(await user(), cookie(await user())), { path: SESSION, authorizer: browser() }) },
  COOKIE_MALFORMED: { run: () => send(cookie('"not a jwt"'), { path: SESSION, authorizer: browser() }) },
  CSRF_TOKEN_MISSING: { run: async () => send(cookie(await user()), { method: 'POST', path: SESSION, authorizer: browser() }) },
  CSRF_TOKEN_MISMATCH: { run: async () => send(cookie(await user(), csrfToken(), { 'X-CSRF-Token': csrfToken() }), { method: 'POST', path: SESSION, authorizer: browser() }) },
  CSRF_ORIGIN_NOT_ALLOWED: {
    run: async () => {
      const csrf = csrfToken();
      return send(cookie(await user(), csrf, { 'X-CSRF-Token': csrf, Origin: 'https://evil.example.com' }), {
        method: 'POST',
        path: SESSION,
        authorizer: browser({ csrf: { allowedOrigins: ['https://app.example.com'] } }),
      });
    },
  },
  JWT_MALFORMED: { run: () => send(bearer(`${Buffer.from('{"alg":').toString('base64url')}.${seg({ iss: 'x' })}.c2ln`)) },
  JWT_HEADER_FORBIDDEN: { run: async () => send(bearer(await signHs256(fx.supabaseSecret, { iss: `${fx.supabaseUrl}/auth/v1` }, { jku: 'https://evil.example/jwks' }))) },
  JWT_ISSUER_UNKNOWN: { run: async () => send(bearer(await user({ iss: 'https://evil.example/auth/v1' }))) },
  JWT_ALG_NOT_ALLOWED: { run: () => send(bearer(`${seg({ alg: 'none', typ: 'JWT' })}.${seg({ iss: `${fx.supabaseUrl}/auth/v1`, sub: 'x' })}.c2ln`)) },
  JWT_KID_UNKNOWN: {
    run: async () => send(bearer(await signWith(await makeKey('ES256'), { iss: `${fx.supabaseUrl}/auth/v1`, sub: 'u', aud: 'authenticated', role: 'authenticated', iat: nowSeconds() }))),
  },
  JWT_SIGNATURE_INVALID: { run: async () => send(bearer(await signHs256(randomBytes(32), { iss: `${fx.supabaseUrl}/auth/v1`, sub: 'u' }))) },
  JWT_EXPIRED: { run: async () => send(bearer(await user({ exp: nowSeconds() - 3600 }))) },
  JWT_NOT_YET_VALID: { run: async () => send(bearer(await user({ nbf: nowSeconds() + 3600 }))) },
  JWT_TOO_OLD: { run: async () => send(bearer(await user({ iat: nowSeconds() - 3 * 86400 }))) },
  JWT_AUDIENCE_MISMATCH: { run: async () => send(bearer(await user({ aud: 'other-app' }))) },
  JWT_CLAIM_MISSING: { run: async () => send(bearer(await user({ sub: undefined }))) },
  JWT_CLAIM_INVALID: { run: async () => send(bearer(await user({ app_metadata: { tenant_id: { $ne: null } } }))) },
  JWT_ROLE_NOT_ALLOWED: { run: async () => send(bearer(await user({ role: 'service_role' }))) },
  JWT_ANONYMOUS_NOT_ALLOWED: { run: async () => send(bearer(await user({ is_anonymous: true }))) },
  // Minted to live two days where the age cap is one: refused at once, not only a day from now.
  JWT_LIFETIME_TOO_LONG: { run: async () => send(bearer(await user({ iat: nowSeconds(), exp: nowSeconds() + 2 * 86400 }))) },
  // The provider's other tokens: a Cognito id token where access tokens are expected, another app client's token.
  JWT_TOKEN_TYPE_NOT_ALLOWED: { run: async () => send(bearer(await cognitoAccess(fx, { token_use: 'id', aud: COGNITO_CLIENT })), { authorizer: presets() }) },
  JWT_CLIENT_NOT_ALLOWED: { run: async () => send(bearer(await cognitoAccess(fx, { client_id: 'otherappclient0000000000' })), { authorizer: presets() }) },
  JWT_SESSION_PENDING: { run: async () => send(bearer(await clerkSession(fx, { sts: 'pending' })), { authorizer: presets() }) },
  JWT_KEYS_UNAVAILABLE: {
    run: async () => {
      fx.supabaseJwks.setMode('garbage');
      try {
        return await send(bearer(await signWith(fx.supabaseKey, { iss: `${fx.supabaseUrl}/auth/v1`, sub: 'u', aud: 'authenticated', role: 'authenticated', iat: nowSeconds() })));
      } finally {
        fx.supabaseJwks.setMode('ok');
      }
    },
  },
  JWT_SECRET_UNAVAILABLE: { run: async () => send(bearer(await user()), { authorizer: fx.authorizer({}, { secretsManager: unreachableSecrets() }) }) },
  APIKEY_PREFIX_UNKNOWN: { run: () => send(bearer(generateApiKey('zz', 'live'))) },
  APIKEY_CHECKSUM_INVALID: { run: () => send(bearer(`gh_live_${'ab'.repeat(32)}00000000`)) },
  APIKEY_ENVIRONMENT_MISMATCH: { run: () => send(bearer(generateApiKey('gh', 'test'))) },
  APIKEY_NOT_FOUND: { run: () => send(bearer(generateApiKey('gh', 'live'))) },
  APIKEY_REVOKED: { run: async () => send(bearer((await fx.putApiKey({ tenantId: 'acme', status: 'revoked' })).key)) },
  APIKEY_EXPIRED: { run: async () => send(bearer((await fx.putApiKey({ tenantId: 'acme', expiresAt: nowSeconds() - 5 })).key)) },
  APIKEY_LOOKUP_BUDGET_EXCEEDED: {
    run: async () => {
      // One lookup a second for never-found keys: the first forged key spends it, the second is refused unread.
      const authorizer = fx.authorizer({ apiKeys: { prefix: 'gh', unknownKeyLookupsPerSecond: 1 } });
      await send(bearer(generateApiKey('gh', 'live')), { authorizer });
      return send(bearer(generateApiKey('gh', 'live')), { authorizer });
    },
  },
  APIKEY_RECORD_INVALID: {
    run: async () => {
      const key = generateApiKey('gh', 'live');
      await fx.putInvalidApiKey(key);
      return send(bearer(key));
    },
  },
  APIKEY_STORE_UNAVAILABLE: { run: () => send(bearer(generateApiKey('gh', 'live')), { authorizer: fx.authorizer({}, { dynamodb: unreachable() }) }) },
  SERVICE_NOT_ACCEPTED: {
    run: () =>
      send(bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), {
        authorizer: fx.authorizer({ routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }] }),
      }),
  },
  SERVICE_UNKNOWN: { run: () => send(bearer(fx.serviceSecret, { 'X-Service-Name': 'payroll' }), { method: 'POST', path: '/internal/jobs' }) },
  SERVICE_SECRET_MISMATCH: {
    run: () => send(bearer(randomBytes(32).toString('base64url'), { 'X-Service-Name': fx.serviceName }), { method: 'POST', path: '/internal/jobs' }),
  },
  SERVICE_SECRET_UNAVAILABLE: {
    run: () =>
      send(bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), {
        method: 'POST',
        path: '/internal/jobs',
        authorizer: fx.authorizer({}, { secretsManager: unreachableSecrets() }),
      }),
  },
  SIGNED_NOT_ACCEPTED: { run: () => send(signed(), WEBHOOK) },
  SIGNATURE_MALFORMED: {
    run: () => {
      const headers = signed();
      return send({ ...headers, Authorization: headers.Authorization!.replace(', Nonce=', ',Nonce=') }, { ...WEBHOOK, authorizer: browser() });
    },
  },
  SIGNER_UNKNOWN: { run: () => send(signed({ caller: 'nobody' }), { ...WEBHOOK, authorizer: browser() }) },
  SIGNATURE_TIMESTAMP_OUT_OF_WINDOW: { run: () => send(signed({ timestamp: nowSeconds() - 3600 }), { ...WEBHOOK, authorizer: browser() }) },
  SIGNATURE_BODY_HASH_INVALID: { run: () => send({ ...signed(), 'X-Content-SHA256': 'not-a-hash' }, { ...WEBHOOK, authorizer: browser() }) },
  SIGNATURE_MISMATCH: { run: () => send(signed({ secret: randomBytes(32).toString('base64url') }), { ...WEBHOOK, authorizer: browser() }) },
  SIGNATURE_REPLAYED: {
    run: async () => {
      const headers = signed();
      const authorizer = browser();
      expect(await send(headers, { ...WEBHOOK, authorizer })).toBe(200);
      return send(headers, { ...WEBHOOK, authorizer });
    },
  },
  SIGNER_SECRET_UNAVAILABLE: { run: () => send(signed(), { ...WEBHOOK, authorizer: browser({}, { secretsManager: unreachableSecrets() }) }) },
  NONCE_STORE_UNAVAILABLE: { run: () => send(signed(), { ...WEBHOOK, authorizer: browser({}, { dynamodb: unreachable() }) }) },
  TENANT_MISSING: { run: async () => send(bearer(await user({ app_metadata: {} }))) },
  TENANT_UNKNOWN: { run: async () => send(bearer(await user({ app_metadata: { tenant_id: 'nobody' } }))) },
  TENANT_SUSPENDED: { run: async () => send(bearer(await user({ app_metadata: { tenant_id: 'frozen' } }))) },
  // acme has no usage-plan key: where the stack puts usage plans on the API, it must not get in.
  TENANT_NOT_ONBOARDED: { run: async () => send(bearer(await user()), { authorizer: fx.authorizer({ tenants: { requireUsageKey: true } }) }) },
  TENANT_STORE_UNAVAILABLE: { run: async () => send(bearer(await user()), { authorizer: fx.authorizer({}, { dynamodb: unreachable() }) }) },
  OWNER_MISMATCH: { run: async () => send(bearer(await user()), { authorizer: fx.authorizer({ owner: { subject: 'the-owner' } }) }) },
  TENANT_HEADER_MISSING: { run: async () => send(bearer(await user()), { authorizer: members() }) },
  TENANT_HEADER_INVALID: { run: async () => send(bearer(await user(), { 'X-Tenant-Id': 'acme.corp' }), { authorizer: members() }) },
  TENANT_MISMATCH: {
    run: async () => send(bearer((await fx.putApiKey({ tenantId: 'acme' })).key, { 'X-Tenant-Id': 'globex' }), { authorizer: members() }),
  },
  MEMBERSHIP_NOT_FOUND: { run: async () => send(bearer(await user({ sub: 'user-not-a-member' }), { 'X-Tenant-Id': 'acme' }), { authorizer: members() }) },
  MEMBERSHIP_RECORD_INVALID: { run: async () => send(bearer(await user({ sub: 'user-bad-role' }), { 'X-Tenant-Id': 'acme' }), { authorizer: members() }) },
  MEMBERSHIP_STORE_UNAVAILABLE: {
    // Tenant checks off, so the member lookup is the first DynamoDB call (the HS256 secret comes from Secrets Manager).
    run: async () => send(bearer(await user(), { 'X-Tenant-Id': 'acme' }), { authorizer: members({ dynamodb: unreachable() }, { tenants: { verify: false } }) }),
  },
  SESSION_MISSING: { run: async () => send(bearer(await user()), { authorizer: denyList() }) },
  SESSION_REVOKED: { run: async () => send(bearer(await user({ session_id: 'session-revoked' })), { authorizer: denyList() }) },
  SESSION_STORE_UNAVAILABLE: { run: async () => send(bearer(await user({ session_id: 'session-1' })), { authorizer: denyList({ dynamodb: unreachable() }) }) },
  NO_ROUTE_PERMITTED: {
    run: async () => send(bearer(await user()), { authorizer: fx.authorizer({ routes: [{ method: 'GET', path: '/v1/me', accepts: ['apiKey'] }] }) }),
  },
  ROUTE_NOT_PERMITTED: { run: async () => send(bearer(await user()), { method: 'DELETE', path: '/v1/customers/1' }) },
  INTERNAL_ERROR: { run: async () => send(bearer(await user()), { methodArn: 'not-an-arn' }) },
};

const STATUS: Record<(typeof REASONS)[ReasonCode], Status> = { unauthorized: 401, forbidden: 403, error: 500 };

describe('reason codes', () => {
  it.each(Object.keys(SCENARIOS) as ReasonCode[])('%s: answers its status and logs its code', async (code) => {
    const status = await SCENARIOS[code].run();

    expect({ status, reason: fx.lastReason() }).toEqual({ status: STATUS[REASONS[code]], reason: code });
  });

  it('has a scenario for every reason code', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(Object.keys(REASONS).sort());
  });
});
