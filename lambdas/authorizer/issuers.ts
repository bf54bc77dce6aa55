import { type IssuerConfig, type JwtAlgorithm, issuerIdentity, trimSlash } from '../../contract/config';
import type { JwkSetDocument } from './jws';

/**
 * One trusted issuer with the presets resolved: its exact `iss`, its own key sources and pinned algorithms
 * (never shared with another issuer), and its rules for turning claims into a principal.
 */
export interface IssuerSpec {
  readonly id: string;
  readonly issuer: string;
  readonly algorithms: readonly JwtAlgorithm[];
  readonly keys: {
    readonly hs256SecretId?: string;
    readonly jwksUrl?: string;
    readonly jwks?: JwkSetDocument;
  };
  readonly audience?: string | string[];
  readonly clockToleranceSeconds: number;
  readonly maxTokenAgeSeconds: number;
  readonly requiredClaims: readonly string[];
  /** Claims that must equal a value exactly (Supabase: role = authenticated). A mismatch is JWT_ROLE_NOT_ALLOWED when the path is `role`. */
  readonly requiredClaimValues: Readonly<Record<string, string | number | boolean>>;
  readonly claims: {
    readonly subject: string;
    readonly tenant?: string;
    readonly scopes?: string;
    readonly roles?: string;
    readonly email?: string;
    readonly session?: string;
  };
  /** The claim that marks an anonymous user, and whether such users are accepted. */
  readonly anonymous?: { readonly claim: string; readonly allow: boolean };
  readonly tenantRequired: boolean;
  readonly secretCacheTtlSeconds: number;
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownSeconds: number;
  readonly jwksCacheMaxAgeSeconds: number;
  /** Check the session deny list (revoked-session items); a token without a session id is then refused. */
  readonly revokedSessions: boolean;
  readonly sessionCacheTtlSeconds: number;
}

export function resolveIssuer(iss: IssuerConfig): IssuerSpec {
  const { id, issuer } = issuerIdentity(iss);
  const common = {
    id,
    issuer,
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
        claims: { subject: 'sub', tenant: 'org_id', scopes: 'permissions', roles: 'role', email: 'email', session: 'sid' },
      };
    case 'oidc':
      return {
        ...common,
        algorithms: iss.algorithms,
        keys: 'jwksUrl' in iss.keys ? { jwksUrl: iss.keys.jwksUrl } : 'jwks' in iss.keys ? { jwks: iss.keys.jwks as JwkSetDocument } : { hs256SecretId: iss.keys.hs256SecretId },
        audience: iss.audience,
        // An access token without exp would be valid forever once maxTokenAgeSeconds is 0: exp is always required.
        requiredClaims: [...new Set(['sub', 'exp', ...iss.requiredClaims])],
        requiredClaimValues: iss.requiredClaimValues,
        claims: iss.claims,
      };
  }
}
