/**
 * The header names every part of Gatehouse agrees on, each spelled once. HTTP header names are case-insensitive:
 * these are the canonical spellings (what the stack declares as identity sources and what docs show); code that
 * reads a request compares lowercased (`.toLowerCase()` of these).
 */

/** The credential: `Bearer <JWT | API key | service secret>` or a `GH-HMAC-SHA256 ...` signature (contract/signing.ts). */
export const AUTHORIZATION_HEADER = 'Authorization';
/** Which calling service presents the bearer secret (routes that accept services). */
export const SERVICE_NAME_HEADER = 'X-Service-Name';
/** Membership mode's default tenant header (`membership.header` in the configuration). */
export const TENANT_HEADER = 'X-Tenant-Id';
/** A signed request's body hash (lowercase hex SHA-256), covered by the signature (contract/signing.ts). */
export const CONTENT_SHA256_HEADER = 'X-Content-SHA256';
/** The CSRF double-submit header's default name (`csrf.header`). */
export const CSRF_HEADER = 'X-CSRF-Token';
/** The CSRF double-submit cookie's default name (`csrf.cookie`): `__Host-` so a sibling subdomain cannot plant it. */
export const CSRF_COOKIE = '__Host-gh-csrf';
