import { SCOPE_PATTERN } from '../../contract/patterns';
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
