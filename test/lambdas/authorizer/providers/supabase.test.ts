/*
 * Supabase Auth access tokens through the `supabase` preset, in the shape Supabase documents:
 * - JWT claims reference (the authenticated-user example; required claims; the anon and service_role API-key JWTs):
 *   https://supabase.com/docs/guides/auth/jwt-fields
 * - JWTs overview (header { typ, alg, kid }): https://supabase.com/docs/guides/auth/jwts
 * - Signing keys (ES256/RS256 at /auth/v1/.well-known/jwks.json; the legacy HS256 secret):
 *   https://supabase.com/docs/guides/auth/signing-keys
 * - Custom data in app_metadata (custom access token hook): https://supabase.com/docs/guides/auth/auth-hooks/custom-access-token-hook
 * - Anonymous sign-ins (role authenticated, is_anonymous true): https://supabase.com/docs/guides/auth/auth-anonymous
 * - Sessions (access tokens live 1 hour by default): https://supabase.com/docs/guides/auth/sessions
 *
 * The payload is Supabase's example as published, with the tenant, scopes and roles the README's recipe reads added to
 * its app_metadata (where Supabase says custom data goes); only the times (moved to now, the hour kept) and, where a
 * test says so, one claim are changed. Two issuers as the README's recipe writes them: the project with the example's
 * own `iss` on its legacy HS256 secret, and a project on loopback whose signing key (ES256) the preset reads from
 * <url>/auth/v1/.well-known/jwks.json (the preset has no `jwksUrl`: its keys URL follows from `url`).
 */
import { signHs256, signWith } from '../../../support/jwt';
import { type Claims, type IssuerInput, providerSuite, retimed } from '../../../support/provider-tokens';

const PROJECT = 'https://abcdefghijklmnopqrst.supabase.co';
const TENANT = 'acme';

/** The authenticated-user example of the JWT claims reference. */
const DOC: Claims = {
  aal: 'aal1',
  amr: [{ method: 'password', timestamp: 1640991600 }],
  app_metadata: { provider: 'email', providers: ['email'] },
  aud: 'authenticated',
  email: 'user@example.com',
  exp: 1640995200,
  iat: 1640991600,
  iss: 'https://abcdefghijklmnopqrst.supabase.co/auth/v1',
  phone: '',
  role: 'authenticated',
  session_id: '123e4567-e89b-12d3-a456-426614174000',
  sub: '123e4567-e89b-12d3-a456-426614174000',
  user_metadata: { name: 'John Doe' },
  is_anonymous: false,
};
const APP_METADATA = { provider: 'email', providers: ['email'], tenant_id: TENANT, scopes: ['customers:read'], roles: ['admin'] };

const s = providerSuite({ tenants: [TENANT] });

/** The README's recipe: the project URL, the legacy secret, the signing keys, tenant and scopes from app_metadata. */
const supabase = (url: string, extra: Partial<Extract<IssuerInput, { type: 'supabase' }>> = {}): IssuerInput => ({
  type: 'supabase',
  url,
  hs256SecretId: s.fx.supabaseSecretId,
  jwks: true,
  tenantClaim: 'app_metadata.tenant_id',
  scopesClaim: 'app_metadata.scopes',
  allowAnonymous: false,
  ...extra,
});
const both = (extra: Partial<Extract<IssuerInput, { type: 'supabase' }>> = {}) =>
  s.authorizer(supabase(PROJECT, extra), supabase(s.fx.supabaseUrl, { id: 'supabase-local', ...extra }));

/** The example on the legacy HS256 secret, with the recipe's app_metadata, `over` on top. */
const legacy = (over: Claims = {}) => signHs256(s.fx.supabaseSecret, { ...retimed(DOC), app_metadata: APP_METADATA, ...over });
/** The example as the loopback project signs it with its ES256 signing key. */
const signingKey = (over: Claims = {}) => signWith(s.fx.supabaseKey, { ...retimed(DOC), iss: `${s.fx.supabaseUrl}/auth/v1`, app_metadata: APP_METADATA, ...over });
/** An API-key JWT (anon or service_role): `{ iss: "supabase", ref, role, iat, exp }`, signed with the project's secret. */
const apiKeyJwt = (role: string) => signHs256(s.fx.supabaseSecret, retimed({ iss: 'supabase', ref: 'abcdefghijklmnopqrst', role, iat: 1641769200, exp: 1957345200 }));

describe('Supabase access tokens', () => {
  it('allows the documented token signed with a signing key (ES256, JWKS): tenant, scopes, roles, email, session', async () => {
    const d = await s.decide(both(), await signingKey());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: '123e4567-e89b-12d3-a456-426614174000',
      issuer: 'supabase-local',
      subject: '123e4567-e89b-12d3-a456-426614174000',
      tenantId: TENANT,
      tier: 'default',
      scopes: 'customers:read',
      roles: 'admin',
      email: 'user@example.com',
      sessionId: '123e4567-e89b-12d3-a456-426614174000',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it("allows the documented token, with its own iss, on the project's legacy HS256 secret", async () => {
    const d = await s.decide(both(), await legacy());

    expect(d).toMatchObject({ status: 200, context: { issuer: 'supabase', tenantId: TENANT, subject: '123e4567-e89b-12d3-a456-426614174000', scopes: 'customers:read' } });
  });

  it('refuses the example as published, which names no tenant (403 TENANT_MISSING), and a tenant in user_metadata', async () => {
    const authorize = both();

    expect(await s.decide(authorize, await legacy({ app_metadata: DOC.app_metadata }))).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });
    // Users can edit their own user_metadata: a tenant there is never read.
    expect(await s.decide(authorize, await legacy({ app_metadata: DOC.app_metadata, user_metadata: { tenant_id: TENANT } }))).toMatchObject({
      status: 403,
      reason: 'TENANT_MISSING',
    });
  });

  it('refuses an anonymous session (403 JWT_ANONYMOUS_NOT_ALLOWED) unless allowAnonymous is set', async () => {
    const anonymous = await legacy({ is_anonymous: true, email: '', amr: [{ method: 'anonymous', timestamp: 1640991600 }] });

    expect(await s.decide(both(), anonymous)).toMatchObject({ status: 403, reason: 'JWT_ANONYMOUS_NOT_ALLOWED' });
    expect(await s.decide(both({ allowAnonymous: true }), anonymous)).toMatchObject({ status: 200, context: { tenantId: TENANT } });
  });

  it('refuses the anon and service_role API-key JWTs, signed with the same secret (401 JWT_ISSUER_UNKNOWN)', async () => {
    const authorize = both();

    expect(await s.decide(authorize, await apiKeyJwt('anon'))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
    expect(await s.decide(authorize, await apiKeyJwt('service_role'))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
  });

  it.each<[string, Claims, string]>([
    ['a token with role anon', { role: 'anon' }, 'JWT_ROLE_NOT_ALLOWED'],
    ['a token with role service_role', { role: 'service_role' }, 'JWT_ROLE_NOT_ALLOWED'],
    ['a token for the anon audience', { aud: 'anon' }, 'JWT_AUDIENCE_MISMATCH'],
    ['is_anonymous of another type ("true")', { is_anonymous: 'true' }, 'JWT_CLAIM_INVALID'],
    ['is_anonymous of another type ("false")', { is_anonymous: 'false' }, 'JWT_CLAIM_INVALID'],
    ['is_anonymous of another type (1)', { is_anonymous: 1 }, 'JWT_CLAIM_INVALID'],
    ["another project's token", { iss: 'https://zyxwvutsrqponmlkjihg.supabase.co/auth/v1' }, 'JWT_ISSUER_UNKNOWN'],
    ['a token minted to live longer than maxTokenAgeSeconds', { exp: Math.floor(Date.now() / 1000) + 2 * 86_400 }, 'JWT_LIFETIME_TOO_LONG'],
  ])('refuses %s (401)', async (_name, over, reason) => {
    expect(await s.decide(both(), await legacy(over))).toMatchObject({ status: 401, reason });
  });

  it('refuses a signing-key token whose role or marker is wrong just as a legacy one', async () => {
    const authorize = both();

    expect(await s.decide(authorize, await signingKey({ role: 'service_role' }))).toMatchObject({ status: 401, reason: 'JWT_ROLE_NOT_ALLOWED' });
    expect(await s.decide(authorize, await signingKey({ is_anonymous: 'true' }))).toMatchObject({ status: 401, reason: 'JWT_CLAIM_INVALID' });
  });
});
