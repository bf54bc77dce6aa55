import type { RouteConfig } from './config';
import { type RouteAuthorizer, routeAuthorizer } from './route-authorizer';
import type { CorsPolicy } from './cors';
import { preflightOperations } from './openapi-cors';
import { CONTEXT_HEADER, GATEWAY_CONTEXT_KEY, PUBLIC_CONTEXT, REQUEST_ID_HEADER } from './backend-headers';

/**
 * The OpenAPI 3.0 document of a route table: the API a team's callers see (paths, methods, parameters, which
 * credentials and scopes each route takes) and, with {@link OpenApiAws}, the document API Gateway imports to build
 * the whole REST API in one resource (methods, path resources, authorizers, the request validator and the body
 * model), so that an API of hundreds of routes stays far under CloudFormation's 500 resources per stack.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
 */
export type OpenApiDocument = Record<string, unknown> & { readonly paths: Record<string, Record<string, OpenApiOperation>> };
export type OpenApiOperation = Record<string, unknown>;

/** API Gateway's part: where each route goes and how the authorizers are called (values may be CDK tokens). */
export interface OpenApiAws {
  /** The Lambda proxy integration URI of the handler a route names. */
  readonly integrationUri: (handler: string) => string;
  /** The HTTP backend a route names: its base URL and how long API Gateway waits for it. */
  readonly backend?: (name: string) => { readonly url: string; readonly timeoutMs: number };
  /** The Lambda authorizer's invocation URI. */
  readonly authorizerUri: string;
  /** API Gateway's cache of the cached authorizers' answers, in seconds (0 turns it off). */
  readonly resultTtlSeconds: number;
  /** API Gateway's gateway responses by response type (`x-amazon-apigateway-gateway-responses`). */
  readonly gatewayResponses: Readonly<Record<string, unknown>>;
}

export interface OpenApiOptions {
  readonly title: string;
  /** @default '1' */
  readonly version?: string;
  /** Membership mode's tenant header (contract/route-authorizer.ts). */
  readonly tenantHeader?: string;
  /**
   * Routes that require the tenant's usage-plan key (API Gateway counts them against the tenant's plan). The
   * authorizer supplies the key, so only API Gateway's document names it.
   */
  readonly keyed?: (route: RouteConfig) => boolean;
  /** With API Gateway's extensions; without, a plain OpenAPI document for the API's callers. */
  readonly aws?: OpenApiAws;
  /** Browsers on other origins: an OPTIONS operation per path that the gateway answers (contract/openapi-cors.ts). */
  readonly cors?: CorsPolicy;
}

/** Security scheme names: API Gateway names each authorizer after its scheme (part of the deployed API). */
export const SECURITY_SCHEMES: Readonly<Record<RouteAuthorizer['name'], string>> = {
  user: 'UserAuthorizer',
  service: 'ServiceAuthorizer',
  tenant: 'TenantAuthorizer',
  signed: 'SignedAuthorizer',
  request: 'RequestAuthorizer',
};

/**
 * The scheme of API Gateway's usage-plan key, named `api_key` as API Gateway's guide defines it; with the key source
 * AUTHORIZER the authorizer supplies the key. https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-usage-plan-oas.html
 */
export const USAGE_PLAN_KEY_SCHEME = 'api_key';

/** The one request validator every method uses: body and parameters. */
export const REQUEST_VALIDATOR = 'body-and-parameters';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The document of `routes`, in route-table order. */
export function openApiDocument(routes: readonly RouteConfig[], opts: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  const used = new Map<string, RouteAuthorizer>();
  for (const route of routes) {
    const spec = routeAuthorizer(route, opts.tenantHeader);
    if (spec) used.set(spec.name, spec);
    (paths[route.path] ??= {})[operationKey(route.method)] = operation(route, spec, opts);
  }
  if (opts.cors) for (const [path, options] of Object.entries(preflightOperations(routes, opts.cors, !!opts.aws))) paths[path]!.options = options;
  const aws = opts.aws;
  return {
    openapi: '3.0.1',
    info: { title: opts.title, version: opts.version ?? '1', description: 'Guarded by Gatehouse: user JWTs, API keys, service secrets and signed requests' },
    paths,
    components: {
      schemas: { JsonObject: { type: 'object', description: 'Any JSON object' } },
      securitySchemes: {
        ...Object.fromEntries([...used.values()].map((spec) => [SECURITY_SCHEMES[spec.name], securityScheme(spec, aws)])),
        ...(routes.some((r) => opts.keyed?.(r)) ? { [USAGE_PLAN_KEY_SCHEME]: { type: 'apiKey', name: 'x-api-key', in: 'header', description: "The tenant's usage-plan key, supplied by the authorizer: callers never send it" } } : {}),
      },
    },
    ...(aws
      ? {
          'x-amazon-apigateway-api-key-source': 'AUTHORIZER',
          'x-amazon-apigateway-request-validators': { [REQUEST_VALIDATOR]: { validateRequestBody: true, validateRequestParameters: true } },
          'x-amazon-apigateway-request-validator': REQUEST_VALIDATOR,
          'x-amazon-apigateway-gateway-responses': aws.gatewayResponses,
        }
      : {}),
  };
}

/** The operation key of a method: API Gateway's extension for ANY. */
const operationKey = (method: string) => (method === 'ANY' ? 'x-amazon-apigateway-any-method' : method.toLowerCase());

/** One route's operation: its parameters, the authorizer (and usage-plan key) it needs, its body and its handler. */
function operation(route: RouteConfig, spec: RouteAuthorizer | undefined, opts: OpenApiOptions): OpenApiOperation {
  const parameters = [
    ...pathParameters(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    // The authorizers' identity sources: API Gateway answers 401 without calling the authorizer when one is missing.
    ...(spec?.headers ?? []).map((name) => ({ name, in: 'header', required: true, schema: { type: 'string' } })),
  ];
  const security = spec ? { [SECURITY_SCHEMES[spec.name]]: [], ...(opts.keyed?.(route) ? { [USAGE_PLAN_KEY_SCHEME]: [] } : {}) } : undefined;
  return {
    summary: describe(route),
    ...(parameters.length ? { parameters } : {}),
    ...(security ? { security: [security] } : {}),
    ...(BODY_METHODS.has(route.method) ? { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/JsonObject' } } } } } : {}),
    responses: { '200': { description: "The handler's answer" } },
    ...(opts.aws ? { 'x-amazon-apigateway-integration': integration(route, opts.aws) } : {}),
  };
}

/** A route's integration: its handler function (Lambda proxy), or its HTTP backend (HTTP proxy). */
function integration(route: RouteConfig, aws: OpenApiAws): Record<string, unknown> {
  if (route.backend === undefined) {
    return { type: 'aws_proxy', httpMethod: 'POST', uri: aws.integrationUri(route.handler!), passthroughBehavior: 'when_no_match' };
  }
  if (!aws.backend) throw new Error(`openApiDocument: route ${route.method} ${route.path} goes to backend "${route.backend}", but no backends were given`);
  const backend = aws.backend(route.backend);
  return {
    type: 'http_proxy',
    httpMethod: route.method,
    // `{proxy+}` is the greedy parameter `proxy` in the method; the integration path names it `{proxy}`.
    uri: `${backend.url}${route.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\+\}/g, '{$1}')}`,
    requestParameters: backendRequestParameters(route),
    passthroughBehavior: 'when_no_match',
    timeoutInMillis: backend.timeoutMs,
  };
}

/**
 * The request parameters of a backend route: each path parameter into the backend's path, and the caller's context
 * as the gateway's headers (contract/backend-headers.ts): X-Gatehouse-Context from the authorizer's context key
 * `gatehouseContext` (the encoded context, set on every Allow and never empty), or on a public route (no
 * authorizer, no context) the static PUBLIC_CONTEXT (`{"kind":"public"}` encoded, single-quoted as static values
 * are); and X-Gatehouse-Request-Id from the request id. Parameter mapping applies to the integration request of
 * proxy integrations too, from context variables or static values
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping-sources.html). What API
 * Gateway does with a mapped value that is empty is not documented (left out, a client's own copy would pass
 * through), so no mapped value here ever is: the one documented case, a non-empty value, sets the header whatever a
 * client sent. There is no header per context key for the same reason (most keys are empty for most callers).
 */
export function backendRequestParameters(route: Pick<RouteConfig, 'path' | 'public'>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of pathParameters(route.path)) params[`integration.request.path.${name}`] = `method.request.path.${name}`;
  params[`integration.request.header.${CONTEXT_HEADER}`] = route.public ? `'${PUBLIC_CONTEXT}'` : `context.authorizer.${GATEWAY_CONTEXT_KEY}`;
  params[`integration.request.header.${REQUEST_ID_HEADER}`] = 'context.requestId';
  return params;
}

/** Who may call a route and with which scopes, in words (OpenAPI 3.0 lets only OAuth2 schemes carry scopes). */
function describe(route: RouteConfig): string {
  if (route.public) return 'Public';
  const scopes = route.scopes.length ? `; scopes: ${route.scopes.join(', ')}` : '';
  const cookie = route.cookie ? `; or the ${route.cookie} cookie` : '';
  return `Accepts: ${route.accepts.join(', ')}${scopes}${cookie}`;
}

/** The names of a path's parameters (`{id}`, and `proxy` for a greedy `{proxy+}`). */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\+?\}/g)].map((m) => m[1]!);
}

/**
 * An authorizer as a security scheme. API Gateway reads a Lambda authorizer from an `apiKey` scheme with its
 * extensions; the uncached ones call the function for every request: the signed routes' one when Authorization
 * is present, the cookie routes' one (no identity source) whatever headers the request carries.
 */
function securityScheme(spec: RouteAuthorizer, aws: OpenApiAws | undefined): Record<string, unknown> {
  const scheme = { type: 'apiKey', name: spec.headers[0] ?? 'Authorization', in: 'header', description: schemeDescription(spec) };
  if (!aws) return scheme;
  return {
    ...scheme,
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': {
      type: 'request',
      authorizerUri: aws.authorizerUri,
      authorizerResultTtlInSeconds: spec.cached ? aws.resultTtlSeconds : 0,
      ...(spec.headers.length ? { identitySource: spec.headers.map((h) => `method.request.header.${h}`).join(',') } : {}),
    },
  };
}

function schemeDescription(spec: RouteAuthorizer): string {
  switch (spec.name) {
    case 'user':
      return 'Authorization: Bearer <user JWT or API key>';
    case 'service':
      return 'Authorization: Bearer <service secret>, with X-Service-Name';
    case 'tenant':
      return `Authorization: Bearer <user JWT or API key>, with ${spec.headers[1]} naming the tenant`;
    case 'signed':
      return 'Authorization: GH-HMAC-SHA256 signature (or a Bearer credential the route also accepts)';
    case 'request':
      return 'Authorization (Bearer credential or signature) or the route\'s session cookie';
  }
}
