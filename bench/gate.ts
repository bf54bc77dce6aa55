/**
 * Section "identity-source gate": authorizer invocations per 1,000 requests that carry no credential, on cookie
 * and signed routes, with the gate (contract/route-authorizer.ts as it is) and without it (the same routes with
 * no identity source, the rule before issue 18). Counted by the local gateway's authorizer step
 * (local/authorizer-cache.ts: identity sources checked, then the authorizer invoked), with a stub authorizer that
 * refuses everything, as the real one refuses a request without a credential. No AWS, no HTTP: well under a second.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RouteConfig } from '../contract/config';
import { type RouteAuthorizer, routeAuthorizer } from '../contract/route-authorizer';
import { restAuthorizerCache } from '../local/authorizer-cache';
import type { GatewayRequest } from '../local/gateway-request';
import { isRefusal } from '../local/gateway-response';
import type { SectionContext } from './section';

const REQUESTS = 1000;

/** One request of the flood on `route`, with `headers` (none: anonymous). */
function request(route: RouteConfig, i: number, headers: Record<string, string>): GatewayRequest {
  const reqPath = route.path.replace(/\{[^}]+\}/g, 'x');
  return {
    requestId: `bench-${i}`,
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:bench/local/${route.method}${reqPath}`,
    fields: {
      resource: route.path,
      path: reqPath,
      httpMethod: route.method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
    },
    requestContext: {},
  };
}

/** Authorizer invocations for `REQUESTS` requests with `headers` on `route`, guarded by `guard`. */
async function invocations(route: RouteConfig, guard: RouteAuthorizer, headers: Record<string, string>): Promise<number> {
  const refuse = async (): Promise<APIGatewayAuthorizerResult> => {
    throw new Error('Unauthorized');
  };
  const gateway = restAuthorizerCache(refuse as (e: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>, 300, Date.now);
  for (let i = 0; i < REQUESTS; i++) {
    const answer = await gateway.decide(guard, request(route, i, headers));
    // The figure is only worth printing if every request was refused as API Gateway would: 401 UNAUTHORIZED.
    if (!isRefusal(answer) || answer.refused !== 'UNAUTHORIZED') throw new Error(`gate: expected a 401 for ${route.method} ${route.path}, got ${JSON.stringify(answer)}`);
  }
  return gateway.calls;
}

export async function gateSection(ctx: SectionContext): Promise<string> {
  const example = JSON.parse(readFileSync(path.join(ctx.root, 'config/gatehouse.example.json'), 'utf8')) as { routes: RouteConfig[] };
  const cookieRoute = example.routes.find((r) => r.cookie !== undefined && r.method === 'POST')!;
  const signedRoute = example.routes.find((r) => r.accepts?.includes('signed') && r.cookie === undefined)!;
  const floods: [string, Record<string, string>][] = [
    ['no credential at all', {}],
    ['a junk `Authorization: Bearer x`', { Authorization: 'Bearer x' }],
  ];
  const rows: string[] = [];
  for (const route of [cookieRoute, signedRoute]) {
    const gated = routeAuthorizer(route)!;
    const ungated: RouteAuthorizer = { ...gated, headers: [] };
    for (const [label, headers] of floods) {
      const without = await invocations(route, ungated, headers);
      const withGate = await invocations(route, gated, headers);
      rows.push(`| ${route.method} ${route.path} (${route.cookie ? 'cookie' : 'signed'}) | ${label} | ${without} | ${withGate} |`);
    }
  }
  ctx.log('gate: counted');
  return [
    `Authorizer invocations per ${REQUESTS.toLocaleString('en-US')} requests, counted by the local gateway's authorizer step (identity sources, then the authorizer; a stub authorizer that refuses everything). "Without the gate" is the same route with no identity source, the rule before issue 18. Every request is answered 401 either way; the gate decides whether the authorizer Lambda runs (and is billed) for it.`,
    '',
    '| route | requests | without the gate | with the gate |',
    '| --- | --- | ---: | ---: |',
    ...rows,
    '',
    'A cookie route cannot be gated: its token comes in Authorization or in the cookie, and API Gateway can only require every identity source. A request with any Authorization value passes the gate: the gate stops credential-less floods only; throttling and WAF bound the rest.',
  ].join('\n');
}
