/**
 * The shapes of the names and ids every part of Gatehouse agrees on (configuration, authorizer, directory, CLI,
 * handlers), each written once with the message that explains it. Anything that becomes part of a table key, an
 * API Gateway cache key, a log line or the authorizer's context is refused here if it could break one of them.
 */

/** A scope: 1-128 of A-Z a-z 0-9 : . _ - / * (no spaces: OAuth's `scope` claim is space-separated). */
export const SCOPE_PATTERN = /^[A-Za-z0-9:._\-/*]{1,128}$/;
export const SCOPE_MESSAGE = 'a scope is 1-128 of A-Z a-z 0-9 : . _ - / * (no spaces)';

/**
 * A tenant id: 1-128 of A-Z a-z 0-9 _ -, starting with a letter or digit. Wide enough for the organization ids that
 * identity providers issue as they are (WorkOS `org_01EHZNVPK3SFK441A1RGBFSHRT`, Auth0 `org_9ybsU1dN2dKfDkBi`,
 * Clerk `org_2Z1b3XkQd9YtMpFkYaS7vR0cW4e`, a Microsoft Entra `tid` GUID `72f988bf-86f1-41af-91ab-2d7cd011db47`)
 * and plain slugs (`acme`); narrow enough to be safe wherever a tenant id goes: DynamoDB key parts (`TENANT#<id>`,
 * `TENANT#<id>#CUSTOMERS`, `RATE#<id>`: no `#`), IAM `dynamodb:LeadingKeys` conditions (`TENANT#*#CUSTOMERS`: no
 * `*` or `?`), API Gateway's authorizer cache key (membership header: no whitespace, commas or control
 * characters), usage-plan API key names, the handlers' context and log lines (no `.`, `/`, quotes, spaces or
 * non-ASCII). Case-sensitive and compared exactly: `Acme` and `acme` are two tenants; nothing lowercases one.
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const TENANT_ID_MESSAGE =
  'a tenant id is 1-128 of A-Z a-z 0-9 _ - starting with a letter or digit, e.g. acme or org_01EHZNVPK3SFK441A1RGBFSHRT ' +
  '(case-sensitive; no #, *, /, ., spaces, control or non-ASCII characters)';

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
