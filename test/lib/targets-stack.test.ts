import { App, CfnElement, Stack, type StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONTEXT_HEADER, CONTEXT_HEADER_PREFIX, PUBLIC_CONTEXT, REQUEST_ID_HEADER, decodeGatewayContext } from '../../contract/backend-headers';
import { RATE_LIMIT_TIERS_FILE } from '../../contract/rate-limit-tiers';
import { parseStackConfig } from '../../contract/stack-config';
import { OPTIONAL_STACK_OUTPUTS } from '../../contract/stack-outputs';
import { GatehouseFunction } from '../../lib/gatehouse-function';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiBody, apiMethods } from '../support/api-definition';

/**
 * Route targets in the deployed stack: the team's handler files (own function, own role, no table access unless
 * granted), existing functions (integrated and granted to API Gateway for this API only) and HTTP backends (HTTP
 * proxy with the caller's context in X-Gatehouse-* headers, the stage's client certificate). Asset bundling is
 * skipped except where a test says it bundles; cdk.json's context is merged so feature flags match the real synth.
 */
const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(__dirname, '../fixtures/targets');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const targets = JSON.parse(readFileSync(path.join(FIXTURES, 'gatehouse.targets.json'), 'utf8')) as Record<string, unknown>;
const EXISTING_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:billing-api:live';

function build(doc: Record<string, unknown> = targets, baseDir = FIXTURES, stackProps: StackProps = {}) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  return new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc, 'targets', baseDir), ...stackProps });
}
function synth(doc: Record<string, unknown> = targets, baseDir = FIXTURES, stackProps: StackProps = {}) {
  const stack = build(doc, baseDir, stackProps);
  return { stack, template: Template.fromStack(stack) };
}

type Json = Record<string, any>;
const { stack, template } = synth();
const resources = (t: Template, type: string) => Object.values(t.findResources(type)) as Json[];
const fnProps = (name: string) => {
  const id = stack.getLogicalId(stack.handlerFunction(name).node.defaultChild as CfnElement);
  return (template.toJSON().Resources[id] as Json).Properties as Json;
};
/** Every statement of the policies attached to `fn`'s role. */
const statementsOf = (t: Template, s: Stack, fn: LambdaFunction) => {
  const roleId = s.getLogicalId(fn.role!.node.defaultChild as CfnRole);
  return resources(t, 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
};
const actions = (statements: Json[]) => statements.flatMap((st) => [st.Action].flat() as string[]);
const restApiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
const integrationOf = (method: string, p: string) => apiBody(template).paths[p][method]['x-amazon-apigateway-integration'] as Json;

describe("the team's handler files", () => {
  it('builds a function of its own from the entry next to the configuration, with its memory, timeout and variables', () => {
    const orders = fnProps('orders');

    expect(orders).toMatchObject({ Description: 'Acme: orders', MemorySize: 256, Timeout: 5, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    expect(orders.Environment.Variables).toMatchObject({ ORDERS_PAGE_SIZE: '50' });
    expect(orders.Environment.Variables).not.toHaveProperty('TABLE_NAME');
    expect(JSON.stringify(apiMethods(template).find((m) => m.Path === '/v1/orders/{id}')!.IntegrationUri)).toContain(
      stack.getLogicalId(stack.handlerFunction('orders').node.defaultChild as CfnElement),
    );
  });

  it("refuses at synth an environment past Lambda's 4 KB", () => {
    const handlers = { ...(targets.handlers as Json), orders: { entry: 'handlers/orders.ts', description: 'Acme: orders', environment: { BIG: 'x'.repeat(4096) } } };

    expect(() => build({ ...targets, handlers })).toThrow(/Acme: orders: its environment variables take about \d+ bytes \(the largest is BIG\); Lambda allows 4096 in all/);
  });

  it('gives it a role of its own with no DynamoDB access: only its log group', () => {
    const fn = stack.handlerFunction('orders');
    const roles = new Set(Object.values(stack.handlers.functions).map((f) => f.role));

    expect(roles.size).toBe(Object.keys(stack.handlers.functions).length);
    expect(actions(statementsOf(template, stack, fn)).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(actions(statementsOf(template, stack, fn))).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents']));
  });

  it('grants a rateLimited handler the limiter items only, and bundles the tiers with it', () => {
    const statements = statementsOf(template, stack, stack.handlerFunction('reports')).filter((st) => actions([st]).some((a) => a.startsWith('dynamodb:')));

    expect(statements).toEqual([
      expect.objectContaining({
        Action: expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:GetItem']),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } },
      }),
    ]);
    expect(fnProps('reports').Environment.Variables).toHaveProperty('TABLE_NAME');
    // The same tiers file the built-in limited handlers get: the configuration's tiers.
    const tiers = parseStackConfig(targets, 'targets', FIXTURES).authorizer.rateLimits.tiers;
    expect(JSON.parse(stack.handlers.bundledFiles.reports![RATE_LIMIT_TIERS_FILE]!)).toEqual(JSON.parse(JSON.stringify(tiers)));
    expect(stack.handlers.bundledFiles.orders).toEqual({});
  });

  it('takes further grants in code through handlerFunction(name), and names the known handlers for an unknown one', () => {
    const s = build();
    s.table.table.grantReadData(s.handlerFunction('orders'));
    const t = Template.fromStack(s);

    expect(actions(statementsOf(t, s, s.handlerFunction('orders')))).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(() => s.handlerFunction('order')).toThrow('no handler function named "order"; the stack built "health", "orders", "reports"');
    expect(() => s.handlerFunction('billing')).toThrow('"billing" is an existing function (functionArn)');
  });

  it('synthesizes an entry in a folder outside the repository', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-team-'));
    try {
      writeFileSync(path.join(dir, 'hello.js'), "exports.handler = async () => ({ statusCode: 200, body: 'hello' });\n");
      const handlers = { ...(targets.handlers as object), orders: { entry: 'hello.js' }, reports: { entry: 'hello.js', rateLimited: true } };
      const doc = { ...targets, handlers };

      const { stack: s } = synth(doc, dir);
      expect(s.handlerFunction('orders').node.defaultChild).toBeDefined();
      expect(() => synth({ ...doc, handlers: { ...doc.handlers, orders: { entry: 'missing.js' } } }, dir)).toThrow(`handlers.orders.entry: ${path.join(dir, 'missing.js')} does not exist`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bundles an entry outside the repository for real (the local esbuild)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-team-'));
    try {
      // A team's handler as the README writes it, importing the toolkit by its published name.
      writeFileSync(
        path.join(dir, 'hello.ts'),
        "import { json, jsonLogger, publicHttpHandler } from 'gatehouse/toolkit';\n" +
          "export const handler = publicHttpHandler(() => json(200, { hello: 'from outside' }), { logger: jsonLogger('hello') });\n",
      );
      const app = new App();
      const s = new Stack(app, 'Outside');
      new GatehouseFunction(s, 'Fn', { entry: path.join(dir, 'hello.ts'), description: 'outside the repository', bundledFiles: { 'tiers.json': '{}' } });
      const assembly = app.synth();
      const fn = Object.values(assembly.getStackByName('Outside').template.Resources as Record<string, Json>).find((r) => r.Type === 'AWS::Lambda::Function')!;
      const asset = path.join(assembly.directory, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);

      expect(fn.Properties.Handler).toBe('index.handler');
      expect(readdirSync(asset).sort()).toEqual(['index.js', 'tiers.json']);
      expect(readFileSync(path.join(asset, 'index.js'), 'utf8')).toContain('from outside');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('existing functions', () => {
  const permissionsOn = (t: Template) => resources(t, 'AWS::Lambda::Permission').filter((p) => p.Properties.FunctionName === EXISTING_ARN);

  it("integrates the route to the function in its own Region, and builds nothing for it", () => {
    const uri = JSON.stringify(integrationOf('post', '/v1/invoices').uri);

    expect(integrationOf('post', '/v1/invoices')).toMatchObject({ type: 'aws_proxy', httpMethod: 'POST' });
    expect(uri).toContain(`:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${EXISTING_ARN}/invocations`);
    expect(resources(template, 'AWS::Lambda::Function').map((f) => f.Properties.Description)).not.toContain(expect.stringContaining('billing'));
  });

  it('adds one invoke permission for API Gateway scoped to this API, deployed only in the function account and Region', () => {
    const [permission, ...others] = permissionsOn(template);
    const conditions = template.toJSON().Conditions as Record<string, Json>;

    expect(others).toEqual([]);
    expect(permission!.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
    expect(JSON.stringify(permission!.Properties.SourceArn)).toContain(`:execute-api:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":",{"Ref":"${restApiId}"},"/*/*/*"`);
    // The stack names no account: CloudFormation decides, by the account and Region it deploys to.
    expect(JSON.stringify(conditions[permission!.Condition])).toBe(
      JSON.stringify({ 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '111122223333'] }, { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }] }),
    );
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp(`aws lambda add-permission --function-name ${EXISTING_ARN}`));
  });

  it("adds the permission unconditionally in the function's own account and Region, without a warning", () => {
    const { stack: s, template: t } = synth(targets, FIXTURES, { env: { account: '111122223333', region: 'eu-west-1' } });

    expect(permissionsOn(t)).toEqual([expect.not.objectContaining({ Condition: expect.anything() })]);
    expect(Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('add-permission'))).toEqual([]);
  });

  it('adds no permission for a function of another account, and warns with the command its owner runs', () => {
    const { stack: s, template: t } = synth(targets, FIXTURES, { env: { account: '444455556666', region: 'eu-west-1' } });

    expect(permissionsOn(t)).toEqual([]);
    const [warning, ...others] = Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('add-permission'));
    expect(others).toEqual([]);
    expect(String(warning!.entry.data)).toContain(
      `aws lambda add-permission --function-name ${EXISTING_ARN} --statement-id gatehouse-Gatehouse-billing --action lambda:InvokeFunction ` +
        '--principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:eu-west-1:444455556666:<RestApiId output>/*/*/*"',
    );
  });
});

describe('HTTP backends', () => {
  const contextMapping = {
    [`integration.request.header.${CONTEXT_HEADER}`]: 'context.authorizer.gatehouseContext',
    [`integration.request.header.${REQUEST_ID_HEADER}`]: 'context.requestId',
  };
  /** The X-Gatehouse-* headers an integration's mapping writes. */
  const gatehouseHeaders = (requestParameters: Record<string, string>) =>
    Object.keys(requestParameters)
      .filter((k) => k.startsWith('integration.request.header.'))
      .map((k) => k.slice('integration.request.header.'.length))
      .filter((h) => h.toLowerCase().startsWith(CONTEXT_HEADER_PREFIX.toLowerCase()));

  it('proxies to the backend URL plus the route path, mapping each path parameter, the encoded context and the request id', () => {
    expect(integrationOf('get', '/v1/stock/{sku}/levels/{warehouse}')).toEqual({
      type: 'http_proxy',
      httpMethod: 'GET',
      uri: 'https://inventory.internal.example.com/api/v1/stock/{sku}/levels/{warehouse}',
      passthroughBehavior: 'when_no_match',
      timeoutInMillis: 8000,
      requestParameters: {
        'integration.request.path.sku': 'method.request.path.sku',
        'integration.request.path.warehouse': 'method.request.path.warehouse',
        ...contextMapping,
      },
    });
  });

  it('proxies ANY with a greedy path as ANY to {proxy}', () => {
    expect(integrationOf('x-amazon-apigateway-any-method', '/v1/catalog/{proxy+}')).toMatchObject({
      type: 'http_proxy',
      httpMethod: 'ANY',
      uri: 'https://inventory.internal.example.com/api/v1/catalog/{proxy}',
      requestParameters: expect.objectContaining({ 'integration.request.path.proxy': 'method.request.path.proxy' }),
    });
  });

  it('maps no header per context key on any backend route: only X-Gatehouse-Context and X-Gatehouse-Request-Id', () => {
    const backendIntegrations = Object.values(apiBody(template).paths as Record<string, Json>)
      .flatMap((methods) => Object.values(methods) as Json[])
      .map((m) => m['x-amazon-apigateway-integration'])
      .filter((i) => i?.type === 'http_proxy');

    expect(backendIntegrations.length).toBeGreaterThan(1);
    for (const i of backendIntegrations) expect(gatehouseHeaders(i.requestParameters).sort()).toEqual([CONTEXT_HEADER, REQUEST_ID_HEADER].sort());
  });

  it('overwrites X-Gatehouse-Context with a static, non-empty "public" context on a public backend route (no authorizer)', () => {
    const { requestParameters } = integrationOf('get', '/status');

    expect(requestParameters).toEqual({
      [`integration.request.header.${CONTEXT_HEADER}`]: `'${PUBLIC_CONTEXT}'`,
      [`integration.request.header.${REQUEST_ID_HEADER}`]: 'context.requestId',
    });
    // A static value is single-quoted; what is inside the quotes is never empty, and decodes to { kind: 'public' }.
    const value = requestParameters[`integration.request.header.${CONTEXT_HEADER}`] as string;
    expect(value).toMatch(/^'[A-Za-z0-9_-]+'$/);
    expect(decodeGatewayContext(value.slice(1, -1))).toEqual({ kind: 'public' });
    expect(apiMethods(template).find((m) => m.Path === '/status')!.AuthorizationType).toBe('NONE');
  });

  it('grants no Lambda permission for backend routes: one per function that serves a route, and the authorizer', () => {
    const permissions = resources(template, 'AWS::Lambda::Permission');
    const servingFunctions = ['health', 'orders', 'reports', 'billing'].length;

    expect(permissions).toHaveLength(servingFunctions + 1);
  });

  it("attaches a client certificate to the stage, and outputs its id for the backends' owners", () => {
    const [certificateId, ...others] = Object.keys(template.findResources('AWS::ApiGateway::ClientCertificate'));

    expect(others).toEqual([]);
    template.hasResourceProperties('AWS::ApiGateway::Stage', { ClientCertificateId: { Ref: certificateId } });
    template.hasOutput(OPTIONAL_STACK_OUTPUTS.clientCertificateId, { Value: { Ref: certificateId } });
  });

  it('has no client certificate when no route goes to a backend', () => {
    const routes = (targets.routes as Json[]).filter((r) => r.backend === undefined);
    const { template: t } = synth({ ...targets, routes });

    expect(resources(t, 'AWS::ApiGateway::ClientCertificate')).toEqual([]);
    expect(t.findOutputs(OPTIONAL_STACK_OUTPUTS.clientCertificateId)).toEqual({});
  });
});

describe('checks that need no AWS account', () => {
  it('passes cdk-nag AwsSolutions (as `cdk synth` runs it) with team handlers, an existing function and backends', () => {
    const s = build();
    const result = new AwsSolutionsChecks(s.node.scope as App).validateScope(s.node.scope as App);

    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
  });
});

describe('configuration errors', () => {
  const routes = targets.routes as Json[];
  const parse = (over: Record<string, unknown>) => () => parseStackConfig({ ...targets, ...over }, 'targets', FIXTURES);

  it('refuses an unknown handler, naming the route and where to declare it', () => {
    expect(parse({ routes: [...routes, { method: 'GET', path: '/v1/x', accepts: ['user'], handler: 'shipping' }] })).toThrow(
      'routes[7] (GET /v1/x): unknown handler "shipping": use one of health, me, customers, api-keys, internal-jobs, webhooks, or declare it under "handlers"',
    );
  });

  it('refuses a route with both a handler and a backend', () => {
    expect(parse({ routes: [...routes, { method: 'GET', path: '/v1/x', accepts: ['user'], handler: 'orders', backend: 'inventory' }] })).toThrow(
      'routes[7] (GET /v1/x): give a handler or a backend, not both',
    );
  });

  it('refuses a team handler that reuses a built-in name', () => {
    expect(parse({ handlers: { ...(targets.handlers as object), me: { entry: 'handlers/orders.ts' } } })).toThrow(
      'handlers.me: "me" is a built-in handler; give yours another name',
    );
  });

  it('refuses an unknown backend', () => {
    expect(parse({ routes: [...routes, { method: 'GET', path: '/v1/x', accepts: ['user'], backend: 'warehouse' }] })).toThrow(
      'routes[7] (GET /v1/x): unknown backend "warehouse": declare it under "backends"',
    );
  });
});
