import { AuthError } from '../../../lambdas/authorizer/errors';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { issuerSpec } from './issuer-spec';
import { type JwtClaims, compileClaimRules, userPrincipal } from '../../../lambdas/authorizer/jwt-principal';

function spec(rest: Partial<IssuerSpec> = {}): IssuerSpec {
  return issuerSpec({
    id: 'supa',
    issuer: 'https://abcd.supabase.co/auth/v1',
    algorithms: ['HS256'],
    keys: { hs256SecretId: 'supa-jwt' },
    requiredClaims: ['sub', 'exp'],
    requiredClaimValues: { role: 'authenticated' },
    claims: { subject: 'sub', tenant: 'app_metadata.tenant_id', scopes: 'scope', roles: 'app_metadata.roles', email: 'email', session: 'session_id' },
    anonymous: { claim: 'is_anonymous', allow: false },
    tenantRequired: true,
    ...rest,
  });
}

const claims = (over: JwtClaims = {}): JwtClaims => ({
  sub: 'user-1',
  role: 'authenticated',
  app_metadata: { tenant_id: 'acme', roles: ['admin'] },
  scope: 'items:read items:write',
  email: 'a@example.com',
  session_id: 'sess-1',
  ...over,
});

const map = (payload: JwtClaims, s: IssuerSpec = spec()) => userPrincipal(s, compileClaimRules(s), payload);

/** The reason code and claim a mapping is refused with, or 'ok'. */
function outcome(payload: JwtClaims, s?: IssuerSpec): string {
  try {
    map(payload, s);
    return 'ok';
  } catch (err) {
    if (err instanceof AuthError) return `${err.code}${err.detail?.claim ? `:${err.detail.claim}` : ''}`;
    throw err;
  }
}

describe('userPrincipal', () => {
  it('maps the claims at the issuer paths, nested ones included', () => {
    expect(map(claims())).toEqual({
      kind: 'user',
      issuerId: 'supa',
      subject: 'user-1',
      tenantId: 'acme',
      scopes: ['items:read', 'items:write'],
      roles: ['admin'],
      email: 'a@example.com',
      sessionId: 'sess-1',
      tenantRequired: true,
    });
  });

  it('hands out a frozen principal with frozen lists, safe to share between requests', () => {
    const p = map(claims());

    expect(Object.isFrozen(p) && Object.isFrozen(p.scopes) && Object.isFrozen(p.roles)).toBe(true);
  });

  it('leaves out a tenant, email and session the token does not carry, and maps absent lists to empty ones', () => {
    const p = map({ sub: 'user-1', role: 'authenticated' });

    expect(p).toEqual({ kind: 'user', issuerId: 'supa', subject: 'user-1', scopes: [], roles: [], tenantRequired: true });
    expect(Object.keys(p)).not.toContain('tenantId');
  });

  it('refuses a required role that differs as JWT_ROLE_NOT_ALLOWED, and any other required value as JWT_CLAIM_INVALID', () => {
    expect(outcome(claims({ role: 'anon' }))).toBe('JWT_ROLE_NOT_ALLOWED:role');
    expect(outcome(claims({ role: 'service_role' }))).toBe('JWT_ROLE_NOT_ALLOWED:role');
    expect(outcome(claims({ aal: 'aal1' }), spec({ requiredClaimValues: { aal: 'aal2' } }))).toBe('JWT_CLAIM_INVALID:aal');
  });

  it('refuses an anonymous user where the issuer does not allow them, and maps them where it does', () => {
    expect(outcome(claims({ is_anonymous: true }))).toBe('JWT_ANONYMOUS_NOT_ALLOWED');
    // A marker of another type fails closed: "true", 1 or {} is not a boolean, so nobody can say what it means.
    for (const odd of ['true', 'false', 1, 0, null, {}, []]) expect(outcome(claims({ is_anonymous: odd }))).toBe('JWT_CLAIM_INVALID:is_anonymous');
    expect(outcome(claims({ is_anonymous: false }))).toBe('ok');
    expect(outcome(claims({ is_anonymous: true }), spec({ anonymous: { claim: 'is_anonymous', allow: true } }))).toBe('ok');
  });

  it('refuses a token without a subject as JWT_CLAIM_MISSING', () => {
    expect(outcome(claims({ sub: undefined }))).toBe('JWT_CLAIM_MISSING:sub');
    expect(outcome(claims({ sub: null }))).toBe('JWT_CLAIM_MISSING:sub');
  });

  it('refuses a subject or tenant that is not an identifier, but leaves out an email or session that is not', () => {
    expect(outcome(claims({ sub: 'a b' }))).toBe('JWT_CLAIM_INVALID:sub');
    expect(outcome(claims({ sub: 42 }))).toBe('JWT_CLAIM_INVALID:sub');
    expect(outcome(claims({ app_metadata: { tenant_id: ['acme'] } }))).toBe('JWT_CLAIM_INVALID:app_metadata.tenant_id');

    const p = map(claims({ email: 'not an email\n', session_id: { id: 1 } }));

    expect(p.email).toBeUndefined();
    expect(p.sessionId).toBeUndefined();
  });

  it('refuses a scope or role list of the wrong type as JWT_CLAIM_INVALID', () => {
    expect(outcome(claims({ scope: 42 }))).toBe('JWT_CLAIM_INVALID:scope');
    expect(outcome(claims({ app_metadata: { tenant_id: 'acme', roles: [1] } }))).toBe('JWT_CLAIM_INVALID:app_metadata.roles');
  });

  it('reads own properties only: an inherited __proto__ or constructor finds nothing, an own __proto__ key is plain data', () => {
    const payload = JSON.parse('{"sub":"user-1","role":"authenticated","__proto__":{"tenant_id":"evil"}}') as JwtClaims;
    const viaProto = spec({ claims: { subject: 'sub', tenant: '__proto__.tenant_id' } });
    const viaConstructor = spec({ claims: { subject: 'sub', tenant: 'constructor.name' } });

    expect(map(payload, viaProto).tenantId).toBe('evil'); // an own `__proto__` key is plain data
    expect(map({ sub: 'user-1', role: 'authenticated' }, viaProto).tenantId).toBeUndefined();
    expect(map({ sub: 'user-1', role: 'authenticated' }, viaConstructor).tenantId).toBeUndefined();
  });

  it('names any claim: verbatim top-level names with : or /, arrays for each level, nested dotted paths', () => {
    const cognitoLike = spec({
      requiredClaimValues: {},
      claims: { subject: 'sub', tenant: 'custom:tenant_id', roles: 'cognito:groups', scopes: 'https://example.com/scopes' },
    });
    const payload = { sub: 'u-1', 'custom:tenant_id': 'org_9ybsU1dN2dKfDkBi', 'cognito:groups': ['admin'], 'https://example.com/scopes': 'a:read' };
    expect(map(payload, cognitoLike)).toMatchObject({ tenantId: 'org_9ybsU1dN2dKfDkBi', roles: ['admin'], scopes: ['a:read'] });
    // A dotted string of plain names nests; the same name as an array of one level is the top-level claim "a.b".
    const nested = spec({ requiredClaimValues: {}, claims: { subject: 'sub', tenant: 'a.b' } });
    const flat = spec({ requiredClaimValues: {}, claims: { subject: 'sub', tenant: ['a.b'] } });
    const both = { sub: 'u-1', a: { b: 'nested' }, 'a.b': 'flat' };
    expect(map(both, nested).tenantId).toBe('nested');
    expect(map(both, flat).tenantId).toBe('flat');
    const deep = spec({ requiredClaimValues: {}, claims: { subject: 'sub', tenant: ['https://example.com/app', 'tenant'] } });
    expect(map({ sub: 'u-1', 'https://example.com/app': { tenant: 'acme' } }, deep).tenantId).toBe('acme');
    expect(outcome({ sub: 'u-1', 'https://example.com/app': { tenant: 7 } }, deep)).toBe('JWT_CLAIM_INVALID:["https://example.com/app","tenant"]');
  });

  it('refuses another kind of token (tokenType) before anything else, and another app (client) next', () => {
    const access = spec({ requiredClaimValues: {}, tokenType: { claim: 'token_use', expected: 'access' }, client: { claim: 'client_id', allowed: ['app-1', 'app-2'] } });
    const good = { sub: 'u-1', token_use: 'access', client_id: 'app-2' };
    expect(outcome(good, access)).toBe('ok');
    expect(outcome({ ...good, token_use: 'id' }, access)).toBe('JWT_TOKEN_TYPE_NOT_ALLOWED:token_use');
    expect(outcome({ ...good, token_use: undefined }, access)).toBe('JWT_TOKEN_TYPE_NOT_ALLOWED:token_use');
    expect(outcome({ ...good, token_use: 'id', client_id: 'app-9' }, access)).toBe('JWT_TOKEN_TYPE_NOT_ALLOWED:token_use');
    expect(outcome({ ...good, client_id: 'app-9' }, access)).toBe('JWT_CLIENT_NOT_ALLOWED:client_id');
    for (const odd of [undefined, ['app-1'], 1, null]) expect(outcome({ ...good, client_id: odd }, access)).toBe('JWT_CLIENT_NOT_ALLOWED:client_id');
    // With `optional`, a token without the claim passes; one with another value still does not.
    const azp = spec({ requiredClaimValues: {}, client: { claim: 'azp', allowed: ['https://app.example'], optional: true } });
    expect(outcome({ sub: 'u-1' }, azp)).toBe('ok');
    expect(outcome({ sub: 'u-1', azp: 'https://evil.example' }, azp)).toBe('JWT_CLIENT_NOT_ALLOWED:azp');
    expect(outcome({ sub: 'u-1', azp: null }, azp)).toBe('JWT_CLIENT_NOT_ALLOWED:azp');
  });

  it('refuses a pending session where not accepted (403), and a status of another type as invalid', () => {
    const clerk = spec({ requiredClaimValues: {}, pending: { claim: 'sts', value: 'pending', allow: false } });
    expect(outcome({ sub: 'u-1', sts: 'pending' }, clerk)).toBe('JWT_SESSION_PENDING');
    expect(outcome({ sub: 'u-1', sts: 'active' }, clerk)).toBe('ok');
    expect(outcome({ sub: 'u-1' }, clerk)).toBe('ok');
    expect(outcome({ sub: 'u-1', sts: ['pending'] }, clerk)).toBe('JWT_CLAIM_INVALID:sts');
    expect(outcome({ sub: 'u-1', sts: 'pending' }, spec({ requiredClaimValues: {}, pending: { claim: 'sts', value: 'pending', allow: true } }))).toBe('ok');
  });

  it('merges scopes with permissions and roles with role, without repeats; requires nested required claims', () => {
    const workos = spec({ requiredClaimValues: {}, requiredClaims: ['sub', 'app.tenant'], claims: { subject: 'sub', scopes: 'scope', permissions: 'permissions', roles: 'roles', role: 'role' } });
    const p = map({ sub: 'u-1', app: { tenant: 'x' }, scope: 'a:read b:read', permissions: ['b:read', 'c:write'], role: 'admin', roles: ['admin', 'member'] }, workos);
    expect(p.scopes).toEqual(['a:read', 'b:read', 'c:write']);
    expect(p.roles).toEqual(['admin', 'member']);
    expect(outcome({ sub: 'u-1' }, workos)).toBe('JWT_CLAIM_MISSING:app.tenant');
  });
});
