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
});
