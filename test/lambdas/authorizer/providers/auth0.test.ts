/*
 * Auth0 access tokens for a custom API through the `auth0` preset, in the shape Auth0 documents:
 * - Organizations, "access token" examples (user login with org_id and RBAC permissions; client credentials):
 *   https://auth0.com/docs/manage-users/organizations/using-tokens
 * - Access token profiles (header `typ` JWT or at+jwt; claims; the RFC 9068 profile's client_id and jti):
 *   https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
 * - RBAC "Add Permissions in the Access Token": https://auth0.com/docs/get-started/apis/enable-role-based-access-control-for-apis
 * - Roles as a namespaced custom claim set by an Action:
 *   https://auth0.com/docs/manage-users/access-control/sample-use-cases-actions-with-authorization
 * - The Management API's audience https://{yourDomain}/api/v2/:
 *   https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens
 * - Validation (aud a string or an array, at least one must be the API's identifier):
 *   https://auth0.com/docs/secure/tokens/access-tokens/validate-access-tokens
 * - Lifetime (default 86,400 s, at most 2,592,000 s): https://auth0.com/docs/secure/tokens/access-tokens/update-access-token-lifetime
 * - Custom domains (iss is the domain the token was requested from): https://auth0.com/docs/customize/custom-domains
 *
 * The payloads are Auth0's examples as published; only the times (moved to now, lifetimes kept) and, where a test says
 * so, one claim are changed. The header is `{ "alg": "RS256", "typ": "JWT", "kid" }` (the Auth0 profile).
 */
import { randomBytes } from 'node:crypto';
import { signHs256 } from '../../../support/jwt';
import { type Claims, type IssuerInput, providerSuite, retimed, signAs } from '../../../support/provider-tokens';

const DOMAIN = 'exampleco.auth0.com';
const API = 'https://example-api/';
const ORG = 'org_9ybsU1dN2dKfDkBi';
const M2M_ORG = 'org_vIK75NKFvaozQsFy';

/** Organizations page: an access token for a custom API, user login through an Organization, RBAC permissions. */
const USER_DOC: Claims = {
  iss: 'https://exampleco.auth0.com/',
  sub: 'auth0|602c0dcab993d10073daf680',
  aud: ['https://example-api/', 'https://exampleco.auth0.com/userinfo'],
  iat: 1616499255,
  exp: 1616585655,
  azp: 'ENDmmAJsbwI1hOG1KPJddQ8LHjV6kLkV',
  scope: 'openid profile email',
  org_id: 'org_9ybsU1dN2dKfDkBi',
  permissions: ['delete:stuff', 'read:stuff', 'write:stuff'],
};

/** Organizations page: a client-credentials (machine-to-machine) token for an Organization. */
const M2M_DOC: Claims = {
  iss: 'https://exampleco.auth0.com/',
  sub: 'CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients',
  aud: 'https://example-api',
  iat: 1727782196,
  exp: 1727868596,
  scope: 'scope1 scope2',
  org_id: 'org_vIK75NKFvaozQsFy',
  org_name: 'acme',
  gty: 'client-credentials',
  azp: 'CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP',
};

const s = providerSuite({ tenants: [ORG, M2M_ORG] });

/** The preset as the recipe writes it: the tenant's domain and the API's identifier; the keys read on loopback. */
const auth0 = (extra: Partial<Extract<IssuerInput, { type: 'auth0' }>> = {}): IssuerInput => ({ type: 'auth0', domain: DOMAIN, audience: API, jwksUrl: s.jwksUrl, ...extra });
const sign = (doc: Claims, over: Claims = {}, header: Record<string, unknown> = { typ: 'JWT' }) => signAs(s.keys[0]!, { ...retimed(doc), ...over }, header);
const user = (over: Claims = {}) => sign(USER_DOC, over);

describe('Auth0 access tokens for a custom API are allowed', () => {
  it("allows the documented token: the Organization's id as tenant, scope and permissions as scopes", async () => {
    const d = await s.decide(s.authorizer(auth0()), await user());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: 'auth0|602c0dcab993d10073daf680',
      issuer: 'auth0',
      subject: 'auth0|602c0dcab993d10073daf680',
      tenantId: ORG,
      tier: 'default',
      scopes: 'openid profile email delete:stuff read:stuff write:stuff',
      roles: '',
      email: '',
      sessionId: '',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it('reads roles from the namespaced claim an Action sets, once rolesClaim names it', async () => {
    const token = await user({ 'https://my-app.example.com/roles': ['admin', 'editor'] });

    expect((await s.decide(s.authorizer(auth0()), token)).context).toMatchObject({ roles: '' });
    const d = await s.decide(s.authorizer(auth0({ rolesClaim: 'https://my-app.example.com/roles' })), token);
    expect(d).toMatchObject({ status: 200, context: { roles: 'admin editor', tenantId: ORG } });
  });

  it('allows the RFC 9068 profile (typ at+jwt, client_id instead of azp, a jti)', async () => {
    const { azp, ...rest } = USER_DOC;
    const token = await sign({ ...rest, client_id: azp, jti: 'a8b4c2d1e0f9' }, {}, { typ: 'at+jwt' });

    expect(await s.decide(s.authorizer(auth0()), token)).toMatchObject({ status: 200, context: { tenantId: ORG, subject: 'auth0|602c0dcab993d10073daf680' } });
  });

  it('allows the documented client-credentials token where its API identifier is configured', async () => {
    const d = await s.decide(s.authorizer(auth0({ audience: 'https://example-api' })), await sign(M2M_DOC));

    expect(d).toMatchObject({
      status: 200,
      context: { subject: 'CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients', tenantId: M2M_ORG, scopes: 'scope1 scope2' },
    });
  });

  it('takes tokens from a custom domain when the preset names that domain (iss follows the domain)', async () => {
    const custom = s.authorizer(auth0({ domain: 'login.travel0.com' }));

    expect(await s.decide(custom, await user({ iss: 'https://login.travel0.com/' }))).toMatchObject({ status: 200, context: { tenantId: ORG } });
    expect(await s.decide(custom, await user())).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
  });
});

describe("Auth0: the provider's other tokens are refused", () => {
  it.each<[string, Claims, string]>([
    ['a token for another API', { aud: ['https://other-api/', 'https://exampleco.auth0.com/userinfo'] }, 'JWT_AUDIENCE_MISMATCH'],
    ['a token for /userinfo only', { aud: 'https://exampleco.auth0.com/userinfo' }, 'JWT_AUDIENCE_MISMATCH'],
    ['the API identifier without its trailing slash', { aud: 'https://example-api' }, 'JWT_AUDIENCE_MISMATCH'],
    ['a token without aud', { aud: undefined }, 'JWT_CLAIM_MISSING'],
    ['the tenant domain without the trailing slash in iss', { iss: 'https://exampleco.auth0.com' }, 'JWT_ISSUER_UNKNOWN'],
    ["another Auth0 tenant's token", { iss: 'https://otherco.auth0.com/' }, 'JWT_ISSUER_UNKNOWN'],
    ['permissions that are not a list', { permissions: { read: 'stuff' } }, 'JWT_CLAIM_INVALID'],
  ])('refuses %s (401)', async (_name, over, reason) => {
    expect(await s.decide(s.authorizer(auth0()), await user(over))).toMatchObject({ status: 401, reason });
  });

  it('refuses the Management API token (aud https://<domain>/api/v2/)', async () => {
    const management = await sign(M2M_DOC, { aud: `https://${DOMAIN}/api/v2/`, scope: 'read:users update:users', org_id: undefined, org_name: undefined });

    expect(await s.decide(s.authorizer(auth0()), management)).toMatchObject({ status: 401, reason: 'JWT_AUDIENCE_MISMATCH' });
  });

  it('refuses a token of a user who did not sign in through an Organization (403 TENANT_MISSING)', async () => {
    expect(await s.decide(s.authorizer(auth0()), await user({ org_id: undefined }))).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });
  });

  it('refuses a token minted for 30 days (the most Auth0 allows) unless maxTokenAgeSeconds allows that long', async () => {
    const now = Math.floor(Date.now() / 1000);
    const month = await user({ iat: now, exp: now + 2_592_000 });

    expect(await s.decide(s.authorizer(auth0()), month)).toMatchObject({ status: 401, reason: 'JWT_LIFETIME_TOO_LONG' });
    expect(await s.decide(s.authorizer(auth0({ maxTokenAgeSeconds: 2_592_000 })), month)).toMatchObject({ status: 200 });
  });

  it("refuses an HS256 token (an API may sign with its own secret; the preset reads only the tenant's JWKS)", async () => {
    const hs = await signHs256(randomBytes(32), retimed(USER_DOC));

    expect(await s.decide(s.authorizer(auth0()), hs)).toMatchObject({ status: 401, reason: 'JWT_ALG_NOT_ALLOWED' });
  });
});
