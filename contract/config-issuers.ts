import * as z from 'zod/mini';
import { claimRoot } from './claim-path';
import { claimName, claimPath, httpsUrl, matching, secretId, text } from './config-fields';
import { commonIssuerFields } from './issuer-fields';
import { type PresetIssuer, checkPreset, presetIssuers, presetSchemas } from './issuer-presets';

/**
 * The JWT issuers of the configuration: the presets (supabase, workos here; cognito, auth0, clerk, entra in
 * issuer-presets.ts) and any OIDC issuer, each with its own key source and pinned algorithms, chosen by exact `iss`.
 */

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
const ASYMMETRIC: ReadonlySet<JwtAlgorithm> = new Set(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);

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
  /**
   * The `iss` of the environment's access tokens. Defaults to https://api.workos.com/user_management/<clientId>;
   * set it when the tokens say otherwise (environments created before mid-2025 issue https://api.workos.com, and a
   * custom authentication domain issues its own URL): decode one of your tokens and copy its `iss`. A list accepts
   * each (for example both while an environment moves to its custom domain).
   */
  issuer: z.optional(z.union([httpsUrl, z.array(httpsUrl).check(z.minLength(1), z.maxLength(10))])),
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
  /**
   * Required unless `client` pins the app: without either, a token minted for another app of the same issuer would
   * pass. A string `aud` must be one of these; an array `aud` must contain one.
   */
  audience: z.optional(z.union([text(1), z.array(text(1)).check(z.minLength(1))])),
  /**
   * For issuers whose access tokens name the app in another claim than `aud` (`client_id`, `azp`, `cid`): that claim
   * must be a string equal to one of `allowed`.
   */
  client: z.optional(z.strictObject({ claim: claimPath, allowed: z.array(text(1)).check(z.minLength(1)) })),
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
  /** Claims that must hold exactly this value, e.g. `{ "token_use": "access" }` (keys are claim paths as strings). */
  requiredClaimValues: z._default(z.record(claimName, z.union([z.string(), z.boolean(), z.number()])), {}),
  ...commonIssuerFields,
});

export const issuerSchema = z.discriminatedUnion('type', [supabaseIssuer, workosIssuer, oidcIssuer, ...presetSchemas]);

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
      if (iss[field] !== undefined && claimRoot(iss[field]) === 'user_metadata') issue([field], 'user_metadata is editable by the user; use app_metadata');
    }
  }
  if (iss.revokedSessions && iss.type === 'oidc' && !iss.claims.session) {
    issue(['revokedSessions'], 'needs claims.session: the claim that holds the session id');
  }
  if (iss.type === 'cognito' || iss.type === 'auth0' || iss.type === 'clerk' || iss.type === 'entra') checkPreset(iss, issue);
  if (iss.type !== 'oidc') return;
  if (iss.audience === undefined && iss.client === undefined && !CLIENT_CLAIMS.some((c) => c in iss.requiredClaimValues)) {
    issue(['audience'], 'required unless `client` (or requiredClaimValues on client_id or azp) pins the app: without either, a token minted for another app would pass');
  }
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

/** Claims that name the app a token was minted for when `aud` does not (OAuth access tokens of some issuers). */
const CLIENT_CLAIMS = ['client_id', 'azp', 'cid', 'appid'];

/** The log id of an issuer and every exact `iss` it accepts (one, except an Entra issuer with several tenants). */
export function issuerIdentity(iss: IssuerConfig): { id: string; issuers: readonly string[] } {
  switch (iss.type) {
    case 'supabase':
      return { id: iss.id ?? 'supabase', issuers: [`${trimSlash(iss.url)}/auth/v1`] };
    case 'workos':
      return { id: iss.id ?? 'workos', issuers: typeof iss.issuer === 'string' ? [iss.issuer] : (iss.issuer ?? [`https://api.workos.com/user_management/${iss.clientId}`]) };
    case 'oidc':
      return { id: iss.id ?? 'oidc', issuers: [iss.issuer] };
    default:
      return { id: iss.id ?? iss.type, issuers: presetIssuers(iss satisfies PresetIssuer) };
  }
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export function isAsymmetric(alg: string): boolean {
  return ASYMMETRIC.has(alg as JwtAlgorithm);
}
