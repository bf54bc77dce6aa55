/**
 * The handler toolkit: what a team's own handlers import (`gatehouse/toolkit` from the package, this file inside
 * the repository) to read the caller the authorizer validated, check scopes and credential kinds, count requests
 * with the per-tenant limiter, check a signed body and answer JSON with the same errors, logs and CORS headers as
 * the built-in handlers. Re-exports only: each piece is documented where it is defined.
 */
export { httpHandler, publicHttpHandler, type HttpHandlerOptions, type PublicHttpHandlerOptions, type HttpLambda, type HttpRequest, type AuthedHttpRequest, type Route } from './shared/http-handler';
export { json, type HttpResponse } from './shared/http-response';
export { HttpError, type HttpErrorOptions } from './shared/http-errors';
export { httpRouter, type HttpRoutes, type ProxyHandler } from './shared/http-router';
export {
  type AuthContext,
  type AuthKind,
  type UserAuthContext,
  type ApiKeyAuthContext,
  type ServiceAuthContext,
  type SignedAuthContext,
  authContext,
  authContextOf,
  parseAuthContext,
  requireKinds,
  requireScopes,
} from './shared/auth-context';
export { signedBody } from './shared/signed-body';
export { rateLimit, type RateLimitOptions } from './shared/rate-limit/middleware';
export { lazyHandler, sharedDynamoClient, sharedRateLimit, requiredEnv } from './shared/runtime';
export { jsonLogger, type Logger } from '../contract/log';
