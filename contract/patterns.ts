/**
 * The shapes of the names and ids every part of Gatehouse agrees on (configuration, authorizer, directory, CLI,
 * handlers), each written once with the message that explains it. Anything that becomes part of a table key, an
 * API Gateway cache key, a log line or the authorizer's context is refused here if it could break one of them.
 */

/** A scope: 1-128 of A-Z a-z 0-9 : . _ - / * (no spaces: OAuth's `scope` claim is space-separated). */
export const SCOPE_PATTERN = /^[A-Za-z0-9:._\-/*]{1,128}$/;
export const SCOPE_MESSAGE = 'a scope is 1-128 of A-Z a-z 0-9 : . _ - / * (no spaces)';

/**
 * A tenant id: lowercase letters, digits and dashes, 1-63, not starting with a dash. Strict on purpose: it is part
 * of API Gateway's cache key (membership header) and of DynamoDB keys (`TENANT#<id>`), and goes into logs and the
 * handlers' context.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TENANT_ID_MESSAGE = 'a tenant id is 1-63 of a-z 0-9 - (starting with a letter or digit)';

/** A calling service's or a signer's name: lowercase letters, digits and dashes, 2-63, starting with a letter. */
export const CALLER_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/** An issuer's id (`issuers[].id`, the `issuer` context value): 1-32 of a-z 0-9 -, starting with a letter. */
export const ISSUER_ID_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const ISSUER_ID_MESSAGE = "an issuer is the configured issuer's id, e.g. supabase";

/** A rate-limit tier's name: 1-32 of a-z 0-9 -, starting with a letter. */
export const TIER_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const TIER_MESSAGE = 'a tier is 1-32 of a-z 0-9 - (starting with a letter)';

/** An API key's id (not the key): `key_` and 16 hex digits. */
export const KEY_ID_PATTERN = /^key_[0-9a-f]{16}$/;
export const KEY_ID_MESSAGE = 'a key id looks like key_0123456789abcdef';

/** An API key prefix (`<prefix>_live_...`): 2-16 lowercase letters and digits, starting with a letter. */
export const API_KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{1,15}$/;

/** A built-in handler's name (a route's `handler`). */
export const HANDLER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** A JWT `sub` as the directory stores it: printable, no `#` (it becomes a key part), at most 255 characters. */
export const SUBJECT_PATTERN = /^[\x21-\x22\x24-\x7e]{1,255}$/;
export const SUBJECT_MESSAGE = 'a subject is 1-255 printable characters without # or spaces';

/** Identifiers from a token that go into the policy context and logs (subject, email): bounded, no separators. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:@|+-]{1,256}$/;

/** A cookie name (an RFC 6265 token), e.g. sb-access-token or __Host-gh-csrf. */
export const COOKIE_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;
export const COOKIE_NAME_MESSAGE = 'a cookie name is 1-128 token characters (no spaces, = , ; or quotes)';

/** A configurable header name (CSRF, membership). */
export const HEADER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
export const HEADER_NAME_MESSAGE = 'a header name is 1-64 letters, digits and dashes, starting with a letter';

/** A compact JWS/JWT by shape: three base64url segments. */
export const JWT_SHAPE_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A SHA-256 or HMAC-SHA256 value: 64 lowercase hex digits. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
