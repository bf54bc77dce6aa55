/*
 * Amazon Cognito user pools through the `cognito` preset, with tokens in the shape AWS documents:
 * - Access token ("Access token default payload"):
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
 * - ID token ("ID token default payload"):
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html
 * - What to verify (token_use; client_id in access tokens, aud in id tokens):
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 * - The original and the updated issuer: https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html
 * - Custom claims in access tokens (pre token generation trigger V2_0, Essentials or Plus plan):
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
 *
 * The payloads below are AWS's examples as published; only the times (moved to now, lifetimes kept) and, where a test
 * says so, one claim are changed. The header is AWS's `{ "kid", "alg": "RS256" }`; access and id tokens are signed
 * with different keys of the pool, as the access-token page says. AWS's own verifier, aws-jwt-verify, is the
 * reference of the last describe block.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { makeKey } from '../../../support/jwt';
import { type Claims, type IssuerInput, providerSuite, retimed, signAs } from '../../../support/provider-tokens';

const POOL = 'us-west-2_example';
const ISS = `https://cognito-idp.us-west-2.amazonaws.com/${POOL}`;
const UPDATED_ISS = `https://issuer-cognito-idp.us-west-2.amazonaws.com/${POOL}`;
const CLIENT = 'xxxxxxxxxxxxexample';
/** Cognito has no organization id: the tenant is whatever the custom attribute (or the trigger) says. */
const TENANT = 'acme-corp';

/** "Access token default payload" (access-token page). */
const ACCESS_DOC: Claims = {
  sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  device_key: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  'cognito:groups': ['testgroup'],
  iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example',
  version: 2,
  client_id: 'xxxxxxxxxxxxexample',
  aud: 'https://api.example.com',
  origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  token_use: 'access',
  scope: 'phone openid profile resourceserver.1/appclient2 email',
  auth_time: 1676313851,
  exp: 1676317451,
  iat: 1676313851,
  jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  username: 'my-test-user',
};

/** "ID token default payload" (ID-token page), with the custom attribute the page describes (always a string). */
const ID_DOC: Claims = {
  sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  'cognito:groups': ['test-group-a', 'test-group-b', 'test-group-c'],
  email_verified: true,
  'cognito:preferred_role': 'arn:aws:iam::111122223333:role/my-test-role',
  iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example',
  'cognito:username': 'my-test-user',
  middle_name: 'Jane',
  nonce: 'abcdefg',
  origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  'cognito:roles': ['arn:aws:iam::111122223333:role/my-test-role'],
  aud: 'xxxxxxxxxxxxexample',
  identities: [
    { userId: 'amzn1.account.EXAMPLE', providerName: 'LoginWithAmazon', providerType: 'LoginWithAmazon', issuer: null, primary: 'true', dateCreated: '1642699117273' },
  ],
  event_id: '64f513be-32db-42b0-b78e-b02127b4f463',
  token_use: 'id',
  auth_time: 1676312777,
  exp: 1676316377,
  iat: 1676312777,
  jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  email: 'my-test-user@example.com',
  'custom:tenant_id': TENANT,
};

const s = providerSuite({ tenants: [TENANT], keyCount: 2 });
/** The pool's two keys: access tokens are signed with one, id tokens with the other. */
const accessKey = () => s.keys[0]!;
const idKey = () => s.keys[1]!;

/** The preset as the recipe writes it: the pool and the app client, every default kept; the keys read on loopback. */
const cognito = (extra: Partial<Extract<IssuerInput, { type: 'cognito' }>> = {}): IssuerInput => ({ type: 'cognito', userPoolId: POOL, clientIds: [CLIENT], jwksUrl: s.jwksUrl, ...extra });

/** The documented access token with `custom:tenant_id` added by a pre token generation trigger, `over` on top. */
const access = (over: Claims = {}) => signAs(accessKey(), { ...retimed(ACCESS_DOC), 'custom:tenant_id': TENANT, ...over });
const accessAsDocumented = () => signAs(accessKey(), retimed(ACCESS_DOC));
const idToken = (over: Claims = {}) => signAs(idKey(), { ...retimed(ID_DOC), ...over });

describe('Cognito access tokens (tokenUse "access", the default)', () => {
  it('allows the documented access token and hands on the tenant, subject, scopes, groups and session', async () => {
    const d = await s.decide(s.authorizer(cognito()), await access());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      issuer: 'cognito',
      subject: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      tenantId: TENANT,
      tier: 'default',
      scopes: 'phone openid profile resourceserver.1/appclient2 email',
      roles: 'testgroup',
      sessionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      email: '',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it('accepts the updated issuer (issuer-cognito-idp) of the same pool', async () => {
    const d = await s.decide(s.authorizer(cognito()), await access({ iss: UPDATED_ISS }));

    expect(d).toMatchObject({ status: 200, context: { tenantId: TENANT, issuer: 'cognito' } });
  });

  it('refuses the default access token, which names no tenant, unless the issuer does without tenants', async () => {
    // AWS: access tokens carry custom claims only through a V2_0 pre token generation trigger.
    expect(await s.decide(s.authorizer(cognito()), await accessAsDocumented())).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });

    const d = await s.decide(s.authorizer(cognito({ tenantRequired: false })), await accessAsDocumented());
    expect(d).toMatchObject({ status: 200, context: { tenantId: '', roles: 'testgroup' } });
  });

  it.each<[string, Claims, string]>([
    ["another app client's token", { client_id: 'otherappclient0example' }, 'JWT_CLIENT_NOT_ALLOWED'],
    ['a token without client_id', { client_id: undefined }, 'JWT_CLIENT_NOT_ALLOWED'],
    ['a token of another user pool', { iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_other' }, 'JWT_ISSUER_UNKNOWN'],
    ['the same pool id under another region', { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-west-2_example' }, 'JWT_ISSUER_UNKNOWN'],
    ['a token without token_use', { token_use: undefined }, 'JWT_TOKEN_TYPE_NOT_ALLOWED'],
    // Cognito mints tokens for 5 minutes to 1 day; one minted for two days is not one of its tokens.
    ['a token minted to live longer than maxTokenAgeSeconds (1 day)', { exp: Math.floor(Date.now() / 1000) + 2 * 86_400 }, 'JWT_LIFETIME_TOO_LONG'],
  ])('refuses %s (401)', async (_name, over, reason) => {
    expect(await s.decide(s.authorizer(cognito()), await access(over))).toMatchObject({ status: 401, reason });
  });

  it('refuses an id token where access tokens are expected (JWT_TOKEN_TYPE_NOT_ALLOWED)', async () => {
    expect(await s.decide(s.authorizer(cognito()), await idToken())).toMatchObject({ status: 401, reason: 'JWT_TOKEN_TYPE_NOT_ALLOWED' });
  });

  it('a token signed with a key the pool does not publish is refused', async () => {
    const stranger = await makeKey('RS256', accessKey().kid);

    expect(await s.decide(s.authorizer(cognito()), await signAs(stranger, { ...retimed(ACCESS_DOC), 'custom:tenant_id': TENANT }))).toMatchObject({
      status: 401,
      reason: 'JWT_SIGNATURE_INVALID',
    });
  });
});

describe('Cognito id tokens (tokenUse "id")', () => {
  const idPreset = () => cognito({ tokenUse: 'id' });

  it('allows the documented id token: tenant from the custom attribute, email, every group, no scopes', async () => {
    const d = await s.decide(s.authorizer(idPreset()), await idToken());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      issuer: 'cognito',
      subject: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      tenantId: TENANT,
      tier: 'default',
      scopes: '',
      roles: 'test-group-a test-group-b test-group-c',
      email: 'my-test-user@example.com',
      sessionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it.each<[string, () => Promise<string>]>([
    ['the documented access token (its aud is the resource binding)', () => access()],
    ['an access token without aud (the default)', () => access({ aud: undefined })],
    ['an access token whose aud is the app client', () => access({ aud: CLIENT })],
  ])('refuses %s where id tokens are configured (JWT_TOKEN_TYPE_NOT_ALLOWED)', async (_name, token) => {
    expect(await s.decide(s.authorizer(idPreset()), await token())).toMatchObject({ status: 401, reason: 'JWT_TOKEN_TYPE_NOT_ALLOWED' });
  });

  it("refuses another app client's id token (JWT_AUDIENCE_MISMATCH)", async () => {
    expect(await s.decide(s.authorizer(idPreset()), await idToken({ aud: 'otherappclient0example' }))).toMatchObject({ status: 401, reason: 'JWT_AUDIENCE_MISMATCH' });
  });
});

/**
 * Differential: AWS's own library, aws-jwt-verify (`CognitoJwtVerifier` with userPoolId, tokenUse and clientId, the
 * pool's JWKS handed over with `cacheJwks`), against Gatehouse's handler on the same tokens. Every token carries the
 * tenant of an active record, so the tenant check never decides; what is compared is the JWT verdict.
 */
const now = () => Math.floor(Date.now() / 1000);
const awsVerifier = (tokenUse: 'access' | 'id') => {
  const v = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse, clientId: CLIENT });
  v.cacheJwks({ keys: s.keys.map((k) => k.publicJwk) } as never);
  return v;
};
const awsAccepts = (v: ReturnType<typeof awsVerifier>, token: string) => v.verify(token as never).then(() => true, () => false);

/** Each case's verdicts as one line, e.g. "documented: gatehouse allows, aws-jwt-verify accepts". */
async function compare(tokenUse: 'access' | 'id', cases: readonly (readonly [string, () => Promise<string>])[]): Promise<string[]> {
  const authorize = s.authorizer(cognito({ tokenUse }));
  const aws = awsVerifier(tokenUse);
  const verdicts: string[] = [];
  for (const [name, make] of cases) {
    const token = await make();
    const gatehouse = (await s.decide(authorize, token)).status === 200;
    verdicts.push(`${name}: gatehouse ${gatehouse ? 'allows' : 'refuses'}, aws-jwt-verify ${(await awsAccepts(aws, token)) ? 'accepts' : 'refuses'}`);
  }
  return verdicts;
}
const agreeing = (verdicts: string[]) => verdicts.filter((v) => /allows, aws-jwt-verify accepts|refuses, aws-jwt-verify refuses/.test(v));

describe('Cognito: Gatehouse allows exactly what aws-jwt-verify accepts', () => {
  it('on access tokens: the documented one, the updated issuer, and fifteen wrong ones', async () => {
    const other = await makeKey('RS256');
    const tamper = (t: string) => t.split('.').map((p, i) => (i === 1 ? Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), client_id: 'x' })).toString('base64url') : p)).join('.');
    const verdicts = await compare('access', [
      ['documented', () => access()],
      ['updated issuer', () => access({ iss: UPDATED_ISS })],
      ['other client', () => access({ client_id: 'otherappclient0example' })],
      ['client_id missing', () => access({ client_id: undefined })],
      ['client_id as an array', () => access({ client_id: [CLIENT] })],
      ['id token', () => idToken()],
      ['token_use missing', () => access({ token_use: undefined })],
      ['token_use "ID"', () => access({ token_use: 'ID' })],
      ['other pool', () => access({ iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_other' })],
      ['iss with a trailing slash', () => access({ iss: `${ISS}/` })],
      ['expired an hour ago', () => access({ iat: now() - 7200, auth_time: now() - 7200, exp: now() - 3600 })],
      ['not before an hour from now', () => access({ nbf: now() + 3600 })],
      ['unknown kid', () => signAs(other, { ...retimed(ACCESS_DOC), 'custom:tenant_id': TENANT })],
      ['known kid, other key', async () => signAs(await makeKey('RS256', accessKey().kid), { ...retimed(ACCESS_DOC), 'custom:tenant_id': TENANT })],
      ['payload changed after signing', async () => tamper(await access({ client_id: CLIENT }))],
      ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${(await access()).split('.')[1]}.`],
      ['exp a string', () => access({ exp: String(now() + 3600) })],
    ]);

    expect(agreeing(verdicts)).toEqual(verdicts);
    expect(verdicts.filter((v) => v.includes('allows'))).toHaveLength(2);
  });

  it('on id tokens: the documented one, the updated issuer, and five wrong ones', async () => {
    const verdicts = await compare('id', [
      ['documented', () => idToken()],
      ['updated issuer', () => idToken({ iss: UPDATED_ISS })],
      ['other client (aud)', () => idToken({ aud: 'otherappclient0example' })],
      ['aud missing', () => idToken({ aud: undefined })],
      ['access token', () => access()],
      ['access token with aud = client', () => access({ aud: CLIENT })],
      ['expired an hour ago', () => idToken({ iat: now() - 7200, exp: now() - 3600 })],
    ]);

    expect(agreeing(verdicts)).toEqual(verdicts);
    expect(verdicts.filter((v) => v.includes('allows'))).toHaveLength(2);
  });

  it('differs only where Gatehouse is stricter or more tolerant on purpose, each difference stated', async () => {
    const authorize = s.authorizer(cognito());
    const aws = awsVerifier('access');
    const es256 = await makeKey('ES256');
    const both = async (token: string) => ({ gatehouse: (await s.decide(authorize, token)).reason, aws: await awsAccepts(aws, token) });

    // Lifetime over the age cap (Cognito never mints one): refused here; aws-jwt-verify does not read iat.
    expect(await both(await access({ exp: now() + 2 * 86_400 }))).toEqual({ gatehouse: 'JWT_LIFETIME_TOO_LONG', aws: true });
    // No exp: refused here (it would never expire once the age cap is off); aws-jwt-verify checks exp only if present.
    expect(await both(await access({ exp: undefined }))).toEqual({ gatehouse: 'JWT_CLAIM_MISSING', aws: true });
    // Expired 10 s ago: within Gatehouse's 30 s clock tolerance; aws-jwt-verify's graceSeconds defaults to 0.
    expect(await both(await access({ iat: now() - 600, exp: now() - 10 }))).toEqual({ gatehouse: 'ALLOWED', aws: false });
    // An ES256 key in the pool's JWKS: aws-jwt-verify trusts the JWK's alg; the preset pins RS256 (Cognito's only one).
    const mixed = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse: 'access', clientId: CLIENT });
    mixed.cacheJwks({ keys: [...s.keys.map((k) => k.publicJwk), es256.publicJwk] } as never);
    const esToken = await signAs(es256, { ...retimed(ACCESS_DOC), 'custom:tenant_id': TENANT });
    expect({ gatehouse: (await s.decide(authorize, esToken)).reason, aws: await awsAccepts(mixed, esToken) }).toEqual({ gatehouse: 'JWT_ALG_NOT_ALLOWED', aws: true });
  });
});
