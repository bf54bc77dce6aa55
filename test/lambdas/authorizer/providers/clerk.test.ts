/*
 * Clerk session tokens through the `clerk` preset, in the shape Clerk documents:
 * - Session tokens, version 2 and version 1 tabs (claims, `o`, `fea`, `sts`, "Decode o.fpm manually" and its worked
 *   example): https://clerk.com/docs/guides/sessions/session-tokens
 * - Manual verification (RS256; `azp` must be one of your origins, skipped when absent; reject `sts: pending`):
 *   https://clerk.com/docs/guides/sessions/manual-jwt-verification
 * - Lifetime (60 seconds): https://clerk.com/docs/guides/how-clerk-works/overview
 * - Pending sessions (session tasks): https://clerk.com/docs/guides/configure/session-tasks
 *
 * Clerk's docs have no single example token: V2 below is assembled from the v2 claim table's documented example values,
 * with the worked example's `fea`, `o.per` and `o.fpm`; V1 from the v1 tab's claim list. Only the times (moved to now,
 * lifetimes kept) and the organization id (Clerk's documented `org_2ZUtbk2yvnFGItdeze1ivCh3uqh` for the placeholder
 * `org_123`) are changed, and where a test says so one claim. The header is `{ "alg": "RS256", "typ": "JWT", "kid" }`.
 */
import { type Claims, type IssuerInput, providerSuite, retimed, signAs } from '../../../support/provider-tokens';

const ISS = 'https://clerk.your-site.com';
const ORIGIN = 'https://example.com';
const ORG = 'org_2ZUtbk2yvnFGItdeze1ivCh3uqh';

/** Session token v2 with an active organization: the worked example's features and permissions. */
const V2: Claims = {
  azp: 'https://example.com',
  exp: 1713158460,
  fva: [7, -1],
  iat: 1713158400,
  iss: 'https://clerk.your-site.com',
  jti: '1234567890',
  nbf: 1713158390,
  sid: 'sess_123',
  sub: 'user_123',
  v: 2,
  pla: 'o:pro',
  fea: 'o:dashboard,o:teams',
  o: { id: ORG, slg: 'org-slug', rol: 'admin', per: 'manage,read', fpm: '3,2' },
};

/** Session token v1 (deprecated April 14, 2025): no `v`, the organization in org_* claims. */
const V1: Claims = {
  azp: 'https://example.com',
  exp: 1713158460,
  fva: [7, -1],
  iat: 1713158400,
  iss: 'https://clerk.your-site.com',
  nbf: 1713158390,
  sid: 'sess_123',
  sub: 'user_123',
  org_id: ORG,
  org_role: 'org:admin',
  org_slug: 'org-slug',
  org_permissions: ['org:admin:example_permission', 'org:member:example_permission'],
};

const s = providerSuite({ tenants: [ORG] });

/** The preset as the recipe writes it: the Frontend API URL and the app's origin; the keys read on loopback. */
const clerk = (extra: Partial<Extract<IssuerInput, { type: 'clerk' }>> = {}): IssuerInput => ({
  type: 'clerk',
  frontendApiUrl: ISS,
  authorizedParties: [ORIGIN],
  jwksUrl: s.jwksUrl,
  ...extra,
});
const session = (over: Claims = {}, doc: Claims = V2) => signAs(s.keys[0]!, { ...retimed(doc), ...over }, { typ: 'JWT' });

describe('Clerk session tokens (v2): organization and session status', () => {
  it("allows the documented token: the active organization as tenant, org:<role>, and the worked example's permissions", async () => {
    const d = await s.decide(s.authorizer(clerk()), await session());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: 'user_123',
      issuer: 'clerk',
      subject: 'user_123',
      tenantId: ORG,
      tier: 'default',
      // fea o:dashboard,o:teams; per manage,read; fpm 3,2: 3 = 0b11 grants both on dashboard, 2 = 0b10 read on teams.
      scopes: 'org:dashboard:manage org:dashboard:read org:teams:read',
      roles: 'org:admin',
      sessionId: 'sess_123',
      email: '',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it('allows an active session (sts "active") and an impersonation session (act) as the user it names', async () => {
    const authorize = s.authorizer(clerk());

    expect(await s.decide(authorize, await session({ sts: 'active' }))).toMatchObject({ status: 200, context: { tenantId: ORG } });
    const act = { iss: 'https://dashboard.clerk.com', sid: 'sess_456', sub: 'user_456' };
    expect(await s.decide(authorize, await session({ act }))).toMatchObject({ status: 200, context: { subject: 'user_123' } });
  });

  it('refuses a pending session (403 JWT_SESSION_PENDING) unless allowPendingSessions is set', async () => {
    const pending = await session({ sts: 'pending' });

    expect(await s.decide(s.authorizer(clerk()), pending)).toMatchObject({ status: 403, reason: 'JWT_SESSION_PENDING' });
    expect(await s.decide(s.authorizer(clerk({ allowPendingSessions: true })), pending)).toMatchObject({ status: 200, context: { tenantId: ORG } });
  });

  it('a pending session of a user not yet in an organization has no tenant even where pending sessions pass', async () => {
    const { o: _o, fea: _fea, pla: _pla, ...noOrg } = retimed(V2);
    const token = await signAs(s.keys[0]!, { ...noOrg, sts: 'pending' }, { typ: 'JWT' });

    expect(await s.decide(s.authorizer(clerk({ allowPendingSessions: true })), token)).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });
  });

  it('refuses a session without an active organization (403 TENANT_MISSING) unless the issuer does without tenants', async () => {
    const token = await session({ o: undefined, fea: 'u:dashboard', pla: 'u:free' });

    expect(await s.decide(s.authorizer(clerk()), token)).toMatchObject({ status: 403, reason: 'TENANT_MISSING' });
    const d = await s.decide(s.authorizer(clerk({ tenantRequired: false })), token);
    expect(d).toMatchObject({ status: 200, context: { tenantId: '', roles: '', scopes: '' } });
  });
});

describe('Clerk session tokens: azp, version, markers, issuer, lifetime', () => {
  it.each<[string, Claims]>([
    ['azp from another origin', { azp: 'https://evil.example.net' }],
    ['azp with a trailing slash', { azp: 'https://example.com/' }],
    ['azp over plain http', { azp: 'http://example.com' }],
    ['no azp (a request without Origin)', { azp: undefined }],
  ])('refuses %s (401 JWT_CLIENT_NOT_ALLOWED)', async (_name, over) => {
    expect(await s.decide(s.authorizer(clerk()), await session(over))).toMatchObject({ status: 401, reason: 'JWT_CLIENT_NOT_ALLOWED' });
  });

  it('accepts a token without azp where allowMissingAzp is set, still not one from another origin', async () => {
    const authorize = s.authorizer(clerk({ allowMissingAzp: true }));

    expect(await s.decide(authorize, await session({ azp: undefined }))).toMatchObject({ status: 200, context: { tenantId: ORG } });
    expect(await s.decide(authorize, await session({ azp: 'https://evil.example.net' }))).toMatchObject({ status: 401, reason: 'JWT_CLIENT_NOT_ALLOWED' });
  });

  it('refuses the documented v1 token and a v of another type (401 JWT_TOKEN_TYPE_NOT_ALLOWED)', async () => {
    const authorize = s.authorizer(clerk());

    expect(await s.decide(authorize, await session({}, V1))).toMatchObject({ status: 401, reason: 'JWT_TOKEN_TYPE_NOT_ALLOWED' });
    expect(await s.decide(authorize, await session({ v: '2' }))).toMatchObject({ status: 401, reason: 'JWT_TOKEN_TYPE_NOT_ALLOWED' });
  });

  it.each<[string, Claims]>([
    ['sts of another type (true)', { sts: true }],
    ['sts of another type (1)', { sts: 1 }],
    ['o.per as a list', { o: { ...(V2.o as object), per: ['manage', 'read'] } }],
    ['o that is not an object', { o: ORG }],
  ])('refuses %s (401 JWT_CLAIM_INVALID)', async (_name, over) => {
    expect(await s.decide(s.authorizer(clerk()), await session(over))).toMatchObject({ status: 401, reason: 'JWT_CLAIM_INVALID' });
  });

  it('refuses a token of another Clerk instance and one from the development host (401 JWT_ISSUER_UNKNOWN)', async () => {
    const authorize = s.authorizer(clerk());

    expect(await s.decide(authorize, await session({ iss: 'https://clerk.other-site.com' }))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
    expect(await s.decide(authorize, await session({ iss: 'https://your-site.clerk.accounts.dev' }))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
  });

  it('refuses a token minted to live longer than maxTokenAgeSeconds (a JWT template lifetime of two days)', async () => {
    const now = Math.floor(Date.now() / 1000);

    expect(await s.decide(s.authorizer(clerk()), await session({ iat: now, nbf: now - 10, exp: now + 2 * 86_400 }))).toMatchObject({
      status: 401,
      reason: 'JWT_LIFETIME_TOO_LONG',
    });
  });
});
