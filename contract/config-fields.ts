import * as z from 'zod/mini';
import { CLAIM_NAME_MESSAGE, CLAIM_NAME_PATTERN, MAX_CLAIM_DEPTH } from './claim-path';
import { COOKIE_NAME_MESSAGE, COOKIE_NAME_PATTERN, HEADER_NAME_MESSAGE, HEADER_NAME_PATTERN, SCOPE_MESSAGE, SCOPE_PATTERN } from './patterns';

/**
 * The field types the configuration documents are built from (zod/mini: it tree-shakes, so the authorizer bundle
 * carries about 30 KB of zod instead of 440 KB). Messages are classic zod's English ones (ZOD_MESSAGES, passed per
 * parse).
 */

/** An integer in [min, max]: classic zod's `z.number().int().min(min).max(max)`. */
export const int = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));
export const seconds = (max: number) => int(0, max);
/** A string matching `pattern`, with `message` (or zod's own) when it does not. */
export const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));
/** A string of `min` to `max` characters. */
export const text = (min: number, max?: number) => z.string().check(z.minLength(min), ...(max === undefined ? [] : [z.maxLength(max)]));
export const scope = matching(SCOPE_PATTERN, SCOPE_MESSAGE);
/** One claim's name, verbatim (`custom:tenant_id`, `https://example.com/roles`). */
export const claimName = matching(CLAIM_NAME_PATTERN, CLAIM_NAME_MESSAGE);
/** A claim path (contract/claim-path.ts): a dotted path of plain names or one verbatim name, or an array of names. */
export const claimPath = z.union([claimName, z.array(claimName).check(z.minLength(1), z.maxLength(MAX_CLAIM_DEPTH))]);
export const httpsUrl = z.url().check(
  z.refine(
    (u) => u.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(u),
    'must be https:// (plain http only on loopback, for local mode and tests)',
  ),
);
export const secretId = text(1, 2048);
export const cookieName = matching(COOKIE_NAME_PATTERN, COOKIE_NAME_MESSAGE);
export const headerName = matching(HEADER_NAME_PATTERN, HEADER_NAME_MESSAGE);
