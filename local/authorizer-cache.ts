import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { RouteAuthorizer } from '../contract/route-authorizer';
import { type GatewayRequest, type LambdaHandler, headerValue, lambdaContext } from './gateway-request';
import { type Refusal, isRefusal, refuse } from './gateway-response';

interface CachedDecision {
  readonly result: APIGatewayAuthorizerResult;
  readonly expiresAt: number;
}

/**
 * How one kind of API calls its authorizer: the identity-source values of a request, and the call itself with the
 * checks API Gateway makes on the answer (a refusal in place of an answer it would not use).
 */
export interface AuthorizerCall<Req> {
  /** The request's values of `headers` (undefined where a header is missing). */
  identity(request: Req, headers: readonly string[]): (string | undefined)[];
  invoke(request: Req): Promise<APIGatewayAuthorizerResult | Refusal>;
}

/**
 * The stage's REQUEST authorizers, as API Gateway runs them: identity sources checked first, a result cache per
 * authorizer for the result TTL, and the checks API Gateway makes on the authorizer's answer. The same for REST and
 * HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html, "Caching
 * authorizer responses": the identity sources are the cache key, and the result is used for all routes of the
 * authorizer); what differs, the event and the answers, is the `call`.
 */
export class AuthorizerCache<Req = GatewayRequest> {
  private readonly cache = new Map<string, CachedDecision>();
  private count = 0;

  /**
   * @param call how this kind of API calls the authorizer
   * @param resultTtlSeconds API Gateway's authorizer result TTL (0: no caching)
   */
  constructor(
    private readonly call: AuthorizerCall<Req>,
    private readonly resultTtlSeconds: number,
    private readonly now: () => number,
  ) {}

  /** Authorizer invocations so far (cache hits do not count). */
  get calls(): number {
    return this.count;
  }

  /** Empties the result cache (what the control plane's flush does). */
  flush(): void {
    this.cache.clear();
  }

  /** The decision for a request on a route `guard` protects, cached or fresh, or the refusal in its place. */
  async decide(guard: RouteAuthorizer, request: Req): Promise<APIGatewayAuthorizerResult | Refusal> {
    // Which authorizer guards the route decides the identity sources (as in lib/gatehouse-api.ts).
    const values = this.call.identity(request, guard.headers);
    // Any identity source missing or empty: 401 without calling the authorizer.
    if (values.some((v) => v === undefined || v === '')) return refuse('UNAUTHORIZED');

    // One cache per authorizer, keyed by its identity-source values (header values cannot hold a NUL); none for an
    // uncached authorizer (cookie and signed routes: TTL 0, no identity sources).
    const key = `${guard.name}\u0000${values.join('\u0000')}`;
    const t = this.now();
    const caching = guard.cached && this.resultTtlSeconds > 0;
    const hit = caching ? this.cache.get(key) : undefined;
    if (hit && hit.expiresAt > t) return hit.result;
    this.count++;
    const decision = await this.call.invoke(request);
    if (caching && !isRefusal(decision)) this.cache.set(key, { result: decision, expiresAt: t + this.resultTtlSeconds * 1000 });
    return decision;
  }
}

/** The REST API's result cache over its REQUEST authorizer (payload format 1.0 events, method ARNs). */
export function restAuthorizerCache(
  authorizer: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>,
  resultTtlSeconds: number,
  now: () => number,
): AuthorizerCache<GatewayRequest> {
  return new AuthorizerCache<GatewayRequest>(
    {
      identity: (request, headers) => headers.map((h) => headerValue(request.fields.headers, h)),
      invoke: (request) => invokeRestAuthorizer(authorizer, request),
    },
    resultTtlSeconds,
    now,
  );
}

async function invokeRestAuthorizer(
  authorizer: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>,
  request: GatewayRequest,
): Promise<APIGatewayAuthorizerResult | Refusal> {
  let decision: APIGatewayAuthorizerResult;
  try {
    decision = await authorizer(
      {
        type: 'REQUEST',
        methodArn: request.methodArn,
        ...request.fields,
        requestContext: request.requestContext as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
      },
      lambdaContext('authorizer', request.requestId),
    );
  } catch (err) {
    // 'Unauthorized' is API Gateway's 401; anything else the authorizer throws is a 500. Neither is cached.
    return (err as Error)?.message === 'Unauthorized' ? refuse('UNAUTHORIZED') : refuse('DEFAULT_5XX', 500, 'authorizer_error');
  }
  return validAuthorizerResult(decision) ? decision : refuse('DEFAULT_5XX', 500, 'authorizer_result_invalid');
}

/**
 * API Gateway refuses an authorizer answer (500) without a principal id and policy, or whose context holds anything
 * but strings, numbers and booleans.
 */
export function validAuthorizerResult(r: APIGatewayAuthorizerResult | undefined): r is APIGatewayAuthorizerResult {
  if (!r || typeof r.principalId !== 'string' || !r.policyDocument || !Array.isArray(r.policyDocument.Statement)) return false;
  return Object.values(r.context ?? {}).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
}
