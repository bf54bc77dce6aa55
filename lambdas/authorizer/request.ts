import type { RouteRequest } from './route-index';
import type { SignedRequestEvent } from './signed-requests';

/**
 * The request as the decision pipeline (./authorizer.ts) reads it, whatever payload brought it: the header maps
 * (classification, CSRF, the tenant header, the X-Gatehouse-* check), the method and route template (the route's
 * cookie, membership), the method ARN (the policy's stage prefix and this request's verdict), the request line's
 * path and query (signed requests) and the request id (the decision log).
 *
 * A REST REQUEST authorizer event (`APIGatewayRequestAuthorizerEvent`) is one as it is: the REST path passes the
 * event itself, with no copy and no conversion. An HTTP API event of payload format 2.0 is mapped onto it by
 * ./payload-v2.ts.
 */
export interface AuthorizerRequest extends SignedRequestEvent, RouteRequest {
  /** `arn:aws:execute-api:region:account:apiId/stage/METHOD/path`: REST's methodArn, HTTP API's routeArn. */
  readonly methodArn: string;
  readonly requestContext?: { readonly requestId?: string; readonly path?: string } | null;
}

/**
 * The shape API Gateway expects the answer in. `rest`: REST's REQUEST authorizer (an IAM policy, context, and the
 * tenant's usage-plan key; a 401 is a thrown 'Unauthorized'). `http-2.0`: an HTTP API authorizer with payload format
 * 2.0 and IAM policy responses (no usage plans; no 401 from the authorizer, see ./refusal.ts).
 */
export type AnswerFormat = 'rest' | 'http-2.0';
