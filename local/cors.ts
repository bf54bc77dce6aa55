import type { RouteConfig } from '../contract/config';
import { type CorsPolicy, preflightHeaders, preflightMethods } from '../contract/cors';
import { matchRoute } from './route-match';

/**
 * The headers of the local gateway's answer to a preflight, as the deployed API's mock integration gives them
 * (contract/openapi-cors.ts): for OPTIONS on a path that has routes, with a CORS policy, preflightHeaders for the
 * methods of the resource API Gateway would pick (none of the Access-Control headers for an origin not allowed).
 * Undefined when the gateway does not answer it this way (no policy, another method, a path without routes): the
 * request then goes on as any other, and an unknown path is refused as on API Gateway.
 */
export function preflightAnswer(routes: readonly RouteConfig[], cors: CorsPolicy | undefined, method: string, path: string, origin: string | undefined): Record<string, string> | undefined {
  if (!cors || method !== 'OPTIONS') return undefined;
  // The most specific resource the path matches, whatever its methods: the one whose OPTIONS method answers.
  const resource = matchRoute(routes.map((r) => ({ ...r, method: 'ANY' as const })), 'OPTIONS', path);
  if (!resource) return undefined;
  return preflightHeaders(cors, origin, preflightMethods(routes, resource.route.path));
}
