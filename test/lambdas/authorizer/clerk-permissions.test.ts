import { clerkOrganization } from '../../../lambdas/authorizer/clerk-permissions';
import { AuthError } from '../../../lambdas/authorizer/errors';

/**
 * Clerk v2's active organization as roles and scopes (lambdas/authorizer/clerk-permissions.ts), against Clerk's
 * documentation (https://clerk.com/docs/guides/sessions/session-tokens, "Decode o.fpm manually") and its SDK's reading
 * (clerk/javascript packages/shared/src/jwtPayloadParser.ts: `ou`/`uo` features count as organization features, fpm
 * is indexed among those, nothing without both per and fpm).
 */
type Payload = Record<string, unknown>;

/** The docs' worked example: fea o:dashboard,o:teams; per manage,read; fpm 3,2; role admin. */
const doc = (o: Payload = {}, rest: Payload = {}): Payload => ({
  v: 2,
  fea: 'o:dashboard,o:teams',
  o: { id: 'org_2ZUtbk2yvnFGItdeze1ivCh3uqh', slg: 'org-slug', rol: 'admin', per: 'manage,read', fpm: '3,2', ...o },
  ...rest,
});

/** The claim named by the refusal (JWT_CLAIM_INVALID), or 'ok'. */
function refusal(payload: Payload): string {
  try {
    clerkOrganization('clerk', payload);
    return 'ok';
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    return `${err.code}:${String(err.detail?.claim)}`;
  }
}

describe('clerkOrganization: reading', () => {
  it("expands the docs' worked example to org:dashboard:manage, org:dashboard:read, org:teams:read with role org:admin", () => {
    expect(clerkOrganization('clerk', doc())).toEqual({
      roles: ['org:admin'],
      scopes: ['org:dashboard:manage', 'org:dashboard:read', 'org:teams:read'],
    });
  });

  it('reads nothing without an active organization', () => {
    expect(clerkOrganization('clerk', { v: 2, fea: 'u:dashboard', pla: 'u:free' })).toEqual({ roles: [], scopes: [] });
    // Own properties only: an inherited `o` is no organization.
    expect(clerkOrganization('clerk', Object.create({ o: { rol: 'admin' } }) as Payload)).toEqual({ roles: [], scopes: [] });
  });

  it('counts ou and uo features as organization features, skips u, and indexes fpm among the organization ones', () => {
    const payload = doc({ per: 'read,write', fpm: '1,2,3' }, { fea: 'u:billing,o:dashboard,ou:teams,uo:reports' });

    expect(clerkOrganization('clerk', payload).scopes).toEqual(['org:dashboard:read', 'org:teams:write', 'org:reports:read', 'org:reports:write']);
  });

  it('reads the mask least significant bit first, and ignores bits past the permissions', () => {
    expect(clerkOrganization('clerk', doc({ per: 'a,b,c', fpm: '4' }, { fea: 'o:f' })).scopes).toEqual(['org:f:c']);
    expect(clerkOrganization('clerk', doc({ per: 'a,b', fpm: '7' }, { fea: 'o:f' })).scopes).toEqual(['org:f:a', 'org:f:b']);
  });

  it('grants nothing to a feature without a mask, and ignores masks without a feature', () => {
    expect(clerkOrganization('clerk', doc({ fpm: '3' })).scopes).toEqual(['org:dashboard:manage', 'org:dashboard:read']);
    expect(clerkOrganization('clerk', doc({ fpm: '3,2,1' }, { fea: 'o:dashboard' })).scopes).toEqual(['org:dashboard:manage', 'org:dashboard:read']);
  });

  it('trims entries and drops empty ones', () => {
    const payload = doc({ per: ' manage , read ,', fpm: ' 3 , 2 ' }, { fea: ' o:dashboard , , o:teams ' });

    expect(clerkOrganization('clerk', payload).scopes).toEqual(['org:dashboard:manage', 'org:dashboard:read', 'org:teams:read']);
  });

  it.each([['per'], ['fpm']])('with o.%s missing (as Clerk SDK): the role, no permissions', (missing) => {
    const org = { ...(doc().o as Payload) };
    delete org[missing];

    expect(clerkOrganization('clerk', { ...doc(), o: org })).toEqual({ roles: ['org:admin'], scopes: [] });
  });

  it('without fea, an organization grants its role and no permissions; without rol, no role', () => {
    const { fea: _fea, ...noFea } = doc();
    const { rol: _rol, ...noRole } = doc().o as Payload;

    expect(clerkOrganization('clerk', noFea)).toEqual({ roles: ['org:admin'], scopes: [] });
    expect(clerkOrganization('clerk', { ...doc(), o: noRole }).roles).toEqual([]);
  });

  it('drops a permission whose scope is not a valid scope rather than granting something else', () => {
    expect(clerkOrganization('clerk', doc({ per: 'read,wr ite' }, { fea: 'o:dashboard' })).scopes).toEqual(['org:dashboard:read']);
  });
});

describe('clerkOrganization: refusals', () => {
  it.each<[string, Payload, string]>([
    ['o as an array', { o: [] }, 'o'],
    ['o as null', { o: null }, 'o'],
    ['o as a string', { o: 'org_2ZUtbk2yvnFGItdeze1ivCh3uqh' }, 'o'],
    ['rol as a number', doc({ rol: 1 }), 'o.rol'],
    ['rol with a space', doc({ rol: 'ad min' }), 'o.rol'],
    ['per as a list', doc({ per: ['manage', 'read'] }), 'o.per'],
    ['fpm as a number', doc({ fpm: 3 }), 'o.fpm'],
    ['fpm with a non-number', doc({ fpm: '3,x' }), 'o.fpm'],
    ['fpm negative', doc({ fpm: '-1' }), 'o.fpm'],
    ['fpm in hex', doc({ fpm: '0x3' }), 'o.fpm'],
    ['fea as a list', doc({}, { fea: ['o:dashboard'] }), 'fea'],
    ['a fea entry without a scope', doc({}, { fea: 'dashboard' }), 'fea'],
  ])('refuses %s (JWT_CLAIM_INVALID)', (_name, payload, claim) => {
    expect(refusal(payload)).toBe(`JWT_CLAIM_INVALID:${claim}`);
  });

  it('reads an fpm mask of up to 80 digits exactly, and refuses a longer one at once', () => {
    const per = Array.from({ length: 256 }, (_, i) => `p${i}`).join(',');
    const mask = (1n << 255n) | 1n; // 78 digits: the first and the 256th permission

    expect(clerkOrganization('clerk', doc({ per, fpm: mask.toString() }, { fea: 'o:f' })).scopes).toEqual(['org:f:p0', 'org:f:p255']);
    expect(refusal(doc({ fpm: '9'.repeat(81) }))).toBe('JWT_CLAIM_INVALID:o.fpm');
    const started = Date.now();
    expect(refusal(doc({ fpm: '9'.repeat(200_000) }))).toBe('JWT_CLAIM_INVALID:o.fpm');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('takes 256 entries and refuses more than 256 in per, fpm or fea', () => {
    const names = (n: number, prefix = '') => Array.from({ length: n }, (_, i) => `${prefix}x${i}`).join(',');

    expect(refusal(doc({ per: names(256) }))).toBe('ok');
    expect(refusal(doc({ per: names(257) }))).toBe('JWT_CLAIM_INVALID:o.per');
    expect(refusal(doc({ fpm: Array.from({ length: 257 }, () => '1').join(',') }))).toBe('JWT_CLAIM_INVALID:o.fpm');
    expect(refusal(doc({}, { fea: names(257, 'o:') }))).toBe('JWT_CLAIM_INVALID:fea');
    expect(refusal(doc({}, { fea: names(256, 'o:') }))).toBe('ok');
  });
});
