import middy, { type MiddyfiedHandler } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type AuthContext, type AuthKind, authContext, authContextOf, authLogFields, requireKinds, requireScopes } from './auth-context';
import { httpErrors } from './http-errors';
import { type HttpResponse, toProxyResult } from './http-response';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './json-body';
import type { Logger } from '../../contract/log';
import { type RateLimitOptions, rateLimit } from './rate-limit/middleware';
import { signedBody } from './signed-body';
import type { CorsPolicy } from '../../contract/cors';
import { bundledCorsPolicy, withCors } from './cors';

/** What a public route receives. */
export interface HttpRequest {
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  /** The parsed JSON body; `undefined` when the request has none. */
  readonly body: unknown;
}

/** What a route behind the authorizer receives: the request and the validated caller. */
export interface AuthedHttpRequest extends HttpRequest {
  readonly auth: AuthContext;
}

/** A route: returns the response, or throws an HttpError (any other error becomes a generic 500). */
export type Route<R extends HttpRequest> = (request: R) => HttpResponse | Promise<HttpResponse>;

/** The Lambda handler httpHandler builds: a middy handler for API Gateway REST proxy events. */
export type HttpLambda = MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

export interface PublicHttpHandlerOptions {
  readonly logger: Logger;
  /** Largest body accepted (413 beyond). @default DEFAULT_MAX_BODY_BYTES (16 KiB) */
  readonly maxBodyBytes?: number;
  /**
   * Browsers on other origins: every answer (success, refusal, 429, 500) carries the CORS headers for an allowed
   * Origin, none for another (lambdas/shared/cors.ts). @default - the policy bundled with the code (CORS_FILE), else no CORS
   */
  readonly cors?: CorsPolicy;
}

export interface HttpHandlerOptions extends PublicHttpHandlerOptions {
  /** Scopes the caller must all hold (403 otherwise). @default - none */
  readonly scopes?: readonly string[];
  /** Credential kinds accepted (403 otherwise). @default - every kind */
  readonly kinds?: readonly AuthKind[];
  /**
   * Per-tenant rate limit, checked after the caller, its kind and its scopes (a refused caller spends nothing) and
   * before the body is read: 429 with Retry-After beyond the tier's limit, RateLimit-* fields on the response.
   * `logger` defaults to the handler's. @default - not limited here (API Gateway usage plans still apply)
   */
  readonly rateLimit?: Omit<RateLimitOptions, 'logger'> & { readonly logger?: Logger };
}

/**
 * A handler behind the authorizer: httpErrors (outermost), authContext, signedBody (always: a signed caller's body
 * must hash to the value its signature covers, else 401; other kinds pass after a kind check), then requireKinds,
 * requireScopes and rateLimit when given, then the route with the parsed body; the route's response is serialized
 * as JSON. The body is parsed only after the caller is checked, so an unauthorized caller learns nothing about body
 * validation, and a route never sees a signed body that was not checked.
 */
export function httpHandler(route: Route<AuthedHttpRequest>, options: HttpHandlerOptions): HttpLambda {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async (event: APIGatewayProxyEvent, context: Context) =>
    toProxyResult(await route({ event, context, auth: authContextOf(context), body: readJsonBody(event, maxBodyBytes) })),
  )
    .use(httpErrors({ logger: options.logger, logFields: authLogFields }))
    .use(authContext())
    .use(signedBody());
  if (options.kinds?.length) handler.use(requireKinds(...options.kinds));
  if (options.scopes?.length) handler.use(requireScopes(...options.scopes));
  if (options.rateLimit) handler.use(rateLimit({ ...options.rateLimit, logger: options.rateLimit.logger ?? options.logger }));
  return corsAround(handler, options);
}

/** A public handler (no authorizer context expected, e.g. /health): httpErrors, then the route. */
export function publicHttpHandler(route: Route<HttpRequest>, options: PublicHttpHandlerOptions): HttpLambda {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async (event: APIGatewayProxyEvent, context: Context) =>
    toProxyResult(await route({ event, context, body: readJsonBody(event, maxBodyBytes) })),
  ).use(httpErrors({ logger: options.logger }));
  return corsAround(handler, options);
}

/** The handler with the CORS policy of the options, else the bundled one, around it; as it is without either. */
function corsAround(handler: HttpLambda, options: PublicHttpHandlerOptions): HttpLambda {
  const policy = options.cors ?? bundledCorsPolicy();
  return policy ? withCors(handler, policy) : handler;
}
