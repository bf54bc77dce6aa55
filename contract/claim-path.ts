/**
 * How the configuration names a claim of a verified token. Identity providers put the claims that matter under names
 * of every shape: nested objects (Supabase `app_metadata.tenant_id`), names with a colon (Cognito `custom:tenant_id`,
 * `cognito:groups`), URLs (Auth0's namespaced custom claims, `https://example.com/roles`). A claim path is:
 *
 * - a string of plain names joined by dots, `app_metadata.tenant_id`: nested claims, one name per level;
 * - any other string, verbatim, is one top-level claim: `custom:tenant_id`, `https://example.com/roles`;
 * - an array of names, one per level, for anything else: `["https://example.com/app", "tenant"]`, `["tenant.id"]`.
 *
 * Every level is an own property of a JSON object: a path never walks the prototype chain (`__proto__` and
 * `constructor` are plain names), never indexes an array, and never reads a property a JSON object does not have.
 */

/** A claim path as the configuration writes it. */
export type ClaimPath = string | readonly string[];

/** Plain names joined by dots: the only strings that are read as nested paths. */
export const DOTTED_CLAIM_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

/** One level's name: 1-256 characters, none of them a control character. */
export const CLAIM_NAME_PATTERN = /^[^\u0000-\u001f\u007f]{1,256}$/;
export const CLAIM_NAME_MESSAGE = 'a claim name is 1-256 characters without control characters';

/** At most this many levels. */
export const MAX_CLAIM_DEPTH = 8;

/**
 * The claim at a path split into its names: own properties of JSON objects only, so `__proto__`, `constructor` and
 * friends in a payload are plain data and never reach the prototype chain, and an array is never indexed.
 */
export function claimAt(claims: unknown, at: readonly string[]): unknown {
  let cur: unknown = claims;
  for (let i = 0; i < at.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const name = at[i]!;
    if (!Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}

/** The names of a path, one per level. */
export function claimSegments(path: ClaimPath): readonly string[] {
  if (typeof path !== 'string') return path;
  return DOTTED_CLAIM_PATH.test(path) ? path.split('.') : [path];
}

/** A path as logs and messages show it: the string itself, or the array as JSON. */
export function claimLabel(path: ClaimPath): string {
  return typeof path === 'string' ? path : JSON.stringify(path);
}

/** The first level's name: what a rule about a whole subtree (such as Supabase's `user_metadata`) looks at. */
export function claimRoot(path: ClaimPath): string {
  return claimSegments(path)[0]!;
}
