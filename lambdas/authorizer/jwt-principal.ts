/**
 * From a verified JWT's claims to a user principal, by the issuer's own rules: required claim values, the anonymous
 * rule, and where the subject, tenant, email, session, scopes and roles are found. The rules' claim paths are split
 * once per issuer ({@link compileClaimRules}), not on every token.
 */
import { type ClaimPath, claimAt, claimLabel, claimSegments } from '../../contract/claim-path';
import { IDENTIFIER_PATTERN } from '../../contract/patterns';
import { stringList } from './claims';
import { clerkOrganization } from './clerk-permissions';
import { AuthError } from './errors';
import type { IssuerSpec } from './issuers';

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

/** A claim path split once (contract/claim-path.ts), with its label for logs. */
interface Path {
  readonly at: readonly string[];
  readonly label: string;
}

/** An issuer's claim rules with their paths split, built once by {@link compileClaimRules}. */
export interface ClaimRules {
  readonly tokenType?: { readonly path: Path; readonly expected: string | number };
  readonly client?: { readonly path: Path; readonly allowed: readonly string[]; readonly optional: boolean };
  /** Required claims below the top level (top-level ones are the verifier's, in jose's order). */
  readonly present: readonly Path[];
  readonly values: readonly (readonly [path: Path, expected: string | number | boolean])[];
  readonly anonymous?: { readonly path: Path; readonly allow: boolean };
  readonly pending?: { readonly path: Path; readonly value: string; readonly allow: boolean };
  readonly subject: Path;
  readonly tenant?: Path;
  readonly email?: Path;
  readonly session?: Path;
  readonly scopes: readonly Path[];
  readonly roles: readonly Path[];
  readonly clerkOrganization: boolean;
}

const path = (p: ClaimPath): Path => ({ at: claimSegments(p), label: claimLabel(p) });
const optional = <K extends string>(key: K, p: ClaimPath | undefined) => (p === undefined ? {} : ({ [key]: path(p) } as { [k in K]: Path }));

/** The claim rules of an issuer, with every path split in advance. */
export function compileClaimRules(spec: IssuerSpec): ClaimRules {
  const c = spec.claims;
  return {
    ...(spec.tokenType ? { tokenType: { path: path(spec.tokenType.claim), expected: spec.tokenType.expected } } : {}),
    ...(spec.client ? { client: { path: path(spec.client.claim), allowed: spec.client.allowed, optional: spec.client.optional === true } } : {}),
    present: spec.requiredClaims.map(path).filter((p) => p.at.length > 1),
    values: Object.entries(spec.requiredClaimValues).map(([name, expected]) => [path(name), expected] as const),
    ...(spec.anonymous ? { anonymous: { path: path(spec.anonymous.claim), allow: spec.anonymous.allow } } : {}),
    ...(spec.pending ? { pending: { path: path(spec.pending.claim), value: spec.pending.value, allow: spec.pending.allow } } : {}),
    subject: path(c.subject),
    ...optional('tenant', c.tenant),
    ...optional('email', c.email),
    ...optional('session', c.session),
    scopes: [c.scopes, c.permissions].filter((p) => p !== undefined).map(path),
    roles: [c.roles, c.role].filter((p) => p !== undefined).map(path),
    clerkOrganization: spec.clerkOrganization === true,
  };
}

/**
 * The principal a verified token stands for, under its issuer's rules (`rules` compiled from `spec`), checked in
 * this order: the token's kind (JWT_TOKEN_TYPE_NOT_ALLOWED), the app it was minted for (JWT_CLIENT_NOT_ALLOWED),
 * nested required claims (JWT_CLAIM_MISSING), required values (JWT_ROLE_NOT_ALLOWED for `role`, else
 * JWT_CLAIM_INVALID), an anonymous user (JWT_ANONYMOUS_NOT_ALLOWED) or a pending session (JWT_SESSION_PENDING) where
 * not accepted; a marker claim of the wrong type is JWT_CLAIM_INVALID (fail closed: `"is_anonymous": "true"` is not
 * a signed-in user). Then the subject (JWT_CLAIM_MISSING if absent), tenant, scopes and roles (JWT_CLAIM_INVALID if
 * of the wrong shape). An email or session claim of the wrong shape is left out rather than refused. The principal
 * and its lists are frozen.
 */
export function userPrincipal(spec: IssuerSpec, rules: ClaimRules, payload: JwtClaims): UserPrincipal {
  checkKind(spec, rules, payload);
  const subject = identifier(spec, payload, rules.subject);
  if (subject === undefined) throw new AuthError('JWT_CLAIM_MISSING', { issuer: spec.id, claim: rules.subject.label });
  const tenantId = rules.tenant ? identifier(spec, payload, rules.tenant) : undefined;
  const email = rules.email ? identifier(spec, payload, rules.email, true) : undefined;
  const sessionId = rules.session ? identifier(spec, payload, rules.session, true) : undefined;
  const scopes = rules.scopes.flatMap((p) => list(spec, payload, p));
  const roles = rules.roles.flatMap((p) => list(spec, payload, p));
  if (rules.clerkOrganization) {
    const org = clerkOrganization(spec.id, payload);
    scopes.push(...org.scopes);
    roles.push(...org.roles);
  }
  const p: { -readonly [K in keyof UserPrincipal]: UserPrincipal[K] } = {
    kind: 'user',
    issuerId: spec.id,
    subject,
    // One source is one list as the token has it; several are merged without repeats.
    scopes: rules.scopes.length > 1 || rules.clerkOrganization ? [...new Set(scopes)] : scopes,
    roles: rules.roles.length > 1 || rules.clerkOrganization ? [...new Set(roles)] : roles,
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

/** Everything about a token's claims that refuses it before the principal is read. */
function checkKind(spec: IssuerSpec, rules: ClaimRules, payload: JwtClaims): void {
  const detail = (p: Path) => ({ issuer: spec.id, claim: p.label });
  if (rules.tokenType && claimAt(payload, rules.tokenType.path.at) !== rules.tokenType.expected) {
    throw new AuthError('JWT_TOKEN_TYPE_NOT_ALLOWED', detail(rules.tokenType.path));
  }
  if (rules.client) {
    const app = claimAt(payload, rules.client.path.at);
    const absentAllowed = app === undefined && rules.client.optional;
    if (!absentAllowed && (typeof app !== 'string' || !rules.client.allowed.includes(app))) throw new AuthError('JWT_CLIENT_NOT_ALLOWED', detail(rules.client.path));
  }
  for (const p of rules.present) {
    if (claimAt(payload, p.at) === undefined) throw new AuthError('JWT_CLAIM_MISSING', detail(p));
  }
  for (const [p, expected] of rules.values) {
    if (claimAt(payload, p.at) !== expected) throw new AuthError(p.label === 'role' ? 'JWT_ROLE_NOT_ALLOWED' : 'JWT_CLAIM_INVALID', detail(p));
  }
  if (rules.anonymous) {
    const anonymous = claimAt(payload, rules.anonymous.path.at);
    if (anonymous !== undefined && typeof anonymous !== 'boolean') throw new AuthError('JWT_CLAIM_INVALID', detail(rules.anonymous.path));
    if (anonymous === true && !rules.anonymous.allow) throw new AuthError('JWT_ANONYMOUS_NOT_ALLOWED', { issuer: spec.id });
  }
  if (rules.pending) {
    const status = claimAt(payload, rules.pending.path.at);
    if (status !== undefined && typeof status !== 'string') throw new AuthError('JWT_CLAIM_INVALID', detail(rules.pending.path));
    if (status === rules.pending.value && !rules.pending.allow) throw new AuthError('JWT_SESSION_PENDING', { issuer: spec.id });
  }
}

function identifier(spec: IssuerSpec, payload: JwtClaims, path: Path, optional = false): string | undefined {
  const v = claimAt(payload, path.at);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && IDENTIFIER_PATTERN.test(v)) return v;
  if (optional) return undefined;
  throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.label });
}

function list(spec: IssuerSpec, payload: JwtClaims, path: Path): string[] {
  const v = stringList(claimAt(payload, path.at));
  if (v === null) throw new AuthError('JWT_CLAIM_INVALID', { issuer: spec.id, claim: path.label });
  return v ?? [];
}
