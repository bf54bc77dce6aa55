import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HttpError } from './http-errors';
import { type PublicHttpHandlerOptions, publicHttpHandler } from './http-handler';

/** A Lambda handler for API Gateway REST proxy events. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Handlers by `<METHOD> <resource>`, the resource as API Gateway names it: `GET /v1/customers/{id}`. */
export type HttpRoutes = Readonly<Record<string, ProxyHandler>>;

/**
 * One Lambda for several routes: dispatches on the method and API Gateway's `resource` (the route template, not
 * the raw path, so a path parameter can never select another route). Each route keeps its own middleware chain
 * (scopes differ per method). A route API Gateway should never have sent here is a 404 or 405, with the CORS headers
 * of `options.cors`, else of the bundled policy, like the routes' own answers.
 */
export function httpRouter(routes: HttpRoutes, options: Pick<PublicHttpHandlerOptions, 'logger' | 'cors'>): ProxyHandler {
  const resources = new Set(Object.keys(routes).map((k) => k.slice(k.indexOf(' ') + 1)));
  const fallback = publicHttpHandler(({ event }) => {
    if (resources.has(event.resource)) throw new HttpError(405, 'method_not_allowed', 'method not allowed', { reason: 'ROUTE_METHOD_UNKNOWN' });
    throw new HttpError(404, 'not_found', 'not found', { reason: 'ROUTE_UNKNOWN' });
  }, options);
  return (event, context) => (routes[`${event?.httpMethod} ${event?.resource}`] ?? fallback)(event, context);
}
