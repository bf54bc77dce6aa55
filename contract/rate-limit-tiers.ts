/**
 * The rate-limit tiers document: tier name (the tenant's `tier`, as the authorizer passes it on) -> limits. A tenant
 * whose tier is not in the document (or who has none) gets the `default` tier, which is always present.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

/** The environment variable rateLimitTiersFromEnv reads by default: the tiers document as JSON. */
export const RATE_LIMIT_TIERS_ENV = 'RATE_LIMIT_TIERS';

/** What the public API this was drawn from promises: 100 requests/minute per company, with bursts to 200. */
export const DEFAULT_TIER = { requestsPerMinute: 100, burst: 200, onLimiterError: 'open' } as const;

// zod/mini (the functional API of the same package): the authorizer embeds this schema in its configuration, and
// classic zod would add about 440 KB to its bundle. Its messages come from zod's English locale, passed per parse
// (ZOD_MESSAGES), so they read as classic zod's do without loading every locale or changing zod's global config.
const int = (min: number, max?: number) => z.number().check(z.int(), z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)]));

export const rateLimitTierSchema = z.strictObject({
  /**
   * Sustained rate. Up to a million a minute (16,667 a second, past API Gateway's default account quota of 10,000):
   * the leased limiter keeps a tenant's bucket item under DynamoDB's per-partition write limit at any rate
   * (lambdas/shared/rate-limit/limiter.ts; `npm run bench -- --only limiter` runs 600,000 a minute).
   */
  requestsPerMinute: int(1, 1_000_000),
  /** Bucket capacity: what an idle tenant may send at once. Bounded so the arithmetic stays exact in a double. */
  burst: int(1, 1_000_000),
  /** Requests per calendar month (UTC); absent = none. */
  monthlyQuota: z.optional(int(1)),
  /** When the limiter's table fails: 'open' admits the request (logged), 'closed' answers 503. */
  onLimiterError: z._default(z.enum(['open', 'closed']), 'open'),
});

/** One tier's limits, as parsed (onLimiterError filled in). */
export type RateLimitTier = z.output<typeof rateLimitTierSchema>;
/** One tier's limits, as written. */
export type RateLimitTierInput = z.input<typeof rateLimitTierSchema>;

/** The parsed tiers document: every tier by name, `default` always present. */
export type RateLimitTiers = Readonly<Record<string, RateLimitTier>> & { readonly default: RateLimitTier };

/**
 * The tiers document: `{ [tier]: { requestsPerMinute, burst, monthlyQuota?, onLimiterError? } }`. A missing
 * `default` tier is added as DEFAULT_TIER. Embed it in a larger configuration document as it is.
 */
export const rateLimitTiersSchema = z.pipe(
  z.record(z.string().check(z.minLength(1), z.maxLength(64)), rateLimitTierSchema),
  z.transform((tiers: Record<string, RateLimitTier>): RateLimitTiers => ({ default: { ...DEFAULT_TIER }, ...tiers })),
);

/** Parse options that give zod/mini classic zod's English messages: `schema.safeParse(doc, ZOD_MESSAGES)`. */
export const ZOD_MESSAGES = { error: en().localeError };

/** The tiers document as written. */
export type RateLimitTiersInput = z.input<typeof rateLimitTiersSchema>;

/** Why a tiers document was refused: every bad field by its path (`pro.burst`), with zod's message. */
export class RateLimitTiersError extends Error {
  constructor(
    readonly source: string,
    readonly fields: readonly string[],
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'RateLimitTiersError';
  }
}

/** Validates a tiers document; throws RateLimitTiersError naming each bad field (`<source>: pro.burst: ...`). */
export function parseRateLimitTiers(input: unknown, source = 'rate-limit tiers'): RateLimitTiers {
  const parsed = rateLimitTiersSchema.safeParse(input, ZOD_MESSAGES);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  throw new RateLimitTiersError(
    source,
    [...new Set(issues.map((i) => i.path))],
    issues.map((i) => `${i.path}: ${i.message}`).join('; '),
  );
}

/** Only the default tier: what a deployment gets when it configures no tiers. */
export function defaultRateLimitTiers(): RateLimitTiers {
  return parseRateLimitTiers({});
}

/**
 * The tiers document from environment variable `name` (JSON). Unset or empty: only the default tier. Invalid JSON or
 * an invalid document: throws, naming the variable and the bad field.
 */
export function rateLimitTiersFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, name = RATE_LIMIT_TIERS_ENV): RateLimitTiers {
  return rateLimitTiersFromJson(env[name], `environment variable ${name}`);
}

/** The file the stack bundles the tiers in, next to a rate-limited handler's code (any size; see contract/bundled-config.ts). */
export const RATE_LIMIT_TIERS_FILE = 'rate-limit-tiers.json';

/**
 * The tiers document from JSON text found at `origin` (a variable, a file). Absent or empty: only the default tier.
 * Invalid JSON or an invalid document: throws, naming `origin` and the bad field, never quoting the text.
 */
export function rateLimitTiersFromJson(raw: string | undefined, origin: string): RateLimitTiers {
  if (raw === undefined || raw.trim() === '') return defaultRateLimitTiers();
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    // The parser's message quotes the input: say where it is instead.
    throw new RateLimitTiersError(origin, ['(root)'], 'is not valid JSON');
  }
  return parseRateLimitTiers(doc, origin);
}

/** The tier that applies to `tier` (a tenant's tier name, possibly absent or unknown): that tier, else `default`. */
export function tierFor(tiers: RateLimitTiers, tier: string | undefined): { name: string; limits: RateLimitTier } {
  // Object.hasOwn: a tier named `constructor` or `__proto__` must not reach Object.prototype.
  if (tier !== undefined && Object.hasOwn(tiers, tier)) return { name: tier, limits: tiers[tier]! };
  return { name: 'default', limits: tiers.default };
}
