import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { AuthorizerConfigInput } from '../../../contract/config';
import { type PolicyDocument, evaluatePolicy } from '../../../lambdas/authorizer/policy';
import { rotateNow } from '../../../control/rotation/rotate-now';
import { canonicalString, formatSignatureHeader, sha256Hex, signatureOf } from '../../../contract/signing';
import { secretsClient, uniqueName } from '../../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture } from '../../support/fixture';
import { nowSeconds } from '../../support/jwt';

/**
 * Browser callers (a JWT in a cookie, CSRF on mutating requests) and signed requests (HMAC-SHA256, timestamp
 * window, nonce once), through the real authorizer over DynamoDB and Secrets Manager on the emulator.
 */
let fx: Fixture;
let sm: SecretsManagerClient;
const SIGNER = 'stripe-relay';
let signerSecretId: string;
let signerSecret: string;

const ROUTES: AuthorizerConfigInput['routes'] = [
  ...TEST_ROUTES,
  { method: 'GET', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token' },
  { method: 'POST', path: '/v1/session/items', accepts: ['user', 'apiKey'], cookie: 'sb-access-token' },
  { method: 'DELETE', path: '/v1/session/items/{id}', accepts: ['user'], cookie: 'sb-access-token' },
  { method: 'POST', path: '/v1/webhooks/{source}', accepts: ['signed'], scopes: ['webhooks:write'] },
  { method: 'GET', path: '/v1/reports', accepts: ['signed'], signers: ['other-relay'] },
];

beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
  sm = secretsClient();
  signerSecret = randomBytes(32).toString('base64url');
  signerSecretId = uniqueName('signer');
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
  await sm.send(new CreateSecretCommand({ Name: `${signerSecretId}-other`, SecretString: randomBytes(32).toString('base64url') }));
});
afterAll(async () => {
  sm.destroy();
  await fx.close();
});

const config = (extra: Partial<AuthorizerConfigInput> = {}): Partial<AuthorizerConfigInput> => ({
  routes: ROUTES,
  signers: [
    { name: SIGNER, secretId: signerSecretId, scopes: ['webhooks:write'] },
    { name: 'other-relay', secretId: `${signerSecretId}-other` },
  ],
  ...extra,
});

type Status = 200 | 401 | 403 | 500;

interface Request {
  method: string;
  path: string;
  resource?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  query?: Record<string, string[]>;
}

function event(r: Request): APIGatewayRequestAuthorizerEvent {
  const e = authorizerEvent(r.headers ?? {}, r.method, r.path, r.resource ?? r.path, r.multiValueHeaders);
  if (r.multiValueHeaders) e.headers = Object.fromEntries(Object.entries(r.multiValueHeaders).map(([k, v]) => [k, v.at(-1)!]));
  e.multiValueQueryStringParameters = r.query ?? null;
  e.queryStringParameters = r.query ? Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, v.at(-1)!])) : null;
  // The request line's path, as API Gateway reports it on the default endpoint: with the stage.
  (e.requestContext as { path?: string }).path = `/prod${r.path}`;
  return e;
}

async function decide(authorize: ReturnType<Fixture['authorizer']>, r: Request): Promise<{ status: Status; context?: Record<string, unknown> }> {
  try {
    const result = await authorize(event(r));
    const allowed = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${r.method}${r.path}`) === 'Allow';
    return allowed ? { status: 200, context: result.context as Record<string, unknown> } : { status: 403 };
  } catch (err) {
    return { status: (err as Error).message === 'Unauthorized' ? 401 : 500 };
  }
}

const cookies = (pairs: Record<string, string>) => Object.entries(pairs).map(([k, v]) => `${k}=${v}`).join('; ');

describe('a JWT in a cookie', () => {
  it('works on a GET of a cookie route, verified as from the header; the log says where it came from', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const r = await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: cookies({ theme: 'dark', 'sb-access-token': token }) } });
    expect(r).toEqual({ status: 200, context: expect.objectContaining({ kind: 'user', subject: 'user-1', tenantId: 'acme' }) });
    expect(fx.logs.at(-1)).toEqual(expect.objectContaining({ reason: 'ALLOWED', source: 'cookie' }));
  });

  it('is verified in full: an expired or forged token in the cookie is a 401 with the JWT reason', async () => {
    const authorize = fx.authorizer(config());
    const expired = await fx.userToken({ iat: nowSeconds() - 1000, exp: nowSeconds() - 100 });
    expect((await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: `sb-access-token=${expired}` } })).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_EXPIRED');
    const token = await fx.userToken();
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(32, 1).toString('base64url')}`;
    expect((await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: `sb-access-token=${forged}` } })).status).toBe(401);
    expect(fx.lastReason()).toBe('JWT_SIGNATURE_INVALID');
  });

  it('is refused together with a header credential (401 CREDENTIAL_AMBIGUOUS), whichever principal either names', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const other = await fx.userToken({ sub: 'user-2' });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    for (const authorization of [`Bearer ${token}`, `Bearer ${other}`, `Bearer ${key}`]) {
      const r = await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Authorization: authorization, Cookie: `sb-access-token=${token}` } });
      expect(r.status).toBe(401);
      expect(fx.lastReason()).toBe('CREDENTIAL_AMBIGUOUS');
    }
  });

  it('is read only on routes that name it: elsewhere the cookie is no credential, and a header next to it works', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    expect((await decide(authorize, { method: 'GET', path: '/v1/me', headers: { Cookie: `sb-access-token=${token}` } })).status).toBe(401);
    expect(fx.lastReason()).toBe('CREDENTIAL_MISSING');
    expect((await decide(authorize, { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${token}`, Cookie: `sb-access-token=${token}` } })).status).toBe(200);
  });

  it('refuses the cookie twice (two Cookie headers, or twice in one), a malformed value, and treats an emptied cookie as none', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const twice = await decide(authorize, { method: 'GET', path: '/v1/session', multiValueHeaders: { Cookie: [`sb-access-token=${token}`, `sb-access-token=${token}`] } });
    expect([twice.status, fx.lastReason()]).toEqual([401, 'CREDENTIAL_MULTIPLE']);
    const inOne = await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: `sb-access-token=${token}; sb-access-token=x.y.z` } });
    expect([inOne.status, fx.lastReason()]).toEqual([401, 'CREDENTIAL_MULTIPLE']);
    const malformed = await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: 'sb-access-token="not a jwt"' } });
    expect([malformed.status, fx.lastReason()]).toEqual([401, 'COOKIE_MALFORMED']);
    const emptied = await decide(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: 'sb-access-token=' } });
    expect([emptied.status, fx.lastReason()]).toEqual([401, 'CREDENTIAL_MISSING']);
    // Split across two Cookie headers (HTTP/2 clients do): both are read.
    const split = await decide(authorize, { method: 'GET', path: '/v1/session', multiValueHeaders: { Cookie: ['theme=dark', `sb-access-token=${token}`] } });
    expect(split.status).toBe(200);
  });
});

describe('the CSRF check of a cookie credential on a mutating request', () => {
  const csrf = 'c'.repeat(8) + randomBytes(16).toString('base64url');

  it('refuses a POST without the double-submit token (403) and allows it with the token in header and cookie', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const post = (headers: Record<string, string>) => decide(authorize, { method: 'POST', path: '/v1/session/items', headers });

    expect((await post({ Cookie: `sb-access-token=${token}` })).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_TOKEN_MISSING');
    expect((await post({ Cookie: `sb-access-token=${token}`, 'X-CSRF-Token': csrf })).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_TOKEN_MISSING');
    expect((await post({ Cookie: cookies({ 'sb-access-token': token, '__Host-gh-csrf': csrf }) })).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_TOKEN_MISSING');
    expect((await post({ Cookie: cookies({ 'sb-access-token': token, '__Host-gh-csrf': csrf }), 'X-CSRF-Token': `${csrf}x` })).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_TOKEN_MISMATCH');
    expect((await post({ Cookie: cookies({ 'sb-access-token': token, '__Host-gh-csrf': 'short' }), 'x-csrf-token': 'short' })).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_TOKEN_MISMATCH');

    expect((await post({ Cookie: cookies({ 'sb-access-token': token, '__Host-gh-csrf': csrf }), 'x-csrf-token': csrf })).status).toBe(200);
    const del = await decide(authorize, { method: 'DELETE', path: '/v1/session/items/1', resource: '/v1/session/items/{id}', headers: { Cookie: `sb-access-token=${token}` } });
    expect([del.status, fx.lastReason()]).toEqual([403, 'CSRF_TOKEN_MISSING']);
  });

  it('is not asked of a header credential (browsers never attach one by themselves)', async () => {
    const authorize = fx.authorizer(config());
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const token = await fx.userToken();
    expect((await decide(authorize, { method: 'POST', path: '/v1/session/items', headers: { Authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await decide(authorize, { method: 'POST', path: '/v1/session/items', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('with allowed origins, refuses a listed token from another Origin, and takes a listed one', async () => {
    const authorize = fx.authorizer(config({ csrf: { allowedOrigins: ['https://app.example.com'] } }));
    const token = await fx.userToken();
    const headers = { Cookie: cookies({ 'sb-access-token': token, '__Host-gh-csrf': csrf }), 'X-CSRF-Token': csrf };
    const post = (origin: string) => decide(authorize, { method: 'POST', path: '/v1/session/items', headers: { ...headers, Origin: origin } });
    expect((await post('https://evil.example.com')).status).toBe(403);
    expect(fx.lastReason()).toBe('CSRF_ORIGIN_NOT_ALLOWED');
    expect((await post('https://app.example.com.evil.com')).status).toBe(403);
    expect((await post('https://app.example.com')).status).toBe(200);
  });
});

describe('signed requests', () => {
  interface Signed {
    method?: string;
    path?: string;
    resource?: string;
    query?: Record<string, string[]>;
    body?: string;
    caller?: string;
    secret?: string;
    timestamp?: number;
    nonce?: string;
  }
  /** The headers a caller sends, and the request they describe. */
  function signed(s: Signed = {}): Request {
    const method = s.method ?? 'POST';
    const path = s.path ?? '/v1/webhooks/stripe';
    const header = { caller: s.caller ?? SIGNER, timestamp: s.timestamp ?? nowSeconds(), nonce: s.nonce ?? randomBytes(16).toString('base64url') };
    const bodySha256 = sha256Hex(s.body ?? '{"id":"evt_1"}');
    const canonical = canonicalString(header, { method, path: `/prod${path}`, query: s.query, bodySha256 });
    const signature = signatureOf(s.secret ?? signerSecret, canonical).toString('hex');
    return {
      method,
      path,
      resource: s.resource ?? (path.startsWith('/v1/webhooks/') ? '/v1/webhooks/{source}' : path),
      ...(s.query ? { query: s.query } : {}),
      headers: { Authorization: formatSignatureHeader({ ...header, signature }), 'X-Content-SHA256': bodySha256 },
    };
  }

  it('passes once, with the signer, its scopes and the signed body hash in the context; a replay is refused', async () => {
    const authorize = fx.authorizer(config());
    const request = signed({ body: '{"id":"evt_2"}' });
    const first = await decide(authorize, request);
    expect(first).toEqual({
      status: 200,
      context: expect.objectContaining({ kind: 'signed', principalId: `signer:${SIGNER}`, signer: SIGNER, tenantId: '', scopes: 'webhooks:write', bodySha256: sha256Hex('{"id":"evt_2"}') }),
    });
    expect(await decide(authorize, request)).toEqual({ status: 401 });
    expect(fx.lastReason()).toBe('SIGNATURE_REPLAYED');
    // A second authorizer (another container) shares the record: the nonce lives in the table.
    expect(await decide(fx.authorizer(config()), request)).toEqual({ status: 401 });
    expect(fx.lastReason()).toBe('SIGNATURE_REPLAYED');
  });

  it('is refused when any signed part differs from what was signed', async () => {
    const authorize = fx.authorizer(config());
    const base = signed({ query: { b: ['2'], a: ['1', 'x y'] } });
    const auth = base.headers!.Authorization!;
    const variants: Record<string, Request> = {
      method: { ...base, method: 'PUT' },
      path: { ...base, path: '/v1/webhooks/github' },
      'query value': { ...base, query: { b: ['2'], a: ['1', 'x z'] } },
      'query added': { ...base, query: { ...base.query, c: ['3'] } },
      'query removed': { ...base, query: { b: ['2'] } },
      'body hash': { ...base, headers: { ...base.headers, 'X-Content-SHA256': sha256Hex('{"id":"evt_other"}') } },
      timestamp: { ...base, headers: { ...base.headers, Authorization: auth.replace(/Timestamp=(\d+)/, (_, t) => `Timestamp=${Number(t) - 1}`) } },
      nonce: { ...base, headers: { ...base.headers, Authorization: auth.replace(/Nonce=([^,]+)/, 'Nonce=AAAAAAAAAAAAAAAAAAAAAA') } },
      signature: { ...base, headers: { ...base.headers, Authorization: auth.replace(/Signature=(.)/, (_, c) => `Signature=${c === '0' ? '1' : '0'}`) } },
      'another signer': { ...base, headers: { ...base.headers, Authorization: auth.replace(`Caller=${SIGNER}`, 'Caller=other-relay') } },
    };
    for (const [part, request] of Object.entries(variants)) {
      expect({ part, ...(await decide(authorize, request)), reason: fx.lastReason() }).toEqual({ part, status: 401, reason: 'SIGNATURE_MISMATCH' });
    }
    // The original still passes: none of the refusals spent its nonce.
    expect((await decide(authorize, base)).status).toBe(200);
  });

  it('signs the query whatever order its parameters came in', async () => {
    const authorize = fx.authorizer(config());
    const request = signed({ query: { z: ['1'], a: ['b', 'a'], 'ü': ['ø/&='] } });
    expect((await decide(authorize, { ...request, query: { 'ü': ['ø/&='], a: ['b', 'a'], z: ['1'] } })).status).toBe(200);
  });

  it('refuses a timestamp outside the window either way, and takes one just inside it', async () => {
    const authorize = fx.authorizer(config({ signedRequests: { windowSeconds: 60 } }));
    expect((await decide(authorize, signed({ timestamp: nowSeconds() - 120 }))).status).toBe(401);
    expect(fx.lastReason()).toBe('SIGNATURE_TIMESTAMP_OUT_OF_WINDOW');
    expect((await decide(authorize, signed({ timestamp: nowSeconds() + 120 }))).status).toBe(401);
    expect(fx.lastReason()).toBe('SIGNATURE_TIMESTAMP_OUT_OF_WINDOW');
    expect((await decide(authorize, signed({ timestamp: nowSeconds() - 50 }))).status).toBe(200);
  });

  it('refuses an unknown signer, a wrong secret, a malformed header and a missing or malformed body hash', async () => {
    const authorize = fx.authorizer(config());
    expect([(await decide(authorize, signed({ caller: 'nobody' }))).status, fx.lastReason()]).toEqual([401, 'SIGNER_UNKNOWN']);
    expect([(await decide(authorize, signed({ secret: randomBytes(32).toString('base64url') }))).status, fx.lastReason()]).toEqual([401, 'SIGNATURE_MISMATCH']);
    const ok = signed();
    const { 'X-Content-SHA256': _hash, ...noHash } = ok.headers!;
    expect([(await decide(authorize, { ...ok, headers: noHash })).status, fx.lastReason()]).toEqual([401, 'SIGNATURE_BODY_HASH_INVALID']);
    expect([(await decide(authorize, { ...ok, headers: { ...ok.headers, 'X-Content-SHA256': 'ABC' } })).status, fx.lastReason()]).toEqual([401, 'SIGNATURE_BODY_HASH_INVALID']);
    for (const malformed of [
      ok.headers!.Authorization!.replace(', Nonce', ',Nonce'),
      ok.headers!.Authorization!.replace('Signature=', 'Signature=x'),
      `${ok.headers!.Authorization}, Extra=1`,
      ok.headers!.Authorization!.replace(/Nonce=[^,]+/, 'Nonce=short'),
    ]) {
      expect([(await decide(authorize, { ...ok, headers: { ...ok.headers, Authorization: malformed } })).status, fx.lastReason()]).toEqual([401, 'SIGNATURE_MALFORMED']);
    }
  });

  it('is refused outright where no route accepts signed requests', async () => {
    const authorize = fx.authorizer({ routes: TEST_ROUTES });
    expect([(await decide(authorize, signed())).status, fx.lastReason()]).toEqual([401, 'SIGNED_NOT_ACCEPTED']);
  });

  it('allows only the routes the signer may call: not user routes, not routes restricted to other signers, not without the scope', async () => {
    const authorize = fx.authorizer(config());
    expect((await decide(authorize, signed({ method: 'GET', path: '/v1/reports', body: '' }))).status).toBe(403);
    expect((await decide(authorize, signed({ method: 'GET', path: '/v1/me', body: '' }))).status).toBe(403);
    const other = fx.authorizer(config({ signers: [{ name: SIGNER, secretId: signerSecretId }, { name: 'other-relay', secretId: `${signerSecretId}-other` }] }));
    expect((await decide(other, signed())).status).toBe(403);
  });

  it('fails closed (500, never Allow) when the nonce cannot be recorded or the secret cannot be read', async () => {
    const noTable = fx.authorizer(config(), { dynamodb: new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }) });
    expect([(await decide(noTable, signed())).status, fx.lastReason()]).toEqual([500, 'NONCE_STORE_UNAVAILABLE']);
    const noSecrets = fx.authorizer(config(), { secretsManager: new SecretsManagerClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }) });
    expect([(await decide(noSecrets, signed())).status, fx.lastReason()]).toEqual([500, 'SIGNER_SECRET_UNAVAILABLE']);
  });

  it('keeps working through a rotation; signatures with the rotated-out secret stop at the end of the grace period', async () => {
    const secretId = uniqueName('signer-rotating');
    const before = randomBytes(32).toString('base64url');
    await sm.send(new CreateSecretCommand({ Name: secretId, SecretString: before }));
    const after = randomBytes(32).toString('base64url');
    await rotateNow(sm, secretId, { generate: () => after });
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const created = (await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))).CreatedDate!.getTime();
    let clock = created + 4_999;
    const authorize = fx.authorizer(
      { ...config(), signers: [{ name: SIGNER, secretId, scopes: ['webhooks:write'] }, config().signers![1]!], serviceSecrets: { previousGraceSeconds: 5 } },
      { now: () => clock },
    );
    const at = (secret: string) => signed({ secret, timestamp: Math.floor(clock / 1000) });
    expect((await decide(authorize, at(before))).status).toBe(200);
    expect((await decide(authorize, at(after))).status).toBe(200);
    clock = created + 5_000;
    expect((await decide(authorize, at(before))).status).toBe(401);
    expect(fx.lastReason()).toBe('SIGNATURE_MISMATCH');
    expect((await decide(authorize, at(after))).status).toBe(200);
  });
});
