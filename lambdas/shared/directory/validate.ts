import { z } from 'zod';
import { DirectoryError } from './errors';

/** Tenant ids are lowercase slugs: they become key parts (`TENANT#<id>`), so `#` and anything else odd is refused. */
export const tenantId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a tenant id is 1-63 of a-z 0-9 - (starting with a letter or digit)');
export const tier = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a tier is 1-32 of a-z 0-9 - (starting with a letter)');
export const keyId = z.string().regex(/^key_[0-9a-f]{16}$/, 'a key id looks like key_0123456789abcdef');
export const scope = z.string().regex(/^[A-Za-z0-9:._\-/*]{1,128}$/, 'a scope is 1-128 of A-Z a-z 0-9 : . _ - / * (no spaces)');
export const keyName = z.string().trim().min(1).max(128);
export const issuerId = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "an issuer is the configured issuer's id, e.g. supabase");
/** A JWT `sub`: printable, no `#` (it becomes a key part), at most 255 characters. */
export const subject = z.string().regex(/^[\x21-\x22\x24-\x7e]{1,255}$/, 'a subject is 1-255 printable characters without # or spaces');
export const sessionId = subject;
export const graceSeconds = z.number().int().min(0).max(90 * 86_400);

/** Parses `value` with `schema`, or throws INVALID_INPUT naming the field (never echoing the value). */
export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new DirectoryError('INVALID_INPUT', `${field}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}
