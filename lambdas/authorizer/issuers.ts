import { type IssuerConfig, type JwtAlgorithm, issuerIdentity, trimSlash } from '../../contract/config';
import { resolvePreset } from './issuer-presets';
import type { CommonSettings, IssuerSpec } from './issuer-spec';
import type { JwkSetDocument } from './jws';

export type { CommonSettings, IssuerSpec } from './issuer-spec';

/** The issuer specs of one configured issuer: one per `iss` it accepts (an Entra issuer has one per tenant). */
export function resolveIssuers(iss: IssuerConfig): IssuerSpec[] {
  const { id, issuers } = issuerIdentity(iss);
  return issuers.map((issuer) => resolveIssuer(iss, { id, issuer, ...commonSettings(iss) }));
}

function commonSettings(iss: IssuerConfig): Omit<CommonSettings, 'id' | 'issuer'> {
  return {
    clockToleranceSeconds: iss.clockToleranceSeconds,
    maxTokenAgeSeconds: iss.maxTokenAgeSeconds,
    tenantRequired: iss.tenantRequired,
    secretCacheTtlSeconds: iss.secretCacheTtlSeconds,
    jwksTimeoutMs: iss.jwksTimeoutMs,
    jwksCooldownSeconds: iss.jwksCooldownSeconds,
    jwksCacheMaxAgeSeconds: iss.jwksCacheMaxAgeSeconds,
    revokedSessions: iss.revokedSessions,
    sessionCacheTtlSeconds: iss.sessionCacheTtlSeconds,
  };
}

function resolveIssuer(iss: IssuerConfig, common: CommonSettings): IssuerSpec {
  switch (iss.type) {
    case 'supabase': {
      // Supabase signs user sessions with the legacy HS256 secret or, after the migration to signing keys,
      // with ES256 (default) or RS256 keys published at the JWKS URL; both may be live at once.
      const algorithms: JwtAlgorithm[] = [];
      if (iss.hs256SecretId) algorithms.push('HS256');
      if (iss.jwks) algorithms.push('ES256', 'RS256');
      return {
        ...common,
        algorithms,
        keys: {
          ...(iss.hs256SecretId ? { hs256SecretId: iss.hs256SecretId } : {}),
          ...(iss.jwks ? { jwksUrl: `${trimSlash(iss.url)}/auth/v1/.well-known/jwks.json` } : {}),
        },
        audience: iss.audience,
        // Supabase access tokens always carry exp: one without it would never expire when the age cap is off.
        requiredClaims: ['sub', 'role', 'exp'],
        // The anon key and the service_role key are HS256 JWTs signed with the same secret: `role` tells them
        // apart from a signed-in user's session.
        requiredClaimValues: { role: 'authenticated' },
        claims: {
          subject: 'sub',
          tenant: iss.tenantClaim,
          ...(iss.scopesClaim ? { scopes: iss.scopesClaim } : {}),
          roles: iss.rolesClaim,
          email: 'email',
          session: 'session_id',
        },
        anonymous: { claim: 'is_anonymous', allow: iss.allowAnonymous },
      };
    }
    case 'workos':
      return {
        ...common,
        algorithms: ['RS256'],
        keys: { jwksUrl: iss.jwksUrl ?? `https://api.workos.com/sso/jwks/${iss.clientId}` },
        ...(iss.audience ? { audience: iss.audience } : {}),
        requiredClaims: ['sub', 'exp'],
        requiredClaimValues: {},
        // https://workos.com/docs/reference/authkit/session-tokens: `role` (one), and `roles` in newer tokens.
        claims: { subject: 'sub', tenant: 'org_id', scopes: 'permissions', roles: 'roles', role: 'role', email: 'email', session: 'sid' },
      };
    default:
      return resolvePreset(iss, common);
    case 'oidc':
      return {
        ...common,
        algorithms: iss.algorithms,
        keys: 'jwksUrl' in iss.keys ? { jwksUrl: iss.keys.jwksUrl } : 'jwks' in iss.keys ? { jwks: iss.keys.jwks as JwkSetDocument } : { hs256SecretId: iss.keys.hs256SecretId },
        ...(iss.audience !== undefined ? { audience: iss.audience } : {}),
        ...(iss.client !== undefined ? { client: iss.client } : {}),
        // An access token without exp would be valid forever once maxTokenAgeSeconds is 0: exp is always required.
        requiredClaims: [...new Set(['sub', 'exp', ...iss.requiredClaims])],
        requiredClaimValues: iss.requiredClaimValues,
        claims: iss.claims,
      };
  }
}
