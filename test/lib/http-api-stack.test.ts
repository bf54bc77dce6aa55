import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CONTEXT_HEADER, PUBLIC_CONTEXT, REQUEST_ID_HEADER } from '../../contract/backend-headers';
import { ConfigError } from '../../contract/config-error';
import { deploymentCorsPolicy, parseStackConfig } from '../../contract/stack-config';
import { STACK_OUTPUTS } from '../../contract/stack-outputs';
import { routeAuthorizer } from '../../contract/route-authorizer';
import { SECURITY_SCHEMES } from '../../contract/openapi';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { routeTable } from '../../bench/route-table';

/**
 * The stack with `deployment.api: "http"`: an HTTP API (API Gateway v2) imported from the OpenAPI document of the
 * route table, in one AWS::ApiGatewayV2::Api resource. Template assertions read the document as API Gateway would
 * import it (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html).
 */
const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(__dirname, '../fixtures/targets');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
const targets = JSON.parse(readFileSync(path.join(FIXTURES, 'gatehouse.targets.json'), 'utf8'));
/** The example configuration for an HTTP API (`npx cdk synth -c gatehouse:config=config/gatehouse.http.example.json`). */
const httpExample = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.http.example.json'), 'utf8'));

type Json = Record<string, any>;
const http = (doc: Json, deployment: Json = {}): Json => ({ ...doc, deployment: { ...doc.deployment, ...deployment, api: 'http' } });

function synth(doc: Json, baseDir = ROOT) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc, 'test', baseDir) });
  return { app, stack, template: Template.fromStack(stack) };
}
const resourcesOf = (t: Template, type: string) => Object.values(t.findResources(type)) as Json[];
const bodyOf = (t: Template): Json => {
  const apis = resourcesOf(t, 'AWS::ApiGatewayV2::Api');
  expect(apis).toHaveLength(1);
  return apis[0]!.Properties.Body as Json;
};
const operationKey = (method: string) => (method === 'ANY' ? 'x-amazon-apigateway-any-method' : method.toLowerCase());
const authorizerOf = (body: Json, scheme: string) => body.components.securitySchemes[scheme]['x-amazon-apigateway-authorizer'] as Json;
/** A route's integration as API Gateway imports it: a `$ref` to a shared one in the components resolved. */
const integrationIn = (body: Json, method: string, p: string): Json => {
  const integration = body.paths[p][operationKey(method)]['x-amazon-apigateway-integration'] as Json;
  const ref = /^#\/components\/x-amazon-apigateway-integrations\/(.+)$/.exec(integration.$ref ?? '');
  return ref ? (body.components['x-amazon-apigateway-integrations'][ref[1]!] as Json) : integration;
};
const sharedIntegrations = (body: Json) => Object.keys(body.components['x-amazon-apigateway-integrations'] ?? {});

const { app, stack, template } = synth(httpExample);
const body = bodyOf(template);

describe('GatehouseStack with deployment.api "http"', () => {
  it('is built from config/gatehouse.http.example.json: the REST example with deployment.api "http", and nothing else', () => {
    expect(httpExample).toEqual(http(example));
    expect(parseStackConfig(httpExample).deployment.api).toBe('http');
  });

  describe('the API', () => {
    it('is one AWS::ApiGatewayV2::Api imported from an OpenAPI 3.0 body, failing on import warnings, and no REST API', () => {
      const api = resourcesOf(template, 'AWS::ApiGatewayV2::Api')[0]!;
      expect(api.Properties).toMatchObject({ FailOnWarnings: true });
      expect(body.openapi).toBe('3.0.1');
      expect(Object.keys(template.toJSON().Resources).map((id) => template.toJSON().Resources[id].Type).filter((t: string) => t.startsWith('AWS::ApiGateway::'))).toEqual([]);
      for (const type of ['AWS::ApiGatewayV2::Route', 'AWS::ApiGatewayV2::Integration', 'AWS::ApiGatewayV2::Authorizer']) template.resourceCountIs(type, 0);
    });

    it('has one REQUEST authorizer per identity-source set, each with payload 2.0 and IAM policy answers (no simple responses)', () => {
      const schemes = Object.keys(body.components.securitySchemes).sort();
      expect(schemes).toEqual(['RequestAuthorizer', 'ServiceAuthorizer', 'SignedAuthorizer', 'UserAuthorizer']);
      for (const name of schemes) {
        expect(authorizerOf(body, name)).toMatchObject({ type: 'request', authorizerPayloadFormatVersion: '2.0', enableSimpleResponses: false });
        expect(JSON.stringify(authorizerOf(body, name).authorizerUri)).toContain('AuthorizerHandlerFunction');
      }
      expect(authorizerOf(body, 'UserAuthorizer')).toMatchObject({ identitySource: '$request.header.Authorization', authorizerResultTtlInSeconds: 300 });
      expect(authorizerOf(body, 'ServiceAuthorizer')).toMatchObject({ identitySource: '$request.header.Authorization,$request.header.X-Service-Name', authorizerResultTtlInSeconds: 300 });
      // Signed requests: Authorization required, never cached (each signature is good once).
      expect(authorizerOf(body, 'SignedAuthorizer')).toMatchObject({ identitySource: '$request.header.Authorization', authorizerResultTtlInSeconds: 0 });
      // Cookie routes: no identity source (the credential is in Authorization or the cookie), so no caching either.
      expect(authorizerOf(body, 'RequestAuthorizer')).not.toHaveProperty('identitySource');
      expect(authorizerOf(body, 'RequestAuthorizer').authorizerResultTtlInSeconds).toBe(0);
    });

    it('keys the routes that accept users by Authorization and the tenant header in membership mode', () => {
      const { template: t } = synth(http({ ...example, cors: undefined, membership: {} }));
      const tenant = authorizerOf(bodyOf(t), 'TenantAuthorizer');
      expect(tenant.identitySource).toMatch(/^\$request\.header\.Authorization,\$request\.header\.[A-Za-z-]+$/);
      expect(tenant.authorizerResultTtlInSeconds).toBe(300);
    });

    it('defines every route with its authorizer (none for public ones) and a Lambda proxy integration with payload 1.0', () => {
      const routes = example.routes as Json[];
      for (const r of routes) {
        const op = body.paths[r.path][operationKey(r.method)] as Json;
        const spec = routeAuthorizer({ accepts: r.accepts ?? [], ...(r.public ? { public: true } : {}), ...(r.cookie ? { cookie: r.cookie } : {}) });
        expect(op.security).toEqual(spec ? [{ [SECURITY_SCHEMES[spec.name]]: [] }] : undefined);
        expect(integrationIn(body, r.method, r.path)).toMatchObject({ type: 'aws_proxy', httpMethod: 'POST', payloadFormatVersion: '1.0' });
        expect(JSON.stringify(integrationIn(body, r.method, r.path).uri)).toContain(`Handlers${r.handler.replace(/-/g, '')}Function`);
        // No request validation, no bodies or header parameters modelled (identity sources are the authorizers').
        expect(op).not.toHaveProperty('requestBody');
        expect((op.parameters ?? []).map((p: Json) => `${p.in}:${p.name}`)).toEqual([...String(r.path).matchAll(/\{(\w+)\+?\}/g)].map((m) => `path:${m[1]}`));
      }
      const count = Object.values(body.paths as Json).reduce((n: number, ops) => n + Object.keys(ops as Json).length, 0);
      expect(count).toBe(routes.length);
    });

    it('shares one Lambda integration per handler function (HTTP APIs allow 300 integrations, a quota that cannot be raised)', () => {
      const handlers = new Set((example.routes as Json[]).map((r) => r.handler));
      expect(sharedIntegrations(body).sort()).toEqual([...handlers].map((h) => `handler-${h}`).sort());
      expect(body.paths['/v1/customers'].get['x-amazon-apigateway-integration']).toEqual({ $ref: '#/components/x-amazon-apigateway-integrations/handler-customers' });
    });

    it('puts no REST extensions in the body: no request validators, gateway responses, API key source or OPTIONS mocks', () => {
      const text = JSON.stringify(body);
      for (const ext of ['request-validator', 'gateway-responses', 'api-key-source', '"mock"', 'x-amazon-apigateway-authtype']) expect(text).not.toContain(ext);
      expect(Object.values(body.paths as Json).some((ops) => 'options' in (ops as Json))).toBe(false);
    });
  });

  describe('CORS', () => {
    it("is the HTTP API's own configuration from the cors section, with the route table's methods", () => {
      const policy = deploymentCorsPolicy(parseStackConfig(example).cors, parseStackConfig(example).authorizer)!;
      expect(body['x-amazon-apigateway-cors']).toEqual({
        allowOrigins: ['http://localhost:5173'],
        allowCredentials: true,
        allowHeaders: [...policy.allowHeaders],
        exposeHeaders: [...policy.exposeHeaders],
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        maxAge: 600,
      });
      expect(policy.allowHeaders).toContain('X-CSRF-Token');
    });

    it('is absent without a cors section', () => {
      const { cors: _cors, ...withoutCors } = example;
      const { template: t } = synth(http(withoutCors));
      expect(bodyOf(t)).not.toHaveProperty('x-amazon-apigateway-cors');
    });
  });

  describe('the stage', () => {
    const stage = () => resourcesOf(template, 'AWS::ApiGatewayV2::Stage');

    it('is the named stage, deployed automatically, throttled by default before any authorizer, with JSON access logs', () => {
      expect(stage()).toHaveLength(1);
      expect(stage()[0]!.Properties).toMatchObject({
        StageName: 'prod',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000, DetailedMetricsEnabled: false },
      });
      const format = JSON.parse(stage()[0]!.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ status: '$context.status', authorizerError: '$context.authorizer.error', integrationError: '$context.integrationErrorMessage' });
      expect(JSON.stringify(stage()[0]!.Properties.AccessLogSettings.DestinationArn)).toContain('HttpApiAccessLogs');
    });

    it("takes deployment.throttle and deployment.stageName", () => {
      const { template: t } = synth(http(example, { stageName: 'v2', throttle: { rateLimit: 50, burstLimit: 80 } }));
      expect(resourcesOf(t, 'AWS::ApiGatewayV2::Stage')[0]!.Properties).toMatchObject({
        StageName: 'v2',
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
      });
      expect(JSON.stringify(t.toJSON().Outputs[STACK_OUTPUTS.apiUrl].Value)).toContain('/v2/');
    });
  });

  describe('what an HTTP API does not have', () => {
    it('creates no usage plans, API keys, web ACL, gateway responses or client certificate', () => {
      for (const type of ['AWS::ApiGateway::UsagePlan', 'AWS::ApiGateway::ApiKey', 'AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation', 'AWS::ApiGateway::GatewayResponse', 'AWS::ApiGateway::ClientCertificate']) {
        template.resourceCountIs(type, 0);
      }
    });

    it("does not make the authorizer require a tenant's usage-plan key (there are no usage plans)", () => {
      const rendered = JSON.parse(stack.authorizer.document) as Json;
      expect(rendered.tenants?.requireUsageKey).toBeUndefined();
      // The same configuration on REST requires it.
      const rest = synth(example).stack;
      expect(JSON.parse(rest.authorizer.document).tenants.requireUsageKey).toBe(true);
    });

    it('refuses the settings it cannot honour, naming each field', () => {
      const refusal = (doc: Json) => {
        try {
          parseStackConfig(doc, 'cfg', FIXTURES);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          return (err as Error).message;
        }
        throw new Error('accepted');
      };
      expect(refusal(http(example, { waf: { enabled: true } }))).toMatch(/deployment\.waf\.enabled: AWS WAF cannot be associated with an HTTP API stage/);
      expect(refusal(http({ ...example, tenants: { requireUsageKey: true } }))).toMatch(/tenants\.requireUsageKey: HTTP APIs have no usage plans/);
      expect(refusal(http(example, { cloudWatchRole: true }))).toMatch(/deployment\.cloudWatchRole/);
      const anyRoute = { method: 'ANY', path: '/v1/things/{proxy+}', accepts: ['user'], handler: 'me' };
      expect(refusal(http({ ...example, routes: [...example.routes, anyRoute] }))).toMatch(/routes\[13\] \(ANY \/v1\/things\/\{proxy\+\}\): with cors on an HTTP API/);
      // One integration per backend route: 300 of them and a handler are one too many.
      const backendRoutes = Array.from({ length: 300 }, (_, i) => ({ method: 'GET', path: `/b${i}`, accepts: ['user'], backend: 'inventory' }));
      const tooMany = http({ ...targets, routes: [{ method: 'GET', path: '/health', public: true, handler: 'health' }, ...backendRoutes] });
      expect(refusal(tooMany)).toMatch(/routes: 301 integrations \(one per handler, one per backend route\), but an HTTP API allows 300/);
      expect(() => parseStackConfig({ ...tooMany, routes: backendRoutes }, 'cfg', FIXTURES)).not.toThrow();
      // The same settings are fine on REST.
      expect(() => parseStackConfig({ ...example, deployment: { ...example.deployment, waf: { enabled: true } } })).not.toThrow();
    });
  });

  describe('invoke permissions', () => {
    const permissions = resourcesOf(template, 'AWS::Lambda::Permission').filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const apiRef = `{"Ref":"${Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0]}"}`;

    it("let API Gateway call the authorizer for this API's authorizers only", () => {
      const authorizer = permissions.filter((p) => JSON.stringify(p.Properties.FunctionName).includes('AuthorizerHandler'));
      expect(authorizer).toHaveLength(1);
      expect(JSON.stringify(authorizer[0]!.Properties.SourceArn)).toContain(`:execute-api:`);
      expect(JSON.stringify(authorizer[0]!.Properties.SourceArn)).toContain(`${apiRef},"/authorizers/*"]]}`);
    });

    it('let API Gateway call each handler from any route of this API, one permission per function', () => {
      const handlers = permissions.filter((p) => !JSON.stringify(p.Properties.FunctionName).includes('AuthorizerHandler'));
      expect(handlers).toHaveLength(new Set((example.routes as Json[]).map((r) => r.handler)).size);
      for (const p of handlers) expect(JSON.stringify(p.Properties.SourceArn)).toContain(`${apiRef},"/*/*"]]}`);
    });
  });

  describe('alarms, dashboard and outputs', () => {
    it("alarm on the HTTP API's 5xx metric of the stage, under the same alarm name", () => {
      const api5xx = resourcesOf(template, 'AWS::CloudWatch::Alarm').find((a) => a.Properties.AlarmName === 'Gatehouse-Api5xx')!;
      expect(api5xx.Properties).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum' });
      expect(api5xx.Properties.Dimensions).toEqual([
        { Name: 'ApiId', Value: { Ref: Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0] } },
        { Name: 'Stage', Value: 'prod' },
      ]);
      // No alarm reads a REST API metric.
      expect(resourcesOf(template, 'AWS::CloudWatch::Alarm').filter((a) => /XXError/.test(String(a.Properties.MetricName)))).toEqual([]);
    });

    it('count authorizer failures from the access log as 500s with an authorizer error, never 401s or 403s', () => {
      const patterns = resourcesOf(template, 'AWS::Logs::MetricFilter').map((f) => f.Properties.FilterPattern as string);
      expect(patterns).toContain('{ ($.status = "500") && ($.authorizerError != "-") && ($.authorizerError != "") }');
    });

    it('chart the 4xx, 5xx and Count metrics of the HTTP API', () => {
      const dashboard = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0]!.Properties.DashboardBody);
      for (const name of ['\\"4xx\\"', '\\"5xx\\"', '\\"Count\\"']) expect(dashboard).toContain(name);
      expect(dashboard).not.toContain('XXError');
    });

    it('outputs the API URL, the API id and the table under the keys the command-line tool reads', () => {
      const outputs = template.toJSON().Outputs as Json;
      for (const key of Object.values(STACK_OUTPUTS)) expect(outputs).toHaveProperty(key);
      expect(JSON.stringify(outputs[STACK_OUTPUTS.apiUrl].Value)).toContain('ApiEndpoint');
      expect(outputs[STACK_OUTPUTS.restApiId].Value).toEqual({ Ref: Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0] });
      expect(template.toJSON().Metadata.GatehouseConfig.deployment.api).toBe('http');
    });

    it('refuses stack.api (the REST API) and exposes httpApi instead', () => {
      expect(() => stack.api).toThrow(/deploys an HTTP API/);
      expect(stack.httpApi?.stageName).toBe('prod');
    });
  });

  it('passes cdk-nag AwsSolutions', () => {
    const result = new AwsSolutionsChecks(app).validateScope(app);
    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    expect(stack.node.findAll().length).toBeGreaterThan(10);
  });
});

describe('HTTP backends on an HTTP API', () => {
  // Jest spies CDK's warning print (the test reads it from the annotations).
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const { app: a, stack: s, template: t } = synth(http(targets), FIXTURES);
  const b = bodyOf(t);
  const integrationOf = (method: string, p: string) => integrationIn(b, method, p);

  it('proxies to url + path (path variables and the greedy proxy substituted by name) with the context and request id headers', () => {
    expect(integrationOf('GET', '/v1/stock/{sku}/levels/{warehouse}')).toEqual({
      type: 'http_proxy',
      httpMethod: 'GET',
      uri: 'https://inventory.internal.example.com/api/v1/stock/{sku}/levels/{warehouse}',
      payloadFormatVersion: '1.0',
      requestParameters: {
        [`overwrite:header.${CONTEXT_HEADER}`]: '$context.authorizer.gatehouseContext',
        [`overwrite:header.${REQUEST_ID_HEADER}`]: '$context.requestId',
      },
      timeoutInMillis: 8000,
    });
    expect(integrationOf('ANY', '/v1/catalog/{proxy+}')).toMatchObject({ httpMethod: 'ANY', uri: 'https://inventory.internal.example.com/api/v1/catalog/{proxy+}' });
  });

  it('sends the static public context on a public backend route (no authorizer, no context to map)', () => {
    expect(integrationOf('GET', '/status').requestParameters[`overwrite:header.${CONTEXT_HEADER}`]).toBe(PUBLIC_CONTEXT);
    expect(b.paths['/status'].get.security).toBeUndefined();
  });

  it('asks the authorizer for the backend context, and warns that no client certificate reaches the backend', () => {
    expect(JSON.parse(s.authorizer.document).backendContext).toBe(true);
    const warnings = Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('no client certificate'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toMatch(/VPC link.*shared secret/);
    t.resourceCountIs('AWS::ApiGateway::ClientCertificate', 0);
  });

  it("lets API Gateway call the team's existing function from this API only, and passes cdk-nag", () => {
    const existing = resourcesOf(t, 'AWS::Lambda::Permission').filter((p) => JSON.stringify(p.Properties.FunctionName).includes('billing-api'));
    expect(existing).toHaveLength(1);
    expect(JSON.stringify(existing[0]!.Properties.SourceArn)).toContain('"/*/*"');
    expect(new AwsSolutionsChecks(a).validateScope(a).violations).toEqual([]);
  });
});

describe('an HTTP API at real size', () => {
  // 500 routes in membership mode with CORS: every authorizer kind and the largest document of the example's shapes.
  const doc = http({ ...example, membership: {}, routes: routeTable(example.routes, 500) });
  const { app: a, stack: s, template: t } = synth(doc);

  it('defines the 500 routes in the one API resource and stays under 450 resources and half of the 1 MB template', () => {
    const ops = Object.values(bodyOf(t).paths as Json).reduce((n: number, o) => n + Object.keys(o as Json).length, 0);
    expect(ops).toBe(500);
    expect(Object.keys(t.toJSON().Resources).length).toBeLessThan(450);
    expect(statSync(a.synth().getStackByName(s.stackName).templateFullPath).size).toBeLessThan(512 * 1024);
  });

  it('shares one integration per handler, and warns that 500 routes need the quota "Routes per API" raised', () => {
    expect(sharedIntegrations(bodyOf(t)).length).toBe(new Set((doc.routes as Json[]).map((r) => r.handler)).size);
    const warnings = Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('Routes per API'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('500 routes');
  });

  it('keeps one invoke permission per function', () => {
    const fromApi = resourcesOf(t, 'AWS::Lambda::Permission').filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(fromApi).toHaveLength(1 + new Set((doc.routes as Json[]).map((r) => r.handler)).size);
  });
});
