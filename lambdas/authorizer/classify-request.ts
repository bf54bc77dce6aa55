import type { AuthorizerConfig } from '../../contract/config';
import { type Credential, type RequestHeaders, classify } from './classify';
import type { CompiledRoute } from './policy';
import type { RouteIndex, RouteRequest } from './route-index';

/** Classifies one request's credential (./classify.ts), with the options its route and the route table imply. */
export type RequestClassifier = (event: RequestHeaders & RouteRequest) => Credential;

/**
 * The classification step: what classify() needs to know beyond the headers, worked out from the route table once
 * (whether any route accepts services or signed requests) and per request (the cookie of the request's route).
 */
export function requestClassifier(config: Pick<AuthorizerConfig, 'maxAuthorizationBytes'>, compiled: readonly CompiledRoute[], routes: RouteIndex): RequestClassifier {
  const { maxAuthorizationBytes } = config;
  const servicesAccepted = compiled.some((r) => r.accepts.has('service'));
  const signedAccepted = compiled.some((r) => r.accepts.has('signed'));
  return (event) => classify(event, { maxAuthorizationBytes, servicesAccepted, signedAccepted, cookie: routes.cookieOf(event) });
}
