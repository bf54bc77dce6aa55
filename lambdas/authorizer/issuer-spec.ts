import type { ClaimPath } from '../../contract/claim-path';
import type { JwtAlgorithm } from '../../contract/config';
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
  /** Claims that must be present (contract/claim-path.ts paths). */
  readonly requiredClaims: readonly ClaimPath[];
  /**
   * Claims that must equal a value exactly (Supabase: role = authenticated); keys are claim paths as strings. A
   * mismatch is JWT_ROLE_NOT_ALLOWED when the path is `role`.
   */
  readonly requiredClaimValues: Readonly<Record<string, string | number | boolean>>;
  readonly claims: {
    readonly subject: ClaimPath;
    readonly tenant?: ClaimPath;
    readonly scopes?: ClaimPath;
    /** A second list of scopes, merged with `scopes` (Auth0 and WorkOS `permissions`). */
    readonly permissions?: ClaimPath;
    readonly roles?: ClaimPath;
    /** A single role, merged with `roles` (WorkOS `role` beside `roles`). */
    readonly role?: ClaimPath;
    readonly email?: ClaimPath;
    readonly session?: ClaimPath;
  };
  /**
   * The claim that says which kind of token this is and the one kind accepted (Cognito `token_use`, Entra `ver`,
   * Clerk `v`): another kind is JWT_TOKEN_TYPE_NOT_ALLOWED, checked before anything else about the claims.
   */
  readonly tokenType?: { readonly claim: ClaimPath; readonly expected: string | number };
  /**
   * The claim that names the app a token was minted for, and the apps accepted: else JWT_CLIENT_NOT_ALLOWED. With
   * `optional`, a token without the claim passes (Clerk leaves `azp` out when the request had no Origin).
   */
  readonly client?: { readonly claim: ClaimPath; readonly allowed: readonly string[]; readonly optional?: boolean };
  /** The claim and value that mark a session with tasks pending (Clerk `sts`), and whether such sessions pass. */
  readonly pending?: { readonly claim: ClaimPath; readonly value: string; readonly allow: boolean };
  /** Clerk v2's active organization (clerk-permissions.ts): role `org:<o.rol>`, scopes `org:<feature>:<permission>`. */
  readonly clerkOrganization?: boolean;
  /** The `iss` of this provider's tokens of a kind not accepted (Entra v1.0): JWT_TOKEN_TYPE_NOT_ALLOWED, not unknown. */
  readonly otherKindIssuers?: readonly string[];
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

/** The settings every issuer type carries over as they are. */
export type CommonSettings = Pick<
  IssuerSpec,
  | 'id'
  | 'issuer'
  | 'clockToleranceSeconds'
  | 'maxTokenAgeSeconds'
  | 'tenantRequired'
  | 'secretCacheTtlSeconds'
  | 'jwksTimeoutMs'
  | 'jwksCooldownSeconds'
  | 'jwksCacheMaxAgeSeconds'
  | 'revokedSessions'
  | 'sessionCacheTtlSeconds'
>;

