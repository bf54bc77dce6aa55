/**
 * The hosted presets' token shapes (contract/issuer-presets.ts), each as its provider documents it, with the page:
 * what a real token of that provider carries, and the tenant, scopes and roles where the preset reads them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Auth0Issuer, ClerkIssuer, CognitoIssuer, EntraIssuer } from '../../contract/issuer-presets';
import { presetIssuers } from '../../contract/issuer-presets';
import { UsageError } from '../target';
import { type Claims, type DevToken, type DevTokenRequest, alnum, first, optionalClaim, setClaim } from './request';

/**
 * Amazon Cognito user pool tokens, as the "default payload" examples show them: access tokens
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html)
 * name the app client in `client_id`, have no `aud`, and carry `scope` (space-separated) and `username`; id tokens
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html) name
 * it in `aud` and carry `cognito:username` and `email`, and no scopes. `cognito:groups` is always an array;
 * `origin_jti` is shared by every token of one sign-in. The tenant goes where the issuer reads it (`custom:tenant_id`
 * by default: a custom attribute in id tokens, as a string; in access tokens a pre token generation trigger adds it).
 * `iss` is the original cognito-idp form (https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html).
 */
export function cognitoClaims(iss: CognitoIssuer, r: DevTokenRequest): DevToken {
  const use = r.tokenUse ?? iss.tokenUse;
  const clientId = r.clientId ?? iss.clientIds[0]!;
  const originJti = randomUUID();
  const claims: Claims = {
    sub: r.sub,
    iss: presetIssuers(iss)[0],
    origin_jti: originJti,
    event_id: randomUUID(),
    token_use: use,
    auth_time: r.now,
    exp: r.now + r.ttlSeconds,
    iat: r.now,
    jti: randomUUID(),
  };
  if (use === 'access') {
    // `version: 2` is in the documented example, undescribed; tokens from the token endpoint always have a scope.
    Object.assign(claims, { version: 2, client_id: clientId, scope: r.scopes.length ? r.scopes.join(' ') : 'openid', username: r.sub });
  } else {
    if (r.scopes.length) throw new UsageError('--scope: Cognito id tokens carry no scopes (the issuer reads scopes from access tokens only)');
    Object.assign(claims, { aud: clientId, 'cognito:username': r.sub, email: `${r.sub}@example.com`, email_verified: true });
  }
  if (r.roles.length) setClaim(claims, iss.rolesClaim, [...r.roles]);
  optionalClaim(claims, iss.tenantClaim, r.tenant, '--tenant');
  const notes = use !== iss.tokenUse ? [`--token-use ${use}: this issuer accepts ${iss.tokenUse} tokens only, so it refuses this one`] : [];
  return { claims, sessionId: originJti, notes };
}

/**
 * An Auth0 access token for a custom API, Auth0 profile
 * (https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles and the Organizations example at
 * https://auth0.com/docs/manage-users/organizations/using-tokens): `iss` https://<domain>/ with its slash, `aud` the
 * API identifier with the /userinfo audience beside it, `azp` the application, `scope` a string, `permissions` the
 * same as an array (RBAC with "Add Permissions in the Access Token"), `org_id` the Organization. Roles only where an
 * Action puts them (the issuer's rolesClaim, namespaced:
 * https://auth0.com/docs/manage-users/access-control/sample-use-cases-actions-with-authorization).
 */
export function auth0Claims(iss: Auth0Issuer, r: DevTokenRequest): DevToken {
  const claims: Claims = {
    iss: presetIssuers(iss)[0],
    sub: r.sub,
    aud: [r.audience ?? first(iss.audience)!, `https://${iss.domain}/userinfo`],
    iat: r.now,
    exp: r.now + r.ttlSeconds,
    azp: r.azp ?? alnum(32),
    scope: ['openid', 'profile', 'email', ...r.scopes].join(' '),
    permissions: [...r.scopes],
  };
  optionalClaim(claims, iss.tenantClaim, r.tenant, '--tenant');
  if (r.roles.length) {
    if (iss.rolesClaim === undefined) throw new UsageError('--role: this Auth0 issuer reads no roles (set rolesClaim to the claim your Action adds)');
    setClaim(claims, iss.rolesClaim, [...r.roles]);
  }
  // Auth0's access tokens carry no session id in the documented examples; `sid` only where sessions are revoked.
  const sessionId = iss.revokedSessions ? alnum(32) : undefined;
  if (sessionId !== undefined) claims.sid = sessionId;
  return { claims, typ: 'JWT', ...(sessionId !== undefined ? { sessionId } : {}), notes: [] };
}

/**
 * A Clerk session token, version 2 (https://clerk.com/docs/guides/sessions/session-tokens): `azp` the origin it was
 * made for, `sid`, `v: 2`, `fva`, `jti`, and the active organization under `o` (`id`, `slg`, `rol` without its
 * `org:` prefix). Permissions are encoded as the page's "Decode o.fpm manually" says: `fea` lists the features
 * (`o:<feature>`), `o.per` the permission names, and `o.fpm` one integer per feature whose bits (least significant
 * first) pick that feature's permissions. `--scope customers:read` (or `org:customers:read`) is feature `customers`,
 * permission `read`; the authorizer reads it back as `org:customers:read`, Clerk's permission key.
 */
export function clerkClaims(iss: ClerkIssuer, r: DevTokenRequest): DevToken {
  const sid = `sess_${alnum(27)}`;
  const claims: Claims = {
    azp: r.azp ?? iss.authorizedParties[0],
    exp: r.now + r.ttlSeconds,
    fva: [0, -1],
    iat: r.now,
    iss: presetIssuers(iss)[0],
    jti: alnum(20),
    nbf: r.now - 10,
    sid,
    sub: r.sub,
    v: 2,
  };
  const notes: string[] = [];
  if (r.tenant === undefined) {
    if (r.scopes.length || r.roles.length) throw new UsageError('--scope, --role: a Clerk token has permissions and a role only in its active organization; pass --tenant');
    return { claims, typ: 'JWT', sessionId: sid, notes };
  }
  if (r.roles.length > 1) throw new UsageError('--role: a Clerk session has one role in its organization (o.rol)');
  const org: Claims = { id: r.tenant, slg: r.tenant, rol: (r.roles[0] ?? 'member').replace(/^org:/, '') };
  if (r.scopes.length) {
    const { fea, per, fpm } = clerkPermissions(r.scopes);
    Object.assign(org, { per, fpm });
    claims.fea = fea;
    if (r.scopes.some((s) => !s.startsWith('org:'))) notes.push(`Clerk permissions are read as org:<feature>:<permission>: this token grants ${r.scopes.map((s) => (s.startsWith('org:') ? s : `org:${s}`)).join(' ')}`);
  }
  claims.o = org;
  return { claims, typ: 'JWT', sessionId: sid, notes };
}

/** `fea`, `o.per` and `o.fpm` granting `scopes` (each `[org:]<feature>:<permission>`). */
function clerkPermissions(scopes: readonly string[]): { fea: string; per: string; fpm: string } {
  const features: string[] = [];
  const permissions: string[] = [];
  const grants: [feature: number, permission: number][] = [];
  for (const scope of scopes) {
    const m = /^(?:org:)?([^:,]+):([^:,]+)$/.exec(scope);
    if (!m) throw new UsageError(`--scope: a Clerk permission is <feature>:<permission> (or org:<feature>:<permission>), not ${scope}`);
    const at = (list: string[], v: string) => (list.includes(v) ? list.indexOf(v) : list.push(v) - 1);
    grants.push([at(features, m[1]!), at(permissions, m[2]!)]);
  }
  const masks = features.map((_, f) => grants.filter(([g]) => g === f).reduce((mask, [, p]) => mask | (1n << BigInt(p)), 0n));
  return { fea: features.map((f) => `o:${f}`).join(','), per: permissions.join(','), fpm: masks.join(',') };
}

/**
 * A Microsoft Entra ID v2.0 access token, as decoded from the sample on
 * https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens with the claims of
 * https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference: `iss`
 * <authority>/<tid>/v2.0, `ver` "2.0", `aud` the API's client id, `azp` the calling app, `tid` the directory,
 * `oid` the user's object id, `sub` a per-app pairwise id, `scp` the delegated scopes (space-separated), `roles` the
 * app roles, `uti`. The tenant is the directory, so it must be one the issuer lists: `iss` is per directory.
 */
export function entraClaims(iss: EntraIssuer, r: DevTokenRequest): DevToken {
  const tid = r.tenant ?? iss.tenants[0]!;
  if (!iss.tenants.includes(tid)) {
    throw new UsageError(`--tenant: an Entra token's tenant is its directory (tid), whose iss must be configured: ${tid} is not one of ${iss.tenants.join(', ')}`);
  }
  const aud = r.audience ?? first(iss.audience)!;
  // The user's object id and the app-specific `sub`: `--sub` is whichever the issuer identifies users by.
  const oid = iss.subjectClaim === 'oid' ? r.sub : guidOf(r.sub);
  const sub = iss.subjectClaim === 'sub' ? r.sub : createHash('sha256').update(`${aud}|${r.sub}`).digest('base64url').slice(0, 43);
  const claims: Claims = {
    aud,
    iss: presetIssuers(iss)[iss.tenants.indexOf(tid)],
    iat: r.now,
    nbf: r.now,
    exp: r.now + r.ttlSeconds,
    azp: r.azp ?? randomUUID(),
    azpacr: '0',
    oid,
    sub,
    tid,
    uti: randomBytes(16).toString('base64url').slice(0, 22),
    ver: '2.0',
    ...(r.scopes.length ? { scp: r.scopes.join(' ') } : {}),
    ...(r.roles.length ? { roles: [...r.roles] } : {}),
  };
  // `sid` is an optional claim in Entra access tokens; only where sessions are revoked.
  const sessionId = iss.revokedSessions ? randomUUID() : undefined;
  if (sessionId !== undefined) claims.sid = sessionId;
  return { claims, typ: 'JWT', ...(sessionId !== undefined ? { sessionId } : {}), notes: [] };
}

/** A stable GUID-shaped id derived from a string (a made-up object id for a user named by `sub`). */
function guidOf(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
