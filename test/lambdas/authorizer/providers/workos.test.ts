/*
 * WorkOS AuthKit (User Management) access tokens through the `workos` preset, in the shape WorkOS documents:
 * - Session tokens reference, "Access Token JWT" example: https://workos.com/docs/reference/authkit/session-tokens
 * - Sessions guide (claims; iss "https://api.workos.com/ (will be your custom auth domain if configured)"; JWKS at
 *   /sso/jwks/<clientId>): https://workos.com/docs/authkit/sessions
 * - The per-client issuer https://api.workos.com/user_management/<client id>:
 *   https://workos.com/docs/integrations/supabase-authkit and https://supabase.com/docs/guides/auth/third-party/workos
 * - Connect (OAuth-app) tokens, another product with its own issuer: https://workos.com/docs/authkit/connect/token-claims
 *
 * The payload is WorkOS's example as published; only the times (moved to now, its 300 s lifetime kept), the
 * organization id (WorkOS's documented format, `org_01EHZNVPK3SFK441A1RGBFSHRT`) and, where a test says so, `iss` or
 * one claim are changed. WorkOS documents no header; the tokens are RS256 with a `kid`, as the JWKS requires.
 */
import { type Claims, type IssuerInput, providerSuite, retimed, signAs } from '../../../support/provider-tokens';

const CLIENT = 'client_123456789';
const ISS = `https://api.workos.com/user_management/${CLIENT}`;
/** The issuer of environments created before mid-2025 (the reference's example) and the sessions guide's spelling. */
const LEGACY_ISS = 'https://api.workos.com';
const ORG = 'org_01EHZNVPK3SFK441A1RGBFSHRT';

/** "Access Token JWT" (session tokens reference), including its impersonation claim `act`. */
const DOC: Claims = {
  iss: 'https://api.workos.com',
  sub: 'user_01HBEQKA6K4QJAS93VPE39W1JT',
  act: { sub: 'admin@foocorp.com' },
  org_id: ORG,
  role: 'member',
  roles: ['member'],
  permissions: ['posts:read', 'posts:write'],
  entitlements: ['audit-logs'],
  sid: 'session_01HQSXZGF8FHF7A9ZZFCW4387R',
  jti: '01HQSXZXPPFPKMDD32RKTFY6PV',
  exp: 1709193857,
  iat: 1709193557,
};

const s = providerSuite({ tenants: [ORG] });

/** The preset as the recipe writes it: the client id (the issuer follows from it); the keys read on loopback. */
const workos = (extra: Partial<Extract<IssuerInput, { type: 'workos' }>> = {}): IssuerInput => ({ type: 'workos', clientId: CLIENT, jwksUrl: s.jwksUrl, ...extra });
const token = (over: Claims = {}) => signAs(s.keys[0]!, { ...retimed(DOC), iss: ISS, ...over }, { typ: 'JWT' });

describe('WorkOS AuthKit access tokens', () => {
  it('allows the documented token: org_id as tenant, permissions as scopes, role and roles as roles, sid', async () => {
    const d = await s.decide(s.authorizer(workos()), await token());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: 'user_01HBEQKA6K4QJAS93VPE39W1JT',
      issuer: 'workos',
      subject: 'user_01HBEQKA6K4QJAS93VPE39W1JT',
      tenantId: ORG,
      tier: 'default',
      scopes: 'posts:read posts:write',
      roles: 'member',
      sessionId: 'session_01HQSXZGF8FHF7A9ZZFCW4387R',
      email: '',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it('merges role with roles (older tokens carry role only)', async () => {
    const authorize = s.authorizer(workos());

    expect((await s.decide(authorize, await token({ role: 'admin', roles: undefined }))).context).toMatchObject({ roles: 'admin' });
    expect((await s.decide(authorize, await token({ role: 'admin', roles: ['admin', 'billing'] }))).context).toMatchObject({ roles: 'admin billing' });
  });

  it('refuses the legacy issuer where only the per-client one is configured, and accepts it once `issuer` lists it', async () => {
    const legacy = await token({ iss: LEGACY_ISS });

    expect(await s.decide(s.authorizer(workos()), legacy)).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
    const both = s.authorizer(workos({ issuer: [ISS, LEGACY_ISS] }));
    expect(await s.decide(both, legacy)).toMatchObject({ status: 200, context: { tenantId: ORG } });
    expect(await s.decide(both, await token())).toMatchObject({ status: 200, context: { tenantId: ORG } });
  });

  it('matches the issuer exactly: the sessions guide spelling with a trailing slash is another issuer', async () => {
    const authorize = s.authorizer(workos({ issuer: LEGACY_ISS }));

    expect(await s.decide(authorize, await token({ iss: `${LEGACY_ISS}/` }))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
    expect(await s.decide(s.authorizer(workos({ issuer: `${LEGACY_ISS}/` })), await token({ iss: `${LEGACY_ISS}/` }))).toMatchObject({ status: 200 });
  });

  it('takes a custom authentication domain as the issuer once `issuer` names it', async () => {
    const custom = `https://auth.example.com/user_management/${CLIENT}`;

    expect(await s.decide(s.authorizer(workos()), await token({ iss: custom }))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
    expect(await s.decide(s.authorizer(workos({ issuer: custom })), await token({ iss: custom }))).toMatchObject({ status: 200, context: { tenantId: ORG } });
  });

  it('refuses a user with no organization selected (403 TENANT_MISSING)', async () => {
    expect(await s.decide(s.authorizer(workos()), await token({ org_id: undefined, role: undefined, roles: undefined }))).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });
  });

  it('with an audience configured (a JWT template adds aud): refuses tokens without it or with another', async () => {
    const authorize = s.authorizer(workos({ audience: 'https://api.example.com' }));

    expect(await s.decide(authorize, await token())).toMatchObject({ status: 401, reason: 'JWT_CLAIM_MISSING' });
    expect(await s.decide(authorize, await token({ aud: 'https://other.example.com' }))).toMatchObject({ status: 401, reason: 'JWT_AUDIENCE_MISMATCH' });
    expect(await s.decide(authorize, await token({ aud: 'https://api.example.com' }))).toMatchObject({ status: 200 });
  });

  it.each<[string, Claims, string]>([
    ['a Connect (OAuth app) token of an AuthKit domain', { iss: 'https://example.authkit.app', aud: CLIENT, client_id: CLIENT }, 'JWT_ISSUER_UNKNOWN'],
    ["another environment's token", { iss: 'https://api.workos.com/user_management/client_987654321' }, 'JWT_ISSUER_UNKNOWN'],
    ['permissions that are not a list of strings', { permissions: [1, 2] }, 'JWT_CLAIM_INVALID'],
    ['a role that is not a string', { role: { slug: 'member' } }, 'JWT_CLAIM_INVALID'],
    ['a token minted to live longer than maxTokenAgeSeconds', { exp: Math.floor(Date.now() / 1000) + 2 * 86_400 }, 'JWT_LIFETIME_TOO_LONG'],
  ])('refuses %s (401)', async (_name, over, reason) => {
    expect(await s.decide(s.authorizer(workos()), await token(over))).toMatchObject({ status: 401, reason });
  });
});
