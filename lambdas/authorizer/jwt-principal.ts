/**
 * From a verified JWT's claims to a user principal, by the issuer's own rules: required claim values, the anonymous
 * rule, and where the subject, tenant, email, session, scopes and roles are found. The rules' claim paths are split
 * once per issuer ({@link compileClaimRules}), not on every token.
 */
import { stringList } from './claims';
import { AuthError } from './errors';
import type { IssuerSpec } from './issuers';
import { IDENTIFIER_PATTERN } from '../../contract/patterns';

/** A verified user, before tenant and route checks. */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly issuerId: string;
  readonly subject: string;
  readonly tenantId?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly email?: string;
  readonly sessionId?: string;
  readonly tenantRequired: boolean;
}

/** The claims of a verified JWT, as JSON.parse made them. */
export type JwtClaims = Record<string, unknown>;

/** A claim path split once (claims.ts `claimAt` splits it on every call). */
type Path = readonly string[];

/** An issuer's claim rules with their paths split, built once by {@link compileClaimRules}. */
export interface ClaimRules {
  readonly values: readonly (readonly [path: string, at: Path, expected: string | number | boolean])[];
  readonly anonymous?: { readonly at: Path; readonly allow: boolean };
  readonly subject: Path;
  readonly tenant?: Path;
  readonly email?: Path;
  readonly session?: Path;
  readonly scopes?: Path;
  readonly roles?: Path;
}

/** The claim rules of an issuer, with every dotted path split in advance. */
export function compileClaimRules(spec: IssuerSpec): ClaimRules {
  const c = spec.claims;
  return {
    values: Object.entries(spec.requiredClaimValues).map(([path, expected]) => [path, path.split('.'), expected] as const),
    ...(spec.anonymous ? { anonymous: { at: spec.anonymous.claim.split('.'), allow: spec.anonymous.allow } } : {}),
    subject: c.subject.split('.'),
    ...(c.tenant ? { tenant: c.tenant.split('.') } : {}),
    ...(c.email ? { email: c.email.split('.') } : {}),
    ...(c.session ? { session: c.session.split('.') } : {}),
    ...(c.scopes ? { scopes: c.scopes.split('.') } : {}),
    ...(c.roles ? { roles: c.roles.split('.') } : {}),
  };
}

/**
 * The principal a verified token stands for, under its issuer's rules (`rules` compiled from `spec`). Refuses with
 * JWT_CLAIM_INVALID (a required value differs, or a subject, tenant, scope or role claim has the wrong shape),
 * JWT_ROLE_NOT_ALLOWED (a required `role` differs), JWT_ANONYMOUS_NOT_ALLOWED or JWT_CLAIM_MISSING (no subject).
 * An email or session claim of the wrong shape is left out rather than refused. The principal and its lists are
 * frozen.
 */
export function userPrincipal(spec: IssuerSpec, rules: ClaimRules, payload: JwtClaims): UserPrincipal {
  for (const [path, at, expected] of rules.values) {
    if (claimAt(payload, at) !== expected) {
      throw new AuthError(path === 'role' ? 'JWT_ROLE_NOT_ALLOWED' : 'JWT_CLAIM_INVALID', { issuer: spec.id, claim: path });
    }
  }
  if (rules.anonymous && claimAt(payload, rules.anonymous.at) === true && !rules.anonymous.allow) {
    throw new AuthError('JWT_ANONYMOUS_NOT_ALLOWED', { issuer: spec.id });
  }
  const subject = identifier(spec, payload, rules.subject);
  if (subject === undefined) throw new AuthError('JWT_CLAIM_MISSING', { issuer: spec.id, claim: spec.claims.subject });
  const tenantId = rules.tenant ? identifier(spec, payload, rules.tenant) : undefined;
  const email = rules.email ? identifier(spec, payload, rules.email, true) : undefined;
  const sessionId = rules.session ? identifier(spec, payload, rules.session, true) : undefined;
  const p: { -readonly [K in keyof UserPrincipal]: UserPrincipal[K] } = {
    kind: 'user',
    issuerId: spec.id,
    subject,
    scopes: list(spec, payload, rules.scopes),
    roles: list(spec, payload, rules.roles),
    tenantRequired: spec.tenantRequired,
  };
  if (tenantId !== undefined) p.tenantId = tenantId;
  if (email !== undefined) p.email = email;
  if (sessionId !== undefined) p.sessionId = sessionId;
  // Frozen: a cached principal is handed out again and again.
  Object.freeze(p.scopes);
  Object.freeze(p.roles);
  return Object.freeze(p);
}

/**
 * claims.ts `claimAt` over a path split in advance: own properties only, so `__proto__`, `constructor` and friends in
 * a payload are plain data and never reach the prototype chain.
 */
function claimAt(claims: unknown, path: Path): unknown {
  let cur: unknown = claims;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const name = path[i]!;
    if (!Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}

function identifier(spec: IssuerSpec, payload: JwtClaims, path: Path, optional = false): string | undefined {
  const v = claimAt(payload, path);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && IDENTIFIER_PATTERN.test(v)) return v;
  if (optional) return undefined;
  throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.join('.') });
}

function list(spec: IssuerSpec, payload: JwtClaims, path: Path | undefined): string[] {
  if (!path) return [];
  const v = stringList(claimAt(payload, path));
  if (v === null) throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.join('.') });
  return v ?? [];
}
