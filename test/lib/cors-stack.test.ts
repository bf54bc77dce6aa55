import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CORS_FILE, corsPolicyFromJson } from '../../contract/cors';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { GATEWAY_RESPONSES } from '../../lib/gateway-responses';
import { apiBody, apiGatewayResponses, apiMethods } from '../support/api-definition';

/**
 * The stack's CORS, from the example configuration (`cors`: http://localhost:5173 with credentials): an OPTIONS
 * mock method per path that has routes, without authorizer, answering only an allowed origin with the headers; the
 * CORS headers on every gateway response; the policy bundled with every handler.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
const APP = 'http://localhost:5173';

function synth(doc: Record<string, unknown>) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) });
  return { stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth(example);
const paths = () => apiBody(template).paths as Record<string, Record<string, any>>;

describe('the preflights (OPTIONS)', () => {
  it('exist on every path that has routes, and nowhere else', () => {
    const routePaths = [...new Set(example.routes.map((r: { path: string }) => r.path))].sort();
    const options = apiMethods(template).filter((m) => m.HttpMethod === 'OPTIONS');
    expect(options.map((m) => m.Path).sort()).toEqual(routePaths);
  });

  it('need no credential: no authorizer, no usage-plan key, a MOCK integration', () => {
    for (const m of apiMethods(template).filter((x) => x.HttpMethod === 'OPTIONS')) {
      expect(m).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false, IntegrationType: 'mock' });
      expect(m.Authorizer).toBeUndefined();
    }
    for (const ops of Object.values(paths())) expect(ops.options.security).toBeUndefined();
  });

  it('answer 204 with the Access-Control headers set in VTL for the allowed origin only, and declare them', () => {
    const op = paths()['/v1/customers']!.options;
    const integration = op['x-amazon-apigateway-integration'];
    expect(integration.requestTemplates).toEqual({ 'application/json': '{"statusCode": 204}' });
    const response = integration.responses.default;
    expect(response.statusCode).toBe('204');
    expect(response.responseParameters).toEqual({ 'method.response.header.Vary': "'Origin'" });
    const vtl: string = response.responseTemplates['application/json'];
    expect(vtl).toContain(`#if($o=='${APP}')`);
    expect(vtl).toContain('#set($context.responseOverride.header.Access-Control-Allow-Origin=$o)');
    expect(vtl).toContain("#set($context.responseOverride.header.Access-Control-Allow-Credentials='true')");
    expect(vtl).toContain("#set($context.responseOverride.header.Access-Control-Allow-Methods='GET, POST, OPTIONS')");
    // The CSRF header (cookie routes' POST) is allowed with the ones Gatehouse reads.
    expect(vtl).toMatch(/Access-Control-Allow-Headers='Authorization, Content-Type, X-Service-Name, X-Content-SHA256, X-CSRF-Token'/);
    expect(vtl).toContain("#set($context.responseOverride.header.Access-Control-Max-Age='600')");
    // Every override sits inside the #if: an origin not in the list gets none of them.
    expect(vtl.indexOf('#if($o==')).toBeLessThan(vtl.indexOf('responseOverride'));
    expect(vtl.endsWith('#end')).toBe(true);
    expect(Object.keys(op.responses['204'].headers).sort()).toEqual(
      ['Access-Control-Allow-Credentials', 'Access-Control-Allow-Headers', 'Access-Control-Allow-Methods', 'Access-Control-Allow-Origin', 'Access-Control-Max-Age', 'Vary'].sort(),
    );
  });

  it('declare the path parameters of their path', () => {
    expect(paths()['/v1/customers/{id}']!.options.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(paths()['/v1/customers/{id}']!.options['x-amazon-apigateway-integration'].responses.default.responseTemplates['application/json']).toContain(
      "'GET, PATCH, DELETE, OPTIONS'",
    );
  });
});

describe('the gateway responses', () => {
  it('all carry the one allowed origin, credentials and the exposed headers, as static values', () => {
    const responses = apiGatewayResponses(template);
    expect(Object.keys(responses).sort()).toEqual(GATEWAY_RESPONSES.map((r) => r.type).sort());
    for (const [type, r] of Object.entries(responses)) {
      expect([type, r.responseParameters]).toEqual([
        type,
        expect.objectContaining({
          'gatewayresponse.header.Access-Control-Allow-Origin': `'${APP}'`,
          'gatewayresponse.header.Access-Control-Allow-Credentials': "'true'",
          'gatewayresponse.header.Access-Control-Expose-Headers': "'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, x-amzn-RequestId'",
        }),
      ]);
    }
    // Their own headers stay.
    expect(responses.UNAUTHORIZED!.responseParameters['gatewayresponse.header.WWW-Authenticate']).toBe('\'Bearer realm="gatehouse"\'');
  });

  it('with several origins carry the first, never the request Origin echoed back', () => {
    const { template: several } = synth({ ...example, cors: { allowOrigins: ['https://app.example.com', APP], allowCredentials: true } });
    for (const r of Object.values(apiGatewayResponses(several))) {
      expect(r.responseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe("'https://app.example.com'");
      expect(JSON.stringify(r.responseParameters)).not.toContain('method.request');
    }
  });

  it('with any origin carry "*" and no credentials', () => {
    const { template: any } = synth({ ...example, cors: { allowOrigins: ['*'] }, csrf: { allowedOrigins: [APP] } });
    for (const r of Object.values(apiGatewayResponses(any))) {
      expect(r.responseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe("'*'");
      expect(r.responseParameters['gatewayresponse.header.Access-Control-Allow-Credentials']).toBeUndefined();
    }
  });
});

describe('the handlers', () => {
  it(`each get the policy in ${CORS_FILE}, with the CSRF header allowed`, () => {
    const names = Object.keys(stack.handlers.functions);
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) {
      const policy = corsPolicyFromJson(stack.handlers.bundledFiles[name]![CORS_FILE]!, CORS_FILE);
      expect(policy).toMatchObject({ origins: [APP], credentials: true, maxAgeSeconds: 600 });
      expect(policy.allowHeaders).toContain('X-CSRF-Token');
    }
  });
});

describe('without a cors section', () => {
  const { cors: _cors, ...plain } = example;
  const { stack: noCors, template: noCorsTemplate } = synth(plain);

  it('has no OPTIONS method, no CORS header on the gateway responses and no bundled policy', () => {
    expect(apiMethods(noCorsTemplate).filter((m) => m.HttpMethod === 'OPTIONS')).toEqual([]);
    expect(JSON.stringify(apiGatewayResponses(noCorsTemplate))).not.toContain('Access-Control');
    for (const files of Object.values(noCors.handlers.bundledFiles)) expect(files[CORS_FILE]).toBeUndefined();
  });
});
