import * as z from 'zod/mini';
import { int, matching, seconds } from './config-fields';
import { ISSUER_ID_PATTERN } from './patterns';

/** The fields every issuer of the configuration has, whatever its type (contract/config-issuers.ts). */

export const jwksOptions = {
  /** Abort a JWKS fetch after this long; the request fails closed (500) rather than waiting. */
  jwksTimeoutMs: z._default(int(100, 10_000), 1500),
  /** At most one refetch per this many seconds, however many unknown `kid`s arrive. */
  jwksCooldownSeconds: z._default(seconds(3600), 30),
  /** Refetch the JWKS when the cached copy is older than this, even if every `kid` is known. */
  jwksCacheMaxAgeSeconds: z._default(seconds(86_400), 600),
};

export const commonIssuerFields = {
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

