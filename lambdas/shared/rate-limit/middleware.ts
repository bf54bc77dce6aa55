import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { authContextOf, authLogFields } from '../auth-context';
import type { ProxyRequest } from '../http-errors';
import { toProxyResult } from '../http-response';
import type { LogFields, Logger } from '../../../contract/log';
import type { RateLimitDecision, RateLimiter } from './limiter';
import { type RateLimitTiers, tierFor } from '../../../contract/rate-limit-tiers';
import { errorLogFields } from '../../../contract/aws-error';

export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  readonly tiers: RateLimitTiers;
  readonly logger: Logger;
  /**
   * Longest wait for the limiter's table before it counts as unavailable (then the tier's onLimiterError decides).
   * Bounds what a slow table adds to every request. @default 1000
   */
  readonly timeoutMs?: number;
}

/** Reason codes of the rate-limit log lines. */
export const RATE_LIMITED = 'RATE_LIMITED';
export const RATE_LIMITER_UNAVAILABLE = 'RATE_LIMITER_UNAVAILABLE';

/** The IETF draft (draft-ietf-httpapi-ratelimit-headers) fields, integers, for a decision. */
export function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  return { 'RateLimit-Limit': String(d.limit), 'RateLimit-Remaining': String(d.remaining), 'RateLimit-Reset': String(d.resetSeconds) };
}

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * Per-tenant rate limiting for a handler behind the authorizer; use after authContext(). Tenants (users and API keys
 * with a tenant) are counted under their tier (`default` when the tier is absent or unknown); services and users
 * without a tenant are not limited here. A denial answers 429 `{ error: 'too_many_requests', message }` (the body
 * API Gateway's own throttle answers, lib/gateway-responses.ts) with Retry-After
 * and the RateLimit-* fields and skips the handler; an admitted request gets the RateLimit-* fields on the
 * handler's response. When the limiter's table fails (error, throttling, timeout), the tier says: 'open' lets the
 * request through without RateLimit-* fields, 'closed' answers 503 with Retry-After: 1. One log line per denial
 * (reason RATE_LIMITED) and per failure (reason RATE_LIMITER_UNAVAILABLE, decision open|closed).
 */
export function rateLimit(options: RateLimitOptions): HttpMiddleware {
  const { limiter, tiers, logger } = options;
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError('rateLimit: timeoutMs must be an integer >= 1');
  // The admitted decision of each in-flight request, for `after`.
  const admittedBy = new WeakMap<ProxyRequest, RateLimitDecision>();

  const fields = (request: ProxyRequest, tier: string): LogFields => ({
    requestId: request.event?.requestContext?.requestId,
    method: request.event?.httpMethod,
    resource: request.event?.resource,
    ...authLogFields(request),
    tier,
  });

  const rateLimitBefore = async (request: ProxyRequest): Promise<APIGatewayProxyResult | undefined> => {
    const auth = authContextOf(request.context);
    if (auth.kind === 'service' || !auth.tenantId) return undefined;
    const { name, limits } = tierFor(tiers, auth.tier);
    let decision: RateLimitDecision;
    try {
      decision = await limiter.check(auth.tenantId, limits, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const open = limits.onLimiterError === 'open';
      logger.error('rate limiter unavailable', {
        ...fields(request, name),
        reason: RATE_LIMITER_UNAVAILABLE,
        decision: open ? 'open' : 'closed',
        ...errorLogFields(err),
        ...(open ? {} : { status: 503 }),
      });
      if (open) return undefined;
      return toProxyResult({
        statusCode: 503,
        headers: { 'Retry-After': '1' },
        body: { error: 'service_unavailable', message: 'rate limiting is temporarily unavailable; retry in 1 second' },
      });
    }
    if (decision.allowed) {
      admittedBy.set(request, decision);
      return undefined;
    }
    const retryAfter = Math.max(1, decision.retryAfterSeconds ?? 1);
    logger.warn('rate limited', {
      ...fields(request, name),
      status: 429,
      reason: RATE_LIMITED,
      window: decision.window,
      limit: decision.limit,
      retryAfterSeconds: retryAfter,
    });
    const after = `retry after ${retryAfter} second${retryAfter === 1 ? '' : 's'}`;
    const message =
      decision.window === 'month'
        ? `monthly quota of ${decision.limit} requests used up; ${after}`
        : `rate limit exceeded (${limits.requestsPerMinute} requests per minute, bursts to ${limits.burst}); ${after}`;
    return toProxyResult({
      statusCode: 429,
      headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders(decision) },
      body: { error: 'too_many_requests', message },
    });
  };

  const rateLimitAfter = (request: ProxyRequest): void => {
    const decision = admittedBy.get(request);
    admittedBy.delete(request);
    if (!decision || !request.response) return;
    request.response = { ...request.response, headers: { ...request.response.headers, ...rateLimitHeaders(decision) } };
  };

  // An error from the handler: forget the decision (httpErrors renders the error without RateLimit-* fields).
  const rateLimitOnError = (request: ProxyRequest): void => void admittedBy.delete(request);

  return { before: rateLimitBefore, after: rateLimitAfter, onError: rateLimitOnError };
}
