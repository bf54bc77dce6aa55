import { type IssuerConfig, parseConfig } from '../../contract/config';
import { devTokenClaims } from '../../control/dev-tokens/claims';
import { setClaim } from '../../control/dev-tokens/request';
import { clerkOrganization } from '../../lambdas/authorizer/clerk-permissions';

/**
 * The development tokens' claim shapes without a running local mode (test/local/provider-stand-ins.test.ts has them
 * end to end): the parts with arithmetic or edge cases.
 */
const issuer = (raw: object): IssuerConfig =>
  parseConfig({ environment: 'test', tableName: 'table', issuers: [raw], routes: [{ method: 'GET', path: '/', accepts: ['user'] }] }).issuers[0]!;
const request = { sub: 'u', scopes: [], roles: [], ttlSeconds: 600, now: 1_700_000_000 };

describe('Clerk permissions', () => {
  const clerk = issuer({ type: 'clerk', frontendApiUrl: 'https://clerk.example.com', authorizedParties: ['https://app.example.com'] });

  it('encodes scopes as fea/o.per/o.fpm that the authorizer decodes back to the same org:<feature>:<permission> keys', () => {
    const scopes = ['customers:read', 'org:customers:write', 'invoices:write', 'reports:read', 'reports:export'];
    const { claims } = devTokenClaims(clerk, { ...request, tenant: 'acme', scopes, roles: ['org:admin'] });
    expect(claims).toMatchObject({ fea: 'o:customers,o:invoices,o:reports', o: { id: 'acme', rol: 'admin', per: 'read,write,export', fpm: '3,2,5' } });
    expect(clerkOrganization('clerk', claims)).toEqual({
      roles: ['org:admin'],
      scopes: ['org:customers:read', 'org:customers:write', 'org:invoices:write', 'org:reports:read', 'org:reports:export'],
    });
  });

  it('reads the page\'s worked example the same way (fea o:dashboard,o:teams, per manage,read, fpm 3,2)', () => {
    const { claims } = devTokenClaims(clerk, { ...request, tenant: 'acme', scopes: ['dashboard:manage', 'dashboard:read', 'teams:read'] });
    expect(claims).toMatchObject({ fea: 'o:dashboard,o:teams', o: { per: 'manage,read', fpm: '3,2' } });
  });

  it('leaves the organization out without a tenant, and notes the org: prefix', () => {
    const bare = devTokenClaims(clerk, request);
    expect(bare.claims).not.toHaveProperty('o');
    expect(devTokenClaims(clerk, { ...request, tenant: 'acme', scopes: ['a:b'] }).notes).toEqual([expect.stringContaining('org:a:b')]);
  });
});

describe('claims at claim paths', () => {
  it('nests dotted paths, keeps other names whole, and never sets a prototype', () => {
    const claims: Record<string, unknown> = {};
    setClaim(claims, 'app_metadata.tenant_id', 'acme');
    setClaim(claims, 'custom:tenant_id', 'acme');
    setClaim(claims, 'https://example.com/roles', ['admin']);
    setClaim(claims, ['__proto__', 'polluted'], true);
    expect(JSON.parse(JSON.stringify(claims))).toEqual({
      app_metadata: { tenant_id: 'acme' },
      'custom:tenant_id': 'acme',
      'https://example.com/roles': ['admin'],
      ['__proto__']: { polluted: true },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype);
  });
});

describe('per provider', () => {
  it('WorkOS: --client-id mints for that client (its own iss); a configured iss stays', () => {
    const workos = issuer({ type: 'workos', clientId: 'client_01ABC' });
    expect(devTokenClaims(workos, request).claims.iss).toBe('https://api.workos.com/user_management/client_01ABC');
    expect(devTokenClaims(workos, { ...request, clientId: 'client_02XYZ' }).claims.iss).toBe('https://api.workos.com/user_management/client_02XYZ');
    const legacy = issuer({ type: 'workos', clientId: 'client_01ABC', issuer: 'https://api.workos.com' });
    const t = devTokenClaims(legacy, { ...request, clientId: 'client_02XYZ' });
    expect(t.claims.iss).toBe('https://api.workos.com');
    expect(t.notes).toEqual([expect.stringContaining('does not change it')]);
  });

  it('Entra: oid is --sub and sub a pairwise id by default; with subjectClaim sub the other way round', () => {
    const raw = { type: 'entra', tenants: ['3f1c2a9e-8b4d-4e7a-9c21-5d6e7f8a9b0c'], audience: 'b7d3e1f2-4a5c-4d8e-9f01-2a3b4c5d6e7f' };
    const byOid = devTokenClaims(issuer(raw), request).claims;
    expect(byOid).toMatchObject({ oid: 'u', sub: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tid: raw.tenants[0] });
    const bySub = devTokenClaims(issuer({ ...raw, subjectClaim: 'sub' }), request).claims;
    expect(bySub).toMatchObject({ sub: 'u', oid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) });
  });

  it('Auth0: roles only where the issuer reads them (rolesClaim)', () => {
    const auth0 = issuer({ type: 'auth0', domain: 'acme.eu.auth0.com', audience: 'https://api.acme.example/' });
    expect(() => devTokenClaims(auth0, { ...request, roles: ['admin'] })).toThrow('set rolesClaim');
  });

  it('OIDC: required claims it cannot make up are refused; requiredClaimValues are set', () => {
    const raw = { type: 'oidc', issuer: 'https://sso.example.com', keys: { jwksUrl: 'https://sso.example.com/jwks' }, algorithms: ['RS256'], audience: 'api' };
    expect(() => devTokenClaims(issuer({ ...raw, requiredClaims: ['acr'] }), request)).toThrow('requires acr');
    expect(devTokenClaims(issuer({ ...raw, requiredClaimValues: { token_use: 'access' } }), request).claims).toMatchObject({ token_use: 'access', aud: 'api' });
  });

  it("Supabase: its project's iss, aud authenticated, and the tenant, scopes and roles under app_metadata where it reads them", () => {
    const supabase = issuer({ type: 'supabase', url: 'https://abc.supabase.co', jwks: true, scopesClaim: 'app_metadata.scopes' });
    const token = devTokenClaims(supabase, { ...request, tenant: 'acme', scopes: ['orders:read'], roles: ['admin'] });
    expect(token.claims).toMatchObject({
      iss: 'https://abc.supabase.co/auth/v1',
      sub: 'u',
      aud: 'authenticated',
      role: 'authenticated',
      is_anonymous: false,
      session_id: token.sessionId,
      app_metadata: { tenant_id: 'acme', scopes: ['orders:read'], roles: ['admin'] },
    });
    // No scopesClaim configured: a scope has nowhere to go, and is refused rather than dropped.
    expect(() => devTokenClaims(issuer({ type: 'supabase', url: 'https://abc.supabase.co', jwks: true }), { ...request, scopes: ['x:y'] })).toThrow('--scope');
  });
});
