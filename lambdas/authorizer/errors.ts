/**
 * Why a request was refused, as a stable code for logs and metrics. The caller never sees the code: API Gateway
 * answers 401/403/500 with a generic body, so nothing here helps an attacker tune a forgery.
 *
 * - `unauthorized` (401): no credential, or one that is not valid.
 * - `forbidden` (403): a valid credential that may not do this (an explicit Deny policy).
 * - `error` (500): a dependency or configuration failure. Never Allow, never a 401 either: the credential may be
 *   fine, and a 401 would tell a client to drop a good token.
 */
export const REASONS = {
  // Before anything else: a client's own X-Gatehouse-* header (the gateway's namespace for backends).
  CONTEXT_HEADER_FROM_CLIENT: 'unauthorized',
  // Classification (no I/O).
  CREDENTIAL_MISSING: 'unauthorized',
  CREDENTIAL_MULTIPLE: 'unauthorized',
  AUTHORIZATION_MALFORMED: 'unauthorized',
  AUTHORIZATION_TOO_LARGE: 'unauthorized',
  CREDENTIAL_UNRECOGNIZED: 'unauthorized',
  // Browser callers: a JWT in a cookie (routes with `cookie`), and the CSRF check on mutating requests.
  CREDENTIAL_AMBIGUOUS: 'unauthorized',
  COOKIE_MALFORMED: 'unauthorized',
  CSRF_TOKEN_MISSING: 'forbidden',
  CSRF_TOKEN_MISMATCH: 'forbidden',
  CSRF_ORIGIN_NOT_ALLOWED: 'forbidden',
  // JWTs.
  JWT_MALFORMED: 'unauthorized',
  JWT_HEADER_FORBIDDEN: 'unauthorized',
  JWT_ISSUER_UNKNOWN: 'unauthorized',
  JWT_ALG_NOT_ALLOWED: 'unauthorized',
  JWT_KID_UNKNOWN: 'unauthorized',
  JWT_SIGNATURE_INVALID: 'unauthorized',
  JWT_EXPIRED: 'unauthorized',
  JWT_NOT_YET_VALID: 'unauthorized',
  JWT_TOO_OLD: 'unauthorized',
  JWT_LIFETIME_TOO_LONG: 'unauthorized',
  JWT_AUDIENCE_MISMATCH: 'unauthorized',
  JWT_CLAIM_MISSING: 'unauthorized',
  JWT_CLAIM_INVALID: 'unauthorized',
  JWT_ROLE_NOT_ALLOWED: 'unauthorized',
  // The provider's other tokens: another kind (an id token for an access token, Entra v1.0), another app's.
  JWT_TOKEN_TYPE_NOT_ALLOWED: 'unauthorized',
  JWT_CLIENT_NOT_ALLOWED: 'unauthorized',
  JWT_ANONYMOUS_NOT_ALLOWED: 'forbidden',
  // A signed-in user whose session still has tasks to do (Clerk: choose an organization, ...).
  JWT_SESSION_PENDING: 'forbidden',
  JWT_KEYS_UNAVAILABLE: 'error',
  JWT_SECRET_UNAVAILABLE: 'error',
  // API keys.
  APIKEY_PREFIX_UNKNOWN: 'unauthorized',
  APIKEY_CHECKSUM_INVALID: 'unauthorized',
  APIKEY_ENVIRONMENT_MISMATCH: 'unauthorized',
  APIKEY_NOT_FOUND: 'unauthorized',
  APIKEY_REVOKED: 'unauthorized',
  APIKEY_EXPIRED: 'unauthorized',
  // A key this container has never found, while unknown keys' lookups are over their budget (a forged-key flood).
  APIKEY_LOOKUP_BUDGET_EXCEEDED: 'unauthorized',
  APIKEY_RECORD_INVALID: 'error',
  APIKEY_STORE_UNAVAILABLE: 'error',
  // Service secrets.
  SERVICE_NOT_ACCEPTED: 'unauthorized',
  SERVICE_UNKNOWN: 'unauthorized',
  SERVICE_SECRET_MISMATCH: 'unauthorized',
  SERVICE_SECRET_UNAVAILABLE: 'error',
  // Signed requests (HMAC-SHA256, contract/signing.ts).
  SIGNED_NOT_ACCEPTED: 'unauthorized',
  SIGNATURE_MALFORMED: 'unauthorized',
  SIGNER_UNKNOWN: 'unauthorized',
  SIGNATURE_TIMESTAMP_OUT_OF_WINDOW: 'unauthorized',
  SIGNATURE_BODY_HASH_INVALID: 'unauthorized',
  SIGNATURE_MISMATCH: 'unauthorized',
  SIGNATURE_REPLAYED: 'unauthorized',
  SIGNER_SECRET_UNAVAILABLE: 'error',
  NONCE_STORE_UNAVAILABLE: 'error',
  // Principal and tenant.
  TENANT_MISSING: 'forbidden',
  TENANT_UNKNOWN: 'forbidden',
  TENANT_SUSPENDED: 'forbidden',
  TENANT_NOT_ONBOARDED: 'forbidden',
  TENANT_STORE_UNAVAILABLE: 'error',
  OWNER_MISMATCH: 'forbidden',
  // Membership mode: the tenant the request names (header), and the user's member record in it.
  TENANT_HEADER_MISSING: 'unauthorized',
  TENANT_HEADER_INVALID: 'forbidden',
  TENANT_MISMATCH: 'forbidden',
  MEMBERSHIP_NOT_FOUND: 'forbidden',
  MEMBERSHIP_RECORD_INVALID: 'error',
  MEMBERSHIP_STORE_UNAVAILABLE: 'error',
  // Session revocation (deny list of session ids, per issuer).
  SESSION_MISSING: 'unauthorized',
  SESSION_REVOKED: 'unauthorized',
  SESSION_STORE_UNAVAILABLE: 'error',
  // Decision.
  NO_ROUTE_PERMITTED: 'forbidden',
  ROUTE_NOT_PERMITTED: 'forbidden',
  INTERNAL_ERROR: 'error',
} as const satisfies Record<string, 'unauthorized' | 'forbidden' | 'error'>;

export type ReasonCode = keyof typeof REASONS;
export type Outcome = (typeof REASONS)[ReasonCode];

/**
 * A refusal with a reason code. `detail` is for the log and must never hold credential material.
 */
export class AuthError extends Error {
  readonly code: ReasonCode;
  readonly outcome: Outcome;
  readonly detail: Readonly<Record<string, string | number | boolean>> | undefined;

  constructor(code: ReasonCode, detail?: Record<string, string | number | boolean>, options?: ErrorOptions) {
    super(code, options);
    this.name = 'AuthError';
    this.code = code;
    this.outcome = REASONS[code];
    this.detail = detail;
  }
}
