import * as z from 'zod/mini';
import { claimPath, httpsUrl, int, matching, seconds, secretId, text } from './config-fields';
import { ISSUER_ID_PATTERN } from './patterns';

/**
 * The JWT issuers of the configuration: the presets (supabase, workos) and any OIDC issuer, each with its own key
 * source and pinned algorithms, chosen by exact `iss`.
 */

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
const ASYMMETRIC: ReadonlySet<JwtAlgorithm> = new Set(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);

const jwksOptions = {
  /** Abort a JWKS fetch after this long; the request fails closed (500) rather than waiting. */
  jwksTimeoutMs: z._default(int(100, 10_000), 1500),
  /** At most one refetch per this many seconds, however many unknown `kid`s arrive. */
  jwksCooldownSeconds: z._default(seconds(3600), 30),
  /** Refetch the JWKS when the cached copy is older than this, even if every `kid` is known. */
  jwksCacheMaxAgeSeconds: z._default(seconds(86_400), 600),
};

const commonIssuerFields = {
  /** A short name for logs and the `issuer` context value; defaults to the issuer type. */
  id: z.optional(matching(ISSUER_ID_PATTERN)),
  clockToleranceSeconds: z._default(seconds(300), 30),
  /** Maximum age from `iat`; `iat` becomes required. 0 turns the check off. */
  maxTokenAgeSeconds: z._default(seconds(30 * 86_400), 86_400),
  /** A user whose token names no tenant is refused (403) unless this is false. */
  tenantRequired: z._default(z.boolean(), true),
  /** Seconds an HS256 secret read from Secrets Manager is used before it is read again. */
  secretCacheTtlSeconds: z._default(seconds(86_400), 300),
  /**
   * Session deny list: refuse (401) a token whose session id has a revoked-session item in the table (Supabase
   * access tokens stay valid after sign-out until `exp`; this ends them early). A token without a session id is
   * then refused too (fail closed). Supabase maps `session_id`, WorkOS `sid`; an oidc issuer needs `claims.session`.
   */
  revokedSessions: z._default(z.boolean(), false),
  /** How long one deny-list answer (revoked or not) is reused per session id. */
  sessionCacheTtlSeconds: z._default(seconds(3600), 30),
  ...jwksOptions,
};

const supabaseIssuer = z.strictObject({
  type: z.literal('supabase'),
  /** The project URL, e.g. https://abcd.supabase.co; `iss` is `<url>/auth/v1`. */
  url: httpsUrl,
  /** Secrets Manager id of the legacy HS256 JWT secret. */
  hs256SecretId: z.optional(secretId),
  /** Verify asymmetric signing keys from `<url>/auth/v1/.well-known/jwks.json` (default true). */
  jwks: z._default(z.boolean(), true),
  /** Accept users who signed in anonymously (`is_anonymous: true`). */
  allowAnonymous: z._default(z.boolean(), false),
  /** Where the tenant id is. Must be under app_metadata: users can edit user_metadata themselves. */
  tenantClaim: z._default(claimPath, 'app_metadata.tenant_id'),
  scopesClaim: z.optional(claimPath),
  rolesClaim: z._default(claimPath, 'app_metadata.roles'),
  audience: z._default(text(1), 'authenticated'),
  ...commonIssuerFields,
});

const workosIssuer = z.strictObject({
  type: z.literal('workos'),
  clientId: matching(/^[A-Za-z0-9_]{1,128}$/),
  /** Defaults to https://api.workos.com/user_management/<clientId>. */
  issuer: z.optional(httpsUrl),
  /** Defaults to https://api.workos.com/sso/jwks/<clientId>. */
  jwksUrl: z.optional(httpsUrl),
  /** WorkOS access tokens may carry no `aud`; set this to require one. */
  audience: z.optional(text(1)),
  ...commonIssuerFields,
});

const oidcKeys = z.union([
  z.strictObject({ jwksUrl: httpsUrl }),
  z.strictObject({ jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).check(z.minLength(1)) }) }),
  z.strictObject({ hs256SecretId: secretId }),
]);

const oidcIssuer = z.strictObject({
  type: z.literal('oidc'),
  issuer: text(1, 512),
  keys: oidcKeys,
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).check(z.minLength(1)),
  /** Required for generic issuers: without an audience check, a token minted for another app would pass. */
  audience: z.union([text(1), z.array(text(1)).check(z.minLength(1))]),
  claims: z._default(
    z.strictObject({
      subject: z._default(claimPath, 'sub'),
      tenant: z.optional(claimPath),
      scopes: z.optional(claimPath),
      roles: z.optional(claimPath),
      email: z.optional(claimPath),
      session: z.optional(claimPath),
    }),
    { subject: 'sub' },
  ),
  requiredClaims: z._default(z.array(claimPath), []),
  /** Claims that must hold exactly this value, e.g. `{ "token_use": "access" }`. */
  requiredClaimValues: z._default(z.record(claimPath, z.union([z.string(), z.boolean(), z.number()])), {}),
  ...commonIssuerFields,
});

export const issuerSchema = z.discriminatedUnion('type', [supabaseIssuer, workosIssuer, oidcIssuer]);

export type IssuerConfig = z.output<typeof issuerSchema>;

/**
 * The rules of one issuer that its schema cannot say, reported at paths relative to the issuer. (Rules that need
 * the rest of the document, such as the table for revoked sessions, are the document's.)
 */
export function checkIssuer(iss: IssuerConfig, issue: (path: (string | number)[], message: string) => void): void {
  if (iss.type === 'supabase') {
    if (!iss.hs256SecretId && !iss.jwks) issue([], 'a supabase issuer needs hs256SecretId, jwks, or both');
    // Users can edit their own user_metadata: nothing that decides access may come from there.
    for (const field of ['tenantClaim', 'scopesClaim', 'rolesClaim'] as const) {
      if (iss[field]?.split('.')[0] === 'user_metadata') issue([field], 'user_metadata is editable by the user; use app_metadata');
    }
  }
  if (iss.revokedSessions && iss.type === 'oidc' && !iss.claims.session) {
    issue(['revokedSessions'], 'needs claims.session: the claim that holds the session id');
  }
  if (iss.type !== 'oidc') return;
  const hasHs = iss.algorithms.includes('HS256');
  const hasAsym = iss.algorithms.some((a) => ASYMMETRIC.has(a));
  if ('hs256SecretId' in iss.keys ? hasAsym : hasHs) {
    issue(['algorithms'], 'HS256 goes with hs256SecretId only, asymmetric algorithms with a JWKS only');
  }
  if ('jwks' in iss.keys) {
    iss.keys.jwks.keys.forEach((k, j) => {
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
        if (m in k) issue(['keys', 'jwks', 'keys', j, m], 'private or symmetric key material in a static JWKS');
      }
    });
  }
}

/** The exact `iss` and log id of an issuer, with the presets' defaults applied. */
export function issuerIdentity(iss: IssuerConfig): { id: string; issuer: string } {
  switch (iss.type) {
    case 'supabase':
      return { id: iss.id ?? 'supabase', issuer: `${trimSlash(iss.url)}/auth/v1` };
    case 'workos':
      return { id: iss.id ?? 'workos', issuer: iss.issuer ?? `https://api.workos.com/user_management/${iss.clientId}` };
    case 'oidc':
      return { id: iss.id ?? 'oidc', issuer: iss.issuer };
  }
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export function isAsymmetric(alg: string): boolean {
  return ASYMMETRIC.has(alg as JwtAlgorithm);
}
