import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { CONFIG_METADATA_KEY, STACK_OUTPUTS } from '../../contract/stack-outputs';
import { apiResourceCount } from '../../lib/gatehouse-api';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiBody, apiMethods } from '../support/api-definition';
import { routeTable as generatedRoutes } from '../../bench/route-table';

/**
 * A real-size API within AWS's limits. A mid-size SaaS API has 100 to 300 routes; this synthesizes 500 and holds
 * the stack to the limits AWS applies at deploy time, which `cdk synth` does not check:
 * - Lambda: 4 KB for all of a function's environment variables; 20 KB of resource-based policy per function
 *   (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
 * - CloudFormation: 500 resources per stack (kept under 450 here, room for a team's own), and 1 MB for a template
 *   uploaded through S3, as the CDK CLI does (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html);
 * - API Gateway: 300 resources per REST API by default, 10 authorizers per API
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
 * Before the API was defined by its OpenAPI document, 60 routes broke the first two and 150 failed synth outright.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

const MAX_ENVIRONMENT_BYTES = 4 * 1024;
const MAX_RESOURCE_POLICY_BYTES = 20 * 1024;
const MAX_STACK_RESOURCES = 450;
const MAX_TEMPLATE_BYTES = 1024 * 1024;

const routeTable = (count: number) => generatedRoutes(example.routes, count);

function synth(doc: Record<string, unknown>) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any> };
const resourcesOf = (t: Template) => Object.entries(t.toJSON().Resources as Record<string, Resource>);

/** A function's environment in bytes, as Lambda counts it (names and values); a deploy-time value counts as 256. */
function environmentBytes(fn: Resource): number {
  const vars = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
  return Object.entries(vars).reduce((n, [k, v]) => n + k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 256), 0);
}

/**
 * Each function's resource-based policy in bytes, over-estimated: every AWS::Lambda::Permission is one statement,
 * with its source ARN still spelled as an intrinsic (longer than the ARN it resolves to) and a 64-character function
 * name in a long Region.
 */
function resourcePolicyBytes(t: Template): Map<string, number> {
  const byFunction = new Map<string, number>();
  for (const [id, r] of resourcesOf(t).filter(([, x]) => x.Type === 'AWS::Lambda::Permission')) {
    const statement = {
      Sid: id,
      Effect: 'Allow',
      Principal: { Service: r.Properties.Principal },
      Action: r.Properties.Action,
      Resource: `arn:aws:lambda:ap-southeast-2:123456789012:function:${'f'.repeat(64)}`,
      Condition: { ArnLike: { 'AWS:SourceArn': r.Properties.SourceArn } },
    };
    const fn = JSON.stringify(r.Properties.FunctionName);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + JSON.stringify(statement).length);
  }
  return byFunction;
}

/**
 * The example without its `cors` section, and with it. CORS adds an OPTIONS operation to every path (its mock
 * integration's VTL and declared headers, about 1.3 KB each, which API Gateway's import gives no way to share):
 * 500 routes on 204 paths take about 720 KB of template instead of 440 KB, so that case is held to three quarters
 * of CloudFormation's 1 MB rather than half.
 */
const { cors: _cors, ...withoutCors } = example;

describe.each([
  ['500 routes of users and API keys', { ...withoutCors, routes: routeTable(500) }, MAX_TEMPLATE_BYTES / 2],
  ['500 routes in membership mode, with services and signed webhooks', { ...withoutCors, membership: {}, routes: routeTable(500) }, MAX_TEMPLATE_BYTES / 2],
  ['500 routes with CORS (a preflight on every path)', { ...example, routes: routeTable(500) }, (MAX_TEMPLATE_BYTES * 3) / 4],
])('%s', (_name, doc, maxTemplateBytes) => {
  const { app, stack, template } = synth(doc);

  it('defines every route in the one REST API', () => {
    expect(apiMethods(template).filter((m) => m.IntegrationType !== 'mock')).toHaveLength(500);
    expect(resourcesOf(template).filter(([, r]) => r.Type.startsWith('AWS::ApiGateway::Method') || r.Type === 'AWS::ApiGateway::Resource')).toEqual([]);
    expect(Object.keys(apiBody(template).components.securitySchemes).filter((s) => s.endsWith('Authorizer')).length).toBeLessThanOrEqual(10);
    expect(apiResourceCount(apiMethods(template).map((m) => m.Path))).toBeLessThanOrEqual(300);
  });

  it('keeps every function environment within 4 KB', () => {
    const functions = resourcesOf(template).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(5);
    const sizes = functions.map(([id, fn]) => ({ id, bytes: environmentBytes(fn) }));
    expect(sizes.filter((f) => f.bytes > MAX_ENVIRONMENT_BYTES)).toEqual([]);
    // The authorizer's configuration (tens of KB at this size) is not among them.
    expect(Math.max(...sizes.map((f) => f.bytes))).toBeLessThan(1024);
  });

  it('gives each function one invoke permission, scoped to the API, far within 20 KB of resource policy', () => {
    const policies = resourcePolicyBytes(template);
    expect([...policies].filter(([, bytes]) => bytes > MAX_RESOURCE_POLICY_BYTES)).toEqual([]);
    expect(Math.max(...policies.values())).toBeLessThan(1024);
    const fromApi = resourcesOf(template).filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'apigateway.amazonaws.com');
    // The authorizer and each handler the routes name: one each.
    expect(fromApi).toHaveLength(1 + new Set((doc.routes as { handler: string }[]).map((r) => r.handler)).size);
    expect(new Set(fromApi.map(([, r]) => JSON.stringify(r.Properties.FunctionName))).size).toBe(fromApi.length);
  });

  it('stays under 450 resources in every stack and under 1 MB of template', () => {
    for (const s of app.node.findAll().filter((c): c is GatehouseStack => c instanceof GatehouseStack)) {
      expect(Object.keys(Template.fromStack(s).toJSON().Resources).length).toBeLessThanOrEqual(MAX_STACK_RESOURCES);
    }
    expect(resourcesOf(template).length).toBeLessThan(MAX_STACK_RESOURCES);
    // As the CDK writes it for upload: compact JSON (GatehouseStack suppresses the indentation).
    const written = statSync(app.synth().getStackByName(stack.stackName).templateFullPath).size;
    expect(written).toBeLessThan(maxTemplateBytes);
  });

  it('still passes cdk-nag AwsSolutions', () => {
    const result = new AwsSolutionsChecks(app).validateScope(app);
    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    expect(stack.node.findAll().length).toBeGreaterThan(10);
  });
});

describe('the invoke permissions', () => {
  const { template } = synth(example);
  const permissions = resourcesOf(template)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'apigateway.amazonaws.com')
    .map(([, r]) => r.Properties);
  const sourceArn = (p: Record<string, any>) => JSON.stringify(p.SourceArn);
  const restApi = `"Ref":"${Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0]}"`;

  it("let API Gateway call the authorizer for this API's authorizers only", () => {
    const authorizer = permissions.filter((p) => JSON.stringify(p.FunctionName).includes('AuthorizerHandler'));
    expect(authorizer).toHaveLength(1);
    expect(sourceArn(authorizer[0]!)).toContain(':execute-api:');
    expect(sourceArn(authorizer[0]!)).toContain(`${restApi}},"/authorizers/*"]]}`);
  });

  it('let API Gateway call each handler from any method and stage of this API, and from nowhere else', () => {
    const handlers = permissions.filter((p) => !JSON.stringify(p.FunctionName).includes('AuthorizerHandler'));
    expect(handlers.length).toBe(new Set(example.routes.map((r: { handler: string }) => r.handler)).size);
    for (const p of handlers) {
      expect(sourceArn(p)).toContain(':execute-api:');
      expect(sourceArn(p)).toContain(`${restApi}},"/*/*/*"]]}`);
    }
  });
});

describe('the API Gateway CloudWatch role', () => {
  it('is not created by default: it is one setting per account and Region', () => {
    const { template } = synth(example);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('is created when deployment.cloudWatchRole is true, and then passes cdk-nag with its acknowledgement', () => {
    const { app, template } = synth({ ...example, deployment: { ...example.deployment, cloudWatchRole: true } });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const result = new AwsSolutionsChecks(app).validateScope(app);
    expect(result.violations).toEqual([]);
  });
});

describe('what the stack tells the command-line tool', () => {
  const { template } = synth({ ...example, apiKeys: { prefix: 'acme' }, environment: 'test' });

  it('outputs the table, the API id and its URL under the keys the CLI reads', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    for (const key of Object.values(STACK_OUTPUTS)) expect(outputs).toHaveProperty(key);
  });

  it('keeps the configuration document it was synthesized from in the template metadata, valid as it is', () => {
    const document = template.toJSON().Metadata[CONFIG_METADATA_KEY];
    const config = parseStackConfig(document);

    expect(config.authorizer.apiKeys?.prefix).toBe('acme');
    expect(config.authorizer.environment).toBe('test');
    expect(config.deployment.stageName).toBe('prod');
    expect(JSON.stringify(document)).not.toMatch(/SecretString|placeholder/);
  });
});

describe('a route table beyond API Gateway default quota of resources', () => {
  it('synthesizes with a warning naming the quota', () => {
    // CDK prints the warning too; the test reads it from the annotations.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const routes = Array.from({ length: 320 }, (_, i) => ({ method: 'GET', path: `/r${i}`, accepts: ['user'], handler: 'me' }));
    const { stack } = synth({ ...example, routes });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Resources per API'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('320 API resources');
  });
});
