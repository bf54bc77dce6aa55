import type { RouteConfig } from './config';
import type { CorsPolicy } from './cors';
import { CONTEXT_HEADER, GATEWAY_CONTEXT_KEY, PUBLIC_CONTEXT, REQUEST_ID_HEADER } from './backend-headers';
import { type OpenApiDocument, SECURITY_SCHEMES, openApiDocument } from './openapi';
import { type RouteAuthorizer, routeAuthorizer } from './route-authorizer';

/**
 * The OpenAPI 3.0 document an HTTP API (API Gateway v2, `deployment.api: "http"`) is imported from: the same paths,
 * operations and security schemes as the REST API's document (contract/openapi.ts), with the HTTP API's own
 * extensions, so that the whole API (routes, integrations, authorizers, CORS) is one `AWS::ApiGatewayV2::Api`
 * resource whatever the number of routes, as on REST.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html
 *
 * The REST-only parts are not written: no request validators (HTTP APIs validate nothing; the handlers validate
 * bodies themselves), no gateway responses, no usage-plan key, no OPTIONS mock methods (HTTP APIs have no mock
 * integration; their own CORS configuration answers preflights).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html
 */

/** API Gateway's part of an HTTP API's document (values may be CDK tokens). */
export interface HttpApiAws {
  /** The Lambda proxy integration URI of the handler a route names. */
  readonly integrationUri: (handler: string) => string;
  /** The HTTP backend a route names: its base URL and how long API Gateway waits for it. */
  readonly backend?: (name: string) => { readonly url: string; readonly timeoutMs: number };
  /** The Lambda authorizer's invocation URI. */
  readonly authorizerUri: string;
  /** The cached authorizers' result TTL in seconds (0 turns caching off). */
  readonly resultTtlSeconds: number;
}

export interface HttpApiDocumentOptions {
  readonly title: string;
  /** Membership mode's tenant header (contract/route-authorizer.ts). */
  readonly tenantHeader?: string;
  /** Browsers on other origins: the HTTP API's own CORS configuration (`x-amazon-apigateway-cors`). */
  readonly cors?: CorsPolicy;
  readonly aws: HttpApiAws;
}

/**
 * Lambda integrations use payload format 1.0: the handlers (the built-in ones and the team's, written for REST's
 * Lambda proxy event) get the same event shape on both kinds of API, and the authorizer's context reaches them
 * (under `requestContext.authorizer.lambda`, which lambdas/shared/auth-context.ts reads).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export const HTTP_API_LAMBDA_PAYLOAD_FORMAT = '1.0';

/**
 * The authorizer's payload format: 2.0, answered with IAM policies (never simple responses). API Gateway reuses a
 * cached answer "for all routes of an API that use the authorizer" (http-api-lambda-authorizer.md, Caching): a
 * simple `isAuthorized: true` would then allow every route of that authorizer to whoever got it for one route,
 * while the IAM policy the authorizer computes from the route table lists exactly the routes the principal may call
 * (lambdas/authorizer/policy.ts), so one cached answer stays right for every route it is reused on, as on REST.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
 */
export const HTTP_API_AUTHORIZER_PAYLOAD_FORMAT = '2.0';

/**
 * API Gateway allows 300 integrations per HTTP API, a quota that cannot be raised (and 300 routes, which can).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
export const MAX_HTTP_API_INTEGRATIONS = 300;
export const DEFAULT_MAX_HTTP_API_ROUTES = 300;

/**
 * The integrations an HTTP API of `routes` has: one per handler function, shared by every route that names it (an
 * `x-amazon-apigateway-integrations` component), and one per backend route (its URI holds the route's path).
 */
export function httpApiIntegrationCount(routes: readonly { readonly handler?: string | undefined; readonly backend?: string | undefined }[]): number {
  return new Set(routes.flatMap((r) => (r.backend === undefined && r.handler !== undefined ? [r.handler] : []))).size + routes.filter((r) => r.backend !== undefined).length;
}

/** The component name of a handler's shared Lambda integration. */
const handlerIntegration = (handler: string) => `handler-${handler}`;

/** The document of `routes` for an HTTP API, in route-table order. */
export function httpApiDocument(routes: readonly RouteConfig[], opts: HttpApiDocumentOptions): OpenApiDocument {
  const plain = openApiDocument(routes, { title: opts.title, ...(opts.tenantHeader ? { tenantHeader: opts.tenantHeader } : {}) });
  const used = new Map<string, RouteAuthorizer>();
  const paths: Record<string, Record<string, Record<string, unknown>>> = {};
  const integrations: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const spec = routeAuthorizer(route, opts.tenantHeader);
    if (spec) used.set(SECURITY_SCHEMES[spec.name], spec);
    const key = route.method === 'ANY' ? 'x-amazon-apigateway-any-method' : route.method.toLowerCase();
    const { requestBody: _body, parameters, ...operation } = plain.paths[route.path]![key]!;
    // Path parameters only: the identity sources are the authorizers' (an HTTP API validates no header parameter).
    const pathParams = ((parameters ?? []) as { in: string }[]).filter((p) => p.in === 'path');
    let integration: Record<string, unknown>;
    if (route.backend === undefined) {
      const name = handlerIntegration(route.handler!);
      integrations[name] ??= lambdaIntegration(opts.aws.integrationUri(route.handler!));
      integration = { $ref: `#/components/x-amazon-apigateway-integrations/${name}` };
    } else {
      integration = backendIntegration({ ...route, backend: route.backend }, opts.aws);
    }
    // requestBody is left out: HTTP APIs validate no body (an import "info"), and the document is most of the template.
    (paths[route.path] ??= {})[key] = { ...operation, ...(pathParams.length ? { parameters: pathParams } : {}), 'x-amazon-apigateway-integration': integration };
  }
  const components = plain.components as { securitySchemes: Record<string, Record<string, unknown>> };
  const securitySchemes = Object.fromEntries(
    Object.entries(components.securitySchemes).map(([name, scheme]) => [name, { ...scheme, 'x-amazon-apigateway-authorizer': httpAuthorizer(used.get(name)!, opts.aws) }]),
  );
  return {
    openapi: plain.openapi,
    info: plain.info,
    paths,
    components: { securitySchemes, ...(Object.keys(integrations).length ? { 'x-amazon-apigateway-integrations': integrations } : {}) },
    ...(opts.cors ? { 'x-amazon-apigateway-cors': httpApiCors(opts.cors, routes) } : {}),
  };
}

/**
 * A Lambda REQUEST authorizer of an HTTP API: payload 2.0 with IAM policy answers (HTTP_API_AUTHORIZER_PAYLOAD_FORMAT),
 * the same identity sources as on REST (contract/route-authorizer.ts) as `$request.header.<name>`. API Gateway caches
 * only an authorizer with at least one identity source; one without (the cookie routes') and the signed routes' one
 * have a TTL of 0, so the authorizer decides every request.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html
 */
export function httpAuthorizer(spec: RouteAuthorizer, aws: Pick<HttpApiAws, 'authorizerUri' | 'resultTtlSeconds'>): Record<string, unknown> {
  const cached = spec.cached && spec.headers.length > 0;
  return {
    type: 'request',
    authorizerUri: aws.authorizerUri,
    authorizerPayloadFormatVersion: HTTP_API_AUTHORIZER_PAYLOAD_FORMAT,
    enableSimpleResponses: false,
    ...(spec.headers.length ? { identitySource: spec.headers.map((h) => `$request.header.${h}`).join(',') } : {}),
    authorizerResultTtlInSeconds: cached ? aws.resultTtlSeconds : 0,
  };
}

/**
 * A handler function's integration (Lambda proxy, payload 1.0), defined once in the document's components and
 * referenced by every route of that handler, so the API has one integration per function, not one per route.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-extensions-integrations.html
 */
function lambdaIntegration(uri: string): Record<string, unknown> {
  return { type: 'aws_proxy', httpMethod: 'POST', uri, payloadFormatVersion: HTTP_API_LAMBDA_PAYLOAD_FORMAT };
}

/** A backend route's integration (HTTP proxy to the backend's URL + the route's path). */
function backendIntegration(route: RouteConfig & { readonly backend: string }, aws: HttpApiAws): Record<string, unknown> {
  if (!aws.backend) throw new Error(`httpApiDocument: route ${route.method} ${route.path} goes to backend "${route.backend}", but no backends were given`);
  const backend = aws.backend(route.backend);
  return {
    type: 'http_proxy',
    httpMethod: route.method,
    // The route's path variables, greedy `{proxy+}` included, are substituted into the URI by name (the greedy one
    // written `{proxy+}` there too). https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-http.html
    uri: `${backend.url}${route.path}`,
    // HTTP integrations take payload format 1.0 only (api-gateway-swagger-extensions-integration.md).
    payloadFormatVersion: '1.0',
    requestParameters: httpBackendRequestParameters(route),
    timeoutInMillis: backend.timeoutMs,
  };
}

/**
 * The request parameters of a backend route on an HTTP API: the caller's context and the request id as the
 * gateway's own headers, overwriting whatever a client sent under those names (contract/backend-headers.ts).
 * `overwrite:header.<name>` takes a context variable (`$context.authorizer.<key>` is the authorizer's context) or a
 * static value; neither header is reserved.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html
 */
export function httpBackendRequestParameters(route: Pick<RouteConfig, 'public'>): Record<string, string> {
  // Path parameters need no mapping: HTTP_PROXY substitutes `{name}` (and `{proxy+}`) in the integration URI.
  return {
    [`overwrite:header.${CONTEXT_HEADER}`]: route.public ? PUBLIC_CONTEXT : `$context.authorizer.${GATEWAY_CONTEXT_KEY}`,
    [`overwrite:header.${REQUEST_ID_HEADER}`]: '$context.requestId',
  };
}

/**
 * The HTTP API's CORS configuration from the deployment's policy (contract/cors.ts): the gateway answers preflights
 * itself (no OPTIONS route), and adds the headers to the integrations' answers, ignoring any CORS headers a handler
 * or backend sends. The methods are those of the whole route table: an HTTP API's CORS configuration is one for the
 * API, not per path. AWS documents the headers on integration responses only, not on the answers an authorizer
 * refusal produces (401, 403, 500): a browser may see those as CORS errors.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 */
export function httpApiCors(policy: CorsPolicy, routes: readonly { readonly method: string }[]): Record<string, unknown> {
  const methods = routes.some((r) => r.method === 'ANY') ? ['*'] : [...new Set([...routes.map((r) => r.method), 'OPTIONS'])];
  return {
    allowOrigins: policy.origins === '*' ? ['*'] : [...policy.origins],
    allowCredentials: policy.credentials,
    allowHeaders: [...policy.allowHeaders],
    exposeHeaders: [...policy.exposeHeaders],
    allowMethods: methods,
    maxAge: policy.maxAgeSeconds,
  };
}
