import type { AuthorizerConfig } from './config';

/**
 * How long a revocation can take to take effect, worst case. Two caches stand between a write to the table and a
 * refused request: the authorizer's own cache of the record (per Lambda instance, for that record's TTL), and API
 * Gateway's cache of the authorizer's answer (per authorizer and identity-source values, for the result TTL). A
 * decision made just before the authorizer's cached record expires is reused by API Gateway for the whole result
 * TTL, so the bound is the sum.
 *
 * A stage authorizer-cache flush (API Gateway `FlushStageAuthorizersCache`) empties API Gateway's cache, not the
 * authorizer's: a request right after the flush can still be decided from a stale record, and that answer is cached
 * again for the result TTL. So flush once `flushAfterSeconds` (the record's TTL) have passed since the change:
 * from then on every answer is made from a fresh read, and the change has taken effect by `withFlushSeconds`.
 * (Flushing at once as well does no harm; it ends what was cached before the change sooner, not what comes after.)
 *
 * During a DynamoDB outage, the authorizer keeps answering from its cached records for up to
 * `records.staleIfErrorSeconds` past their TTL (the last answer DynamoDB gave: a revoked key stays refused), so a
 * change made just before or during the outage can take that much longer: `outageExtraSeconds`. Outside an outage
 * a stale record is never used, and the bounds above hold as they are. A deployment that wants none sets 0.
 *
 * Not counted: DynamoDB's eventually consistent reads (the authorizer's GetItem), which may return the previous
 * item for a short time after a write (typically well under a second), and the flush call's own latency.
 */
export interface RevocationBound {
  /** Worst-case seconds from the change to every request being refused, without a flush. */
  readonly seconds: number;
  /** Worst-case seconds with a stage authorizer-cache flush issued at `flushAfterSeconds` after the change. */
  readonly withFlushSeconds: number;
  /** When to issue the flush, in seconds after the change: the authorizer's own cache TTL for the record. */
  readonly flushAfterSeconds: number;
}

/**
 * Per kind of revocation. Undefined where this configuration does not check that record at all, so the change
 * never takes effect through the authorizer (no `apiKeys`; `tenants.verify: false`; no `membership`; no issuer
 * with `revokedSessions`).
 */
export interface RevocationBounds {
  /** An API key revoked or deleted (the authorizer's cache: `apiKeys.cacheTtlSeconds`). */
  readonly apiKeyRevoked?: RevocationBound;
  /** A tenant suspended or deleted (`tenants.cacheTtlSeconds`). */
  readonly tenantSuspended?: RevocationBound;
  /** A member removed from a tenant, or their role changed (`membership.cacheTtlSeconds`). */
  readonly memberRemoved?: RevocationBound;
  /** A session put on the deny list (the largest `sessionCacheTtlSeconds` of the issuers that check it). */
  readonly sessionRevoked?: RevocationBound;
  /**
   * How much later a key revocation, a tenant suspension or a member removal may take effect when DynamoDB fails
   * around it (`records.staleIfErrorSeconds`); only during an outage, never for sessions. Absent when 0 or when
   * none of those records is checked.
   */
  readonly outageExtraSeconds?: number;
}

/** The kinds of revocation that have a bound of their own. */
export type RevocationKind = Exclude<keyof RevocationBounds, 'outageExtraSeconds'>;

/**
 * The revocation bounds of a validated configuration (`parseConfig`) under an API Gateway authorizer result TTL
 * (the stack's `deployment.authorizerResultTtlSeconds`; contract/stack-config.ts `stackRevocationBounds` passes it).
 */
export function revocationBoundSeconds(config: AuthorizerConfig, resultTtlSeconds: number): RevocationBounds {
  if (!Number.isInteger(resultTtlSeconds) || resultTtlSeconds < 0 || resultTtlSeconds > 3600) {
    throw new RangeError('resultTtlSeconds: API Gateway accepts 0-3600 whole seconds');
  }
  const bound = (authorizerTtlSeconds: number): RevocationBound => ({
    seconds: authorizerTtlSeconds + resultTtlSeconds,
    withFlushSeconds: authorizerTtlSeconds,
    flushAfterSeconds: authorizerTtlSeconds,
  });
  const sessionTtls = config.issuers.filter((i) => i.revokedSessions).map((i) => i.sessionCacheTtlSeconds);
  const checksRecords = Boolean(config.apiKeys) || config.tenants.verify || Boolean(config.membership);
  const stale = checksRecords ? config.records.staleIfErrorSeconds : 0;
  return {
    ...(config.apiKeys ? { apiKeyRevoked: bound(config.apiKeys.cacheTtlSeconds) } : {}),
    ...(config.tenants.verify ? { tenantSuspended: bound(config.tenants.cacheTtlSeconds) } : {}),
    ...(config.membership ? { memberRemoved: bound(config.membership.cacheTtlSeconds) } : {}),
    ...(sessionTtls.length ? { sessionRevoked: bound(Math.max(...sessionTtls)) } : {}),
    ...(stale > 0 ? { outageExtraSeconds: stale } : {}),
  };
}
