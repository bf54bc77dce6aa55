import type { RouteConfig } from './config';
import { type CorsPolicy, preflightMethods } from './cors';

/**
 * The deployed API's preflights: with a CORS policy, every path that has routes gets an OPTIONS operation that
 * API Gateway answers itself, with no authorizer and no security (browsers send preflights without credentials,
 * so an authorizer would refuse them all), through a MOCK integration answering 204.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html
 *
 * The Access-Control-* headers are set only for an allowed origin: static response parameters cannot depend on the
 * request, so the integration response's mapping template (VTL, unlike a gateway response's) compares the
 * request's Origin with the list and sets the headers through `$context.responseOverride.header.*`. An override
 * may be applied once per header; each is set once, in one `#if`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html
 * The local gateway answers the same preflights with preflightHeaders (local/gateway.ts).
 */

/** The headers a preflight's answer may carry, declared on its method response. */
export const PREFLIGHT_RESPONSE_HEADERS = [
  'Access-Control-Allow-Origin',
  'Access-Control-Allow-Credentials',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Headers',
  'Access-Control-Max-Age',
  'Vary',
] as const;

/** The OPTIONS operation of each path that has routes, by path; with `aws`, API Gateway's mock integration too. */
export function preflightOperations(routes: readonly RouteConfig[], policy: CorsPolicy, aws: boolean): Record<string, Record<string, unknown>> {
  const paths = [...new Set(routes.map((r) => r.path))];
  return Object.fromEntries(paths.map((path) => [path, preflightOperation(path, preflightMethods(routes, path), policy, aws)]));
}

function preflightOperation(path: string, methods: readonly string[], policy: CorsPolicy, aws: boolean): Record<string, unknown> {
  const names = [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\+?\}/g)].map((m) => m[1]!);
  return {
    // Short texts: this operation is repeated on every path, and the document is most of the stack's template.
    summary: 'CORS preflight',
    ...(names.length ? { parameters: names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) } : {}),
    responses: {
      '204': {
        description: 'CORS headers, for an allowed origin only',
        headers: Object.fromEntries(PREFLIGHT_RESPONSE_HEADERS.map((h) => [h, { schema: { type: 'string' } }])),
      },
    },
    ...(aws ? { 'x-amazon-apigateway-integration': mockIntegration(methods, policy) } : {}),
  };
}

/**
 * The mock integration: the request template selects 204; the response's `Vary: Origin` is static (the answer
 * depends on the Origin whenever the policy lists origins), the rest comes from {@link preflightTemplate}.
 */
function mockIntegration(methods: readonly string[], policy: CorsPolicy): Record<string, unknown> {
  return {
    type: 'mock',
    // No passthroughBehavior: API Gateway's default (WHEN_NO_MATCH) uses this template for a preflight without a body.
    requestTemplates: { 'application/json': '{"statusCode": 204}' },
    responses: {
      default: {
        statusCode: '204',
        ...(policy.origins === '*' ? {} : { responseParameters: { 'method.response.header.Vary': "'Origin'" } }),
        responseTemplates: { 'application/json': preflightTemplate(methods, policy) },
      },
    },
  };
}

/**
 * The integration response's VTL: reads the request's Origin (as sent, `Origin` or `origin`), and for an allowed one
 * overrides the Access-Control-* headers. One line, so the 204 has an empty body. Every value placed in the template
 * is checked to hold no character VTL or the quoting could read as code.
 */
export function preflightTemplate(methods: readonly string[], policy: CorsPolicy): string {
  const set = (header: string, value: string) => `#set($context.responseOverride.header.${header}=${value})`;
  const quoted = (value: string) => `'${vtlSafe(value)}'`;
  const readOrigin = "#set($o=$input.params().header.get('Origin'))#if(\"$!o\"==\"\")#set($o=$input.params().header.get('origin'))#end";
  const allowed = policy.origins === '*' ? 'true' : policy.origins.map((o) => `$o==${quoted(o)}`).join('||');
  const headers = [
    set('Access-Control-Allow-Origin', policy.origins === '*' ? "'*'" : '$o'),
    ...(policy.credentials ? [set('Access-Control-Allow-Credentials', "'true'")] : []),
    set('Access-Control-Allow-Methods', quoted(methods.join(', '))),
    set('Access-Control-Allow-Headers', quoted(policy.allowHeaders.join(', '))),
    set('Access-Control-Max-Age', quoted(String(policy.maxAgeSeconds))),
  ];
  return `${readOrigin}#if(${allowed})${headers.join('')}#end`;
}

/** A value for a single-quoted VTL string: origins, header names and method lists only. */
function vtlSafe(value: string): string {
  if (!/^[A-Za-z0-9:/.,* _-]*$/.test(value)) throw new Error(`CORS value ${JSON.stringify(value)} cannot be placed in the preflight's mapping template`);
  return value;
}
