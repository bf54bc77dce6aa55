import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../../contract/api-key';
import { evaluatePolicy, type PolicyDocument } from '../../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture } from '../../support/fixture';
import { makeKey, nowSeconds, signHs256, signWith, startJwksServer } from '../../support/jwt';
import type { AnswerFormat } from '../../../lambdas/authorizer/request';
import { v2EventLike } from '../v2-event';

let fx: Fixture;

beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme', usageKey: 'usage-key-acme-0123456789' });
  await fx.putTenant({ tenantId: 'globex' });
  await fx.putTenant({ tenantId: 'initech', status: 'suspended' });
});
afterAll(() => fx.close());

const bearer = (token: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });

/** Runs the authorizer and reports API Gateway's answer for this request: 401, 403, 500 or the Allow result. */
async function decide(handler: ReturnType<Fixture['authorizer']>, headers: Record<string, string>, method = 'GET', path = '/v1/me', format: AnswerFormat = 'rest') {
  try {
    const event = authorizerEvent(headers, method, path);
    const result = await handler(format === 'http-2.0' ? v2EventLike(event) : event);
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`);
    return { status: verdict === 'Allow' ? 200 : 403, result };
  } catch (err) {
    return { status: (err as Error).message === 'Unauthorized' ? 401 : 500, result: undefined };
  }
}

function supabaseClaims(overrides: Record<string, unknown> = {}) {
  const now = nowSeconds();
  return {
    iss: `${fx.supabaseUrl}/auth/v1`,
    sub: '6f1c3b2a-1111-4222-8333-944455556666',
    aud: 'authenticated',
    role: 'authenticated',
    email: 'ada@example.com',
    session_id: 'sess-1',
    is_anonymous: false,
    iat: now,
    exp: now + 3600,
    app_metadata: { tenant_id: 'acme', roles: ['admin'] },
    user_metadata: {},
    ...overrides,
  };
}

describe('Supabase users (legacy HS256 secret in Secrets Manager)', () => {
  it('allows a signed-in user and takes the tenant from app_metadata', async () => {
    const authorize = fx.authorizer();
    const token = await signHs256(fx.supabaseSecret, supabaseClaims());

    const { status, result } = await decide(authorize, bearer(token));

    expect(status).toBe(200);
    expect(result!.principalId).toBe('6f1c3b2a-1111-4222-8333-944455556666');
    expect(result!.context).toMatchObject({ kind: 'user', tenantId: 'acme', issuer: 'supabase', email: 'ada@example.com', roles: 'admin' });
    expect(result!.usageIdentifierKey).toBe('usage-key-acme-0123456789');
    expect(fx.lastReason()).toBe('ALLOWED');
  });

  it('refuses the public anon key, although it is signed with the same secret', async () => {
    const now = nowSeconds();
    const anonKey = await signHs256(fx.supabaseSecret, { iss: `${fx.supabaseUrl}/auth/v1`, role: 'anon', iat: now, exp: now + 10 * 365 * 86400 });

    expect((await decide(fx.authorizer(), bearer(anonKey))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_CLAIM_MISSING'); // the anon key has no `sub`
  });

  it('refuses an anon-role token even when it carries a subject and audience', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ role: 'anon' }));

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_ROLE_NOT_ALLOWED');
  });

  it('refuses the service_role key', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ role: 'service_role' }));

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_ROLE_NOT_ALLOWED');
  });

  it('never takes the tenant from user_metadata, which users can edit', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ app_metadata: {}, user_metadata: { tenant_id: 'globex' } }));

    const { status, result } = await decide(fx.authorizer(), bearer(token));

    expect(status).toBe(403);
    expect(fx.lastReason()).toBe('TENANT_MISSING');
    expect(JSON.stringify(result)).not.toContain('globex');
  });

  it('refuses anonymous users unless the issuer allows them', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ is_anonymous: true }));

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(403);
    expect(fx.lastReason()).toBe('JWT_ANONYMOUS_NOT_ALLOWED');

    const allowing = fx.authorizer({
      issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: fx.supabaseSecretId, allowAnonymous: true }],
    });
    expect((await decide(allowing, bearer(token))).status).toBe(200);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signHs256(randomBytes(32), supabaseClaims());

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_SIGNATURE_INVALID');
  });

  it('reads the secret once per cache period, not once per request', async () => {
    const authorize = fx.authorizer();
    fx.clients.reset();
    for (let i = 0; i < 5; i++) {
      const token = await signHs256(fx.supabaseSecret, supabaseClaims({ sub: `user-${i}` }));
      expect((await decide(authorize, bearer(token))).status).toBe(200);
    }
    expect(fx.clients.count('GetSecretValueCommand')).toBe(1);
  });

  it('fails closed (500) when the HS256 secret is too short to be safe', async () => {
    const sm = new SecretsManagerClient({});
    const weakId = `weak-${randomBytes(4).toString('hex')}`;
    await sm.send(new (await import('@aws-sdk/client-secrets-manager')).CreateSecretCommand({ Name: weakId, SecretString: 'short-secret' }));
    sm.destroy();
    const authorize = fx.authorizer({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: weakId, jwks: false }] });
    const token = await signHs256('short-secret', supabaseClaims());

    expect((await decide(authorize, bearer(token))).status).toBe(500);
    expect(fx.lastReason()).toBe('JWT_SECRET_UNAVAILABLE');
  });

  it('expired, not-yet-valid and too-old tokens are refused with their own reasons', async () => {
    const now = nowSeconds();
    const cases: [Record<string, unknown>, string][] = [
      [{ exp: now - 120 }, 'JWT_EXPIRED'],
      [{ nbf: now + 600 }, 'JWT_NOT_YET_VALID'],
      [{ iat: now - 2 * 86400, exp: now + 60 }, 'JWT_TOO_OLD'],
      [{ aud: 'someone-else' }, 'JWT_AUDIENCE_MISMATCH'],
    ];
    for (const [claims, reason] of cases) {
      const token = await signHs256(fx.supabaseSecret, supabaseClaims(claims));
      expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
      expect(fx.lastReason()).toBe(reason);
    }
  });

  it('accepts a token within the clock tolerance', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ exp: nowSeconds() - 10 }));

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(200);
  });
});

describe('JWKS issuers (Supabase signing keys, OIDC)', () => {
  it('allows an ES256 token verified against the issuer JWKS', async () => {
    const token = await signWith(fx.supabaseKey, supabaseClaims());

    const { status, result } = await decide(fx.authorizer(), bearer(token));

    expect(status).toBe(200);
    expect(result!.context).toMatchObject({ tenantId: 'acme', issuer: 'supabase' });
  });

  it('refuses claims of one issuer signed with another issuer key and kid', async () => {
    // The OIDC issuer's real key and kid, but Supabase's iss: the Supabase JWKS does not hold that kid.
    const token = await signWith(fx.oidcKey, supabaseClaims(), { alg: 'RS256' });

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_KID_UNKNOWN');
  });

  it('refuses an algorithm the issuer does not pin', async () => {
    const es = await makeKey('ES256');
    const token = await signWith(es, { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300, org: 'acme' });

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_ALG_NOT_ALLOWED');
  });

  it('refuses an HS256 token for an asymmetric-only issuer, whatever the secret', async () => {
    const token = await signHs256(JSON.stringify(fx.oidcKey.publicJwk), { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300 });

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_ALG_NOT_ALLOWED');
  });

  // jose measures the cooldown from the last fetch with its own clock: a 1 s cooldown and a real wait.
  const withCooldown = async () => {
    const authorize = fx.authorizer({ issuers: [{ ...fx.config.issuers![1]!, jwksCooldownSeconds: 1 }] });
    const warm = await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300, org: 'acme' });
    expect((await decide(authorize, bearer(warm))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    return authorize;
  };

  it('refetches once for an unknown kid, then refuses; a storm refetches at most once per cooldown', async () => {
    const authorize = await withCooldown();
    const before = fx.oidcJwks.fetches();

    const stranger = await makeKey('RS256');
    const storm = await Promise.all(
      Array.from({ length: 25 }, async (_, i) =>
        decide(authorize, bearer(await signWith({ ...stranger, kid: `unknown-${i}` }, { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300 }))),
      ),
    );

    expect(storm.every((r) => r.status === 401)).toBe(true);
    expect(fx.lastReason()).toBe('JWT_KID_UNKNOWN');
    expect(fx.oidcJwks.fetches() - before).toBe(1);
  });

  it('picks up a rotated key on the refetch an unknown kid triggers', async () => {
    const authorize = await withCooldown();
    const next = await makeKey('RS256');
    fx.oidcJwks.setKeys([fx.oidcKey.publicJwk, next.publicJwk]);
    try {
      const token = await signWith(next, { iss: fx.oidcIssuer, sub: 'u2', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300, org: 'globex' });
      const { status, result } = await decide(authorize, bearer(token));
      expect(status).toBe(200);
      expect(result!.context).toMatchObject({ tenantId: 'globex', issuer: 'corp' });
    } finally {
      fx.oidcJwks.setKeys([fx.oidcKey.publicJwk]);
    }
  });

  it('refuses an unknown issuer without fetching anything', async () => {
    const before = fx.oidcJwks.fetches() + fx.supabaseJwks.fetches();
    const token = await signWith(fx.oidcKey, { iss: `${fx.oidcIssuer}evil`, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300 });

    expect((await decide(fx.authorizer(), bearer(token))).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_ISSUER_UNKNOWN');
    expect(fx.oidcJwks.fetches() + fx.supabaseJwks.fetches()).toBe(before);
  });

  it('fails closed with a 500 when the JWKS endpoint is down and nothing is cached', async () => {
    fx.oidcJwks.setMode('error');
    try {
      const token = await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300, org: 'acme' });
      expect((await decide(fx.authorizer(), bearer(token))).status).toBe(500);
      expect(fx.lastReason()).toBe('JWT_KEYS_UNAVAILABLE');
    } finally {
      fx.oidcJwks.setMode('ok');
    }
  });

  it('maps OIDC scopes and refuses a route whose scope the token lacks', async () => {
    const claims = { iss: fx.oidcIssuer, sub: 'u1', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 300, org: 'acme', scope: 'customers:read' };
    const token = await signWith(fx.oidcKey, claims);
    const authorize = fx.authorizer();

    expect((await decide(authorize, bearer(token), 'GET', '/v1/customers/42')).status).toBe(200);
    expect((await decide(authorize, bearer(token), 'POST', '/v1/customers')).status).toBe(403);
    expect(fx.lastReason()).toBe('ROUTE_NOT_PERMITTED');
  });
});

describe('WorkOS users', () => {
  it('verifies RS256 via the WorkOS JWKS, with no aud, org_id as tenant and permissions as scopes', async () => {
    const key = await makeKey('RS256');
    const jwks = await startJwksServer([key.publicJwk], '/sso/jwks/client_123');
    try {
      const issuer = 'https://api.workos.com/user_management/client_123';
      const authorize = fx.authorizer({ issuers: [{ type: 'workos', clientId: 'client_123', jwksUrl: jwks.url }] });
      const claims = { iss: issuer, sub: 'user_01J', sid: 'session_01J', org_id: 'acme', role: 'member', permissions: ['customers:read'], iat: nowSeconds(), exp: nowSeconds() + 300 };

      const { status, result } = await decide(authorize, bearer(await signWith(key, claims)), 'GET', '/v1/customers');

      expect(status).toBe(200);
      expect(result!.context).toMatchObject({ issuer: 'workos', tenantId: 'acme', scopes: 'customers:read', roles: 'member', sessionId: 'session_01J' });
      // The same claims under an HS256 signature are refused: WorkOS is pinned to RS256.
      expect((await decide(authorize, bearer(await signHs256(randomBytes(32), claims)))).status).toBe(401);
      expect(fx.lastReason()).toBe('JWT_ALG_NOT_ALLOWED');
    } finally {
      await jwks.close();
    }
  });
});

describe('API keys', () => {
  it('allows a stored key with its tenant and scopes', async () => {
    const { key, record } = await fx.putApiKey({ tenantId: 'acme', scopes: ['customers:read'] });

    const { status, result } = await decide(fx.authorizer(), bearer(key), 'GET', '/v1/customers');

    expect(status).toBe(200);
    expect(result!.principalId).toBe(record.keyId);
    expect(result!.context).toMatchObject({ kind: 'apiKey', tenantId: 'acme', keyId: record.keyId, scopes: 'customers:read' });
    expect(JSON.stringify(result)).not.toContain(key);
  });

  it('refuses revoked, expired, unknown and wrong-environment keys', async () => {
    const revoked = await fx.putApiKey({ tenantId: 'acme', status: 'revoked' });
    const expired = await fx.putApiKey({ tenantId: 'acme', expiresAt: nowSeconds() - 1 });
    const testKey = await fx.putApiKey({ tenantId: 'acme', environment: 'test' });
    const cases: [string, string][] = [
      [revoked.key, 'APIKEY_REVOKED'],
      [expired.key, 'APIKEY_EXPIRED'],
      [generateApiKey('gh', 'live'), 'APIKEY_NOT_FOUND'],
      [testKey.key, 'APIKEY_ENVIRONMENT_MISMATCH'],
      [generateApiKey('sk', 'live'), 'APIKEY_PREFIX_UNKNOWN'],
    ];
    for (const [key, reason] of cases) {
      expect((await decide(fx.authorizer(), bearer(key))).status).toBe(401);
      expect(fx.lastReason()).toBe(reason);
    }
  });

  it('refuses a bad checksum without any DynamoDB call', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const last = key.at(-1) === '0' ? '1' : '0';
    const mangled = key.slice(0, -1) + last;
    fx.clients.reset();

    expect((await decide(fx.authorizer(), bearer(mangled))).status).toBe(401);
    expect(fx.lastReason()).toBe('APIKEY_CHECKSUM_INVALID');
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('does one GetItem per key per cache period, and caches misses too', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'globex' });
    const unknown = generateApiKey('gh', 'live');
    const authorize = fx.authorizer();
    fx.clients.reset();
    for (let i = 0; i < 4; i++) {
      await decide(authorize, bearer(key));
      await decide(authorize, bearer(unknown));
    }
    // One for the key, one for its tenant, one for the unknown key.
    expect(fx.clients.count('GetItemCommand')).toBe(3);
  });

  it('denies (403) a valid key whose tenant is suspended or unknown', async () => {
    const suspended = await fx.putApiKey({ tenantId: 'initech' });
    const orphan = await fx.putApiKey({ tenantId: 'nobody' });

    expect((await decide(fx.authorizer(), bearer(suspended.key))).status).toBe(403);
    expect(fx.lastReason()).toBe('TENANT_SUSPENDED');
    expect((await decide(fx.authorizer(), bearer(orphan.key))).status).toBe(403);
    expect(fx.lastReason()).toBe('TENANT_UNKNOWN');
  });

  it('a test deployment accepts test keys and refuses live ones', async () => {
    const live = await fx.putApiKey({ tenantId: 'acme' });
    const test = await fx.putApiKey({ tenantId: 'acme', environment: 'test' });
    const authorize = fx.authorizer({ environment: 'test' });

    expect((await decide(authorize, bearer(test.key))).status).toBe(200);
    expect((await decide(authorize, bearer(live.key))).status).toBe(401);
    expect(fx.lastReason()).toBe('APIKEY_ENVIRONMENT_MISMATCH');
  });

  it('fails closed (500) when DynamoDB cannot be reached', async () => {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const down = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });

    expect((await decide(fx.authorizer({}, { dynamodb: down }), bearer(key))).status).toBe(500);
    expect(fx.lastReason()).toBe('APIKEY_STORE_UNAVAILABLE');
    down.destroy();
  });
});

describe('service secrets', () => {
  const service = (secret: string, name = fx.serviceName) => bearer(secret, { 'X-Service-Name': name });

  it('allows the current secret on a service route and nowhere else', async () => {
    const authorize = fx.authorizer();

    const { status, result } = await decide(authorize, service(fx.serviceSecret), 'POST', '/internal/jobs');

    expect(status).toBe(200);
    expect(result!.context).toMatchObject({ kind: 'service', service: 'billing', scopes: 'jobs:run', tenantId: '' });
    expect((await decide(authorize, service(fx.serviceSecret), 'GET', '/v1/me')).status).toBe(403);
  });

  it('accepts both AWSCURRENT and AWSPENDING while a rotation is in flight', async () => {
    const pending = randomBytes(32).toString('base64url');
    const sm = new SecretsManagerClient({});
    await sm.send(new PutSecretValueCommand({ SecretId: fx.serviceSecretId, SecretString: pending, VersionStages: ['AWSPENDING'] }));
    const authorize = fx.authorizer();

    expect((await decide(authorize, service(fx.serviceSecret), 'POST', '/internal/jobs')).status).toBe(200);
    expect((await decide(authorize, service(pending), 'POST', '/internal/jobs')).status).toBe(200);
    sm.destroy();
  });

  it('refuses another service secret, an unknown service, prefixes and suffixes of the real secret', async () => {
    const authorize = fx.authorizer();
    const cases: [Record<string, string>, string][] = [
      [service(randomBytes(32).toString('base64url')), 'SERVICE_SECRET_MISMATCH'],
      [service(fx.serviceSecret, 'reporting'), 'SERVICE_UNKNOWN'],
      [service(fx.serviceSecret.slice(0, -1)), 'SERVICE_SECRET_MISMATCH'],
      [service(`${fx.serviceSecret}A`), 'SERVICE_SECRET_MISMATCH'],
      [service(fx.serviceSecret, '../billing'), 'SERVICE_UNKNOWN'],
    ];
    for (const [headers, reason] of cases) {
      expect((await decide(authorize, headers, 'POST', '/internal/jobs')).status).toBe(401);
      expect(fx.lastReason()).toBe(reason);
    }
  });

  it('reads the secret again at most once per cooldown however many wrong secrets arrive', async () => {
    const authorize = fx.authorizer();
    expect((await decide(authorize, service(fx.serviceSecret), 'POST', '/internal/jobs')).status).toBe(200);
    fx.clients.reset();

    const results = await Promise.all(
      Array.from({ length: 20 }, () => decide(authorize, service(randomBytes(32).toString('base64url')), 'POST', '/internal/jobs')),
    );

    expect(results.every((r) => r.status === 401)).toBe(true);
    expect(fx.clients.count('ListSecretVersionIdsCommand')).toBe(1);
  });

  it('switches to a rotated secret after at most one refetch, and keeps the previous one for the grace period', async () => {
    const authorize = fx.authorizer();
    expect((await decide(authorize, service(fx.serviceSecret), 'POST', '/internal/jobs')).status).toBe(200);
    const sm = new SecretsManagerClient({});
    const next = randomBytes(32).toString('base64url');
    const put = await sm.send(new PutSecretValueCommand({ SecretId: fx.serviceSecretId, SecretString: next, VersionStages: ['AWSPENDING'] }));
    const { ListSecretVersionIdsCommand } = await import('@aws-sdk/client-secrets-manager');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: fx.serviceSecretId }));
    const current = versions.Versions!.find((v) => v.VersionStages?.includes('AWSCURRENT'))!.VersionId!;
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: fx.serviceSecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: put.VersionId, RemoveFromVersionId: current }));
    sm.destroy();

    expect((await decide(authorize, service(next), 'POST', '/internal/jobs')).status).toBe(200);
    expect((await decide(authorize, service(fx.serviceSecret), 'POST', '/internal/jobs')).status).toBe(200);

    const later = fx.authorizer({}, { now: () => Date.now() + 2 * 86_400_000 });
    expect((await decide(later, service(fx.serviceSecret), 'POST', '/internal/jobs')).status).toBe(401);
    expect(fx.lastReason()).toBe('SERVICE_SECRET_MISMATCH');
  });
});

describe('decisions', () => {
  it('answers 401 with no Authorization header, and for two of them', async () => {
    expect((await decide(fx.authorizer(), {})).status).toBe(401);
    expect(fx.lastReason()).toBe('CREDENTIAL_MISSING');
    const token = await signHs256(fx.supabaseSecret, supabaseClaims());
    const event = authorizerEvent({ Authorization: `Bearer ${token}` }, 'GET', '/v1/me', '/v1/me', { Authorization: [`Bearer ${token}`, `Bearer ${token}x`] });
    await expect(fx.authorizer()(event)).rejects.toThrow('Unauthorized');
    expect(fx.lastReason()).toBe('CREDENTIAL_MULTIPLE');
  });

  it('in owner mode allows only the owner', async () => {
    const authorize = fx.authorizer({ owner: { subject: 'owner-1' } });
    const owner = await signHs256(fx.supabaseSecret, supabaseClaims({ sub: 'owner-1' }));
    const other = await signHs256(fx.supabaseSecret, supabaseClaims({ sub: 'someone-else' }));

    expect((await decide(authorize, bearer(owner))).status).toBe(200);
    expect((await decide(authorize, bearer(other))).status).toBe(403);
    expect(fx.lastReason()).toBe('OWNER_MISMATCH');
  });

  it('denies everything (403) to a principal no route accepts', async () => {
    const authorize = fx.authorizer({
      routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'], scopes: ['never-granted'] }],
    });
    const token = await signHs256(fx.supabaseSecret, supabaseClaims());

    const { status, result } = await decide(authorize, bearer(token));

    expect(status).toBe(403);
    expect(fx.lastReason()).toBe('NO_ROUTE_PERMITTED');
    expect(result!.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }]);
  });

  it.each<AnswerFormat>(['rest', 'http-2.0'])('returns a policy that is right on every route it may be reused on (%s)', async (format) => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims({ app_metadata: { tenant_id: 'acme' }, scope: undefined }));
    const { result } = await decide(fx.authorizer(), bearer(token), 'GET', '/v1/me', format);
    const policy = result!.policyDocument as PolicyDocument;
    const at = (m: string, p: string) => evaluatePolicy(policy, `${API_ARN_PREFIX}/${m}${p}`);

    expect(at('GET', '/v1/me')).toBe('Allow');
    // Supabase users here hold no scopes: every scoped route and the service route stay closed.
    expect(at('GET', '/v1/customers')).toBe('Deny');
    expect(at('GET', '/v1/customers/7')).toBe('Deny');
    expect(at('DELETE', '/v1/customers/7')).toBe('Deny');
    expect(at('POST', '/internal/jobs')).toBe('Deny');
  });

  it('puts only flat strings in the context', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims());
    const { result } = await decide(fx.authorizer(), bearer(token));

    for (const v of Object.values(result!.context!)) expect(typeof v).toBe('string');
  });

  it('refuses to start with an invalid configuration, naming the field', () => {
    expect(() => fx.authorizer({ environment: 'staging' as never })).toThrow(/environment/);
  });

  it('logs one line per decision with reason, kind and latency, and no credential material', async () => {
    const token = await signHs256(fx.supabaseSecret, supabaseClaims());
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const before = fx.logs.length;
    await decide(fx.authorizer(), bearer(token));
    await decide(fx.authorizer(), bearer(key));
    await decide(fx.authorizer(), bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), 'POST', '/internal/jobs');

    // As written to the log (fields serialized as JSON, the EMF directive included).
    const lines = fx.logs.slice(before).filter((l) => l.message === 'decision').map((l) => JSON.parse(JSON.stringify(l)));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toEqual(expect.objectContaining({ reason: 'ALLOWED', decision: 'allow', latencyMs: expect.any(Number), kind: expect.any(String) }));
      // The same line is a CloudWatch EMF record: one Decisions data point by decision, kind and reason.
      expect(line).toMatchObject({
        Decisions: 1,
        _aws: { CloudWatchMetrics: [{ Namespace: 'Gatehouse', Dimensions: [['decision'], ['decision', 'kind'], ['reason']] }] },
      });
    }
    const text = JSON.stringify(fx.logs);
    for (const secret of [token, token.split('.')[2]!, key, key.slice(8, 40), fx.serviceSecret, fx.supabaseSecret]) {
      expect(text).not.toContain(secret);
    }
  });
});
