import { z } from 'zod';
import { DirectoryError } from './errors';
import { ISSUER_ID_MESSAGE, ISSUER_ID_PATTERN, KEY_ID_MESSAGE, KEY_ID_PATTERN, SCOPE_MESSAGE, SCOPE_PATTERN, SUBJECT_MESSAGE, SUBJECT_PATTERN, TENANT_ID_MESSAGE, TENANT_ID_PATTERN, TIER_MESSAGE, TIER_PATTERN } from '../../contract/patterns';

/** Tenant ids are lowercase slugs: they become key parts (`TENANT#<id>`), so `#` and anything else odd is refused. */
export const tenantId = z.string().regex(TENANT_ID_PATTERN, TENANT_ID_MESSAGE);
export const tier = z.string().regex(TIER_PATTERN, TIER_MESSAGE);
export const keyId = z.string().regex(KEY_ID_PATTERN, KEY_ID_MESSAGE);
export const scope = z.string().regex(SCOPE_PATTERN, SCOPE_MESSAGE);
export const keyName = z.string().trim().min(1).max(128);
export const issuerId = z.string().regex(ISSUER_ID_PATTERN, ISSUER_ID_MESSAGE);
/** A JWT `sub`: printable, no `#` (it becomes a key part), at most 255 characters. */
export const subject = z.string().regex(SUBJECT_PATTERN, SUBJECT_MESSAGE);
export const sessionId = subject;
export const graceSeconds = z.number().int().min(0).max(90 * 86_400);

/** Parses `value` with `schema`, or throws INVALID_INPUT naming the field (never echoing the value). */
export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new DirectoryError('INVALID_INPUT', `${field}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}
