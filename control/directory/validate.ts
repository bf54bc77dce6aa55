import * as z from 'zod/mini';
import { ZOD_MESSAGES } from '../../contract/rate-limit-tiers';
import { DirectoryError } from './errors';
import { ISSUER_ID_MESSAGE, ISSUER_ID_PATTERN, KEY_ID_MESSAGE, KEY_ID_PATTERN, SCOPE_MESSAGE, SCOPE_PATTERN, SUBJECT_MESSAGE, SUBJECT_PATTERN, TENANT_ID_MESSAGE, TENANT_ID_PATTERN, TIER_MESSAGE, TIER_PATTERN } from '../../contract/patterns';

/**
 * Tenant ids as identity providers issue them (`org_01EHZNVPK3SFK441A1RGBFSHRT`, a GUID, `acme`): case-sensitive, never
 * lowercased. They become key parts (`TENANT#<id>`), so `#` and anything else odd is refused (contract/patterns.ts).
 */
export const tenantId = z.string().check(z.regex(TENANT_ID_PATTERN, TENANT_ID_MESSAGE));
export const tier = z.string().check(z.regex(TIER_PATTERN, TIER_MESSAGE));
export const keyId = z.string().check(z.regex(KEY_ID_PATTERN, KEY_ID_MESSAGE));
export const scope = z.string().check(z.regex(SCOPE_PATTERN, SCOPE_MESSAGE));
export const keyName = z.string().check(z.trim(), z.minLength(1), z.maxLength(128));
export const issuerId = z.string().check(z.regex(ISSUER_ID_PATTERN, ISSUER_ID_MESSAGE));
/** A JWT `sub`: printable, no `#` (it becomes a key part), at most 255 characters. */
export const subject = z.string().check(z.regex(SUBJECT_PATTERN, SUBJECT_MESSAGE));
export const sessionId = subject;
export const graceSeconds = z.number().check(z.int(), z.minimum(0), z.maximum(90 * 86_400));

/**
 * Parses `value` with `schema`, or throws INVALID_INPUT naming the field (never echoing the value). Schemas are
 * zod/mini (it tree-shakes; classic zod would add about 440 KB to every handler bundle that reaches this), with
 * classic zod's English messages (ZOD_MESSAGES).
 */
export function check<T>(schema: z.ZodMiniType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value, ZOD_MESSAGES);
  if (!r.success) throw new DirectoryError('INVALID_INPUT', `${field}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}
