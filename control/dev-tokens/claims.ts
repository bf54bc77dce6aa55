/**
 * Development tokens in each identity provider's documented shape: the one place that says which claims a Cognito,
 * Auth0, Clerk, Entra, WorkOS or generic OIDC token carries and where the tenant, scopes and roles go, so that the
 * configured issuer's own rules (lambdas/authorizer/issuer-presets.ts, issuers.ts) read them as from the provider.
 * Used by `gatehouse --local tokens mint --issuer <id>` and by local mode's printed examples. The hosted presets'
 * shapes are in hosted-claims.ts, each with the provider's documentation page; this file has the request, WorkOS,
 * generic OIDC and the helpers.
 */
import { randomUUID } from 'node:crypto';
import { claimAt, claimLabel, claimSegments } from '../../contract/claim-path';
import { type IssuerConfig, issuerIdentity } from '../../contract/config';
import { UsageError } from '../target';
import { auth0Claims, clerkClaims, cognitoClaims, entraClaims } from './hosted-claims';
import { type Claims, type DevToken, type DevTokenRequest, first, optionalClaim, setClaim, ulid } from './request';

export type { Claims, DevToken, DevTokenRequest } from './request';

/** Which of the request's choices each issuer type takes; any other is refused rather than silently ignored. */
const CHOICES: Readonly<Record<IssuerConfig['type'], readonly (keyof DevTokenRequest)[]>> = {
  cognito: ['tokenUse', 'clientId'],
  auth0: ['audience', 'azp'],
  clerk: ['azp'],
  entra: ['audience', 'azp'],
  workos: ['clientId', 'audience'],
  oidc: ['clientId', 'audience'],
  supabase: [],
};
const FLAGS: Readonly<Record<string, string>> = { tokenUse: '--token-use', clientId: '--client-id', audience: '--audience', azp: '--azp' };

/** The claims of a token of `iss` saying what `r` asks, in that issuer type's documented shape. */
export function devTokenClaims(iss: IssuerConfig, r: DevTokenRequest): DevToken {
  for (const [choice, flag] of Object.entries(FLAGS)) {
    if (r[choice as keyof DevTokenRequest] !== undefined && !CHOICES[iss.type].includes(choice as keyof DevTokenRequest)) {
      throw new UsageError(`${flag}: not a choice of ${iss.type} tokens (${iss.type} takes ${CHOICES[iss.type].map((c) => FLAGS[c]).join(', ') || 'none'})`);
    }
  }
  switch (iss.type) {
    case 'cognito':
      return cognitoClaims(iss, r);
    case 'auth0':
      return auth0Claims(iss, r);
    case 'clerk':
      return clerkClaims(iss, r);
    case 'entra':
      return entraClaims(iss, r);
    case 'workos':
      return workosClaims(iss, r);
    case 'oidc':
      return oidcClaims(iss, r);
    case 'supabase':
      return supabaseClaims(iss, r);
  }
}

/**
 * A WorkOS AuthKit access token (https://workos.com/docs/reference/authkit/session-tokens, "Access Token JWT", and
 * https://workos.com/docs/authkit/sessions): `sub` the user, `org_id` the organization selected at sign-in, `role`
 * (one) and `roles`, `permissions` the role's permissions, `sid` the session, `jti`; no `aud` unless a JWT template
 * adds one. `iss` is the configured one, else the per-client https://api.workos.com/user_management/<client id>
 * (https://workos.com/docs/integrations/supabase-authkit): `--client-id` mints for another client, whose `iss` this
 * issuer does not accept.
 */
function workosClaims(iss: Extract<IssuerConfig, { type: 'workos' }>, r: DevTokenRequest): DevToken {
  const notes: string[] = [];
  if (r.clientId !== undefined && iss.issuer !== undefined) notes.push(`--client-id: the issuer's iss is configured (${issuerIdentity(iss).issuers[0]}); the client id does not change it`);
  const sid = `session_${ulid(r.now)}`;
  const audience = r.audience ?? iss.audience;
  const claims: Claims = {
    iss: issuerIdentity({ ...iss, clientId: r.clientId ?? iss.clientId }).issuers[0],
    sub: r.sub,
    ...(r.tenant !== undefined ? { org_id: r.tenant } : {}),
    ...(r.roles.length ? { role: r.roles[0], roles: [...r.roles] } : {}),
    permissions: [...r.scopes],
    sid,
    jti: ulid(r.now),
    ...(audience !== undefined ? { aud: audience } : {}),
    exp: r.now + r.ttlSeconds,
    iat: r.now,
  };
  return { claims, typ: 'JWT', sessionId: sid, notes };
}

/**
 * A token of a generic OIDC issuer, built from its configuration alone: the subject, tenant, scopes (a
 * space-separated string in a `scope` or `scp` claim, as OAuth writes it; else an array), roles and session where
 * `claims` says, `aud` and the client claim from the first configured value, and every requiredClaimValues entry.
 */
function oidcClaims(iss: Extract<IssuerConfig, { type: 'oidc' }>, r: DevTokenRequest): DevToken {
  const claims: Claims = { iss: iss.issuer, sub: r.sub, iat: r.now, exp: r.now + r.ttlSeconds, jti: randomUUID() };
  const c = iss.claims;
  setClaim(claims, c.subject, r.sub);
  const audience = r.audience ?? first(iss.audience);
  if (audience !== undefined) claims.aud = audience;
  if (iss.client) setClaim(claims, iss.client.claim, r.clientId ?? iss.client.allowed[0]);
  else if (r.clientId !== undefined) throw new UsageError('--client-id: this issuer names no client claim (client)');
  for (const [name, value] of Object.entries(iss.requiredClaimValues)) setClaim(claims, name, value);
  optionalClaim(claims, c.tenant, r.tenant, '--tenant');
  if (r.scopes.length) {
    const last = c.scopes === undefined ? undefined : claimSegments(c.scopes).at(-1);
    optionalClaim(claims, c.scopes, last === 'scope' || last === 'scp' ? r.scopes.join(' ') : [...r.scopes], '--scope');
  }
  if (r.roles.length) optionalClaim(claims, c.roles, [...r.roles], '--role');
  const sessionId = c.session !== undefined ? randomUUID() : undefined;
  if (sessionId !== undefined) setClaim(claims, c.session!, sessionId);
  const missing = iss.requiredClaims.filter((p) => claimAt(claims, claimSegments(p)) === undefined);
  if (missing.length) throw new UsageError(`--issuer: the issuer requires ${missing.map(claimLabel).join(', ')}, which tokens mint cannot make up`);
  return { claims, typ: 'JWT', ...(sessionId !== undefined ? { sessionId } : {}), notes: [] };
}


/**
 * A Supabase Auth access token (https://supabase.com/docs/guides/auth/jwt-fields): `iss` `<project url>/auth/v1`,
 * `aud` `authenticated`, `role`, `email`, `session_id`, `is_anonymous`, and what the project's auth hook writes
 * under `app_metadata` (which users cannot edit): the tenant, scopes and roles where the issuer reads them.
 */
function supabaseClaims(iss: Extract<IssuerConfig, { type: 'supabase' }>, r: DevTokenRequest): DevToken {
  const sessionId = randomUUID();
  const claims: Claims = {
    iss: issuerIdentity(iss).issuers[0],
    sub: r.sub,
    aud: iss.audience,
    role: 'authenticated',
    email: `${r.sub}@example.com`,
    session_id: sessionId,
    is_anonymous: false,
    app_metadata: {},
    user_metadata: {},
    iat: r.now,
    exp: r.now + r.ttlSeconds,
  };
  optionalClaim(claims, iss.tenantClaim, r.tenant, '--tenant');
  if (r.scopes.length) optionalClaim(claims, iss.scopesClaim, [...r.scopes], '--scope');
  if (r.roles.length) optionalClaim(claims, iss.rolesClaim, [...r.roles], '--role');
  return { claims, typ: 'JWT', sessionId, notes: [] };
}
