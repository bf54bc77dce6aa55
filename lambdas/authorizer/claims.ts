import { SCOPE_PATTERN } from '../../contract/patterns';
/**
 * Reads a dotted path from verified JWT claims, own properties only: `__proto__`, `constructor` and friends in a
 * payload are plain data and never reach the prototype chain.
 */
export function claimAt(claims: unknown, path: string): unknown {
  let cur: unknown = claims;
  for (const name of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}

/**
 * A list claim as strings: an array of strings, or one space-separated string (OAuth `scope`). Undefined if the
 * claim is absent; null if it has the wrong type (the token is then refused, not silently read as empty).
 */
export function stringList(value: unknown): string[] | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0 && SCOPE_PATTERN.test(s));
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.filter((s) => SCOPE_PATTERN.test(s));
  return null;
}
