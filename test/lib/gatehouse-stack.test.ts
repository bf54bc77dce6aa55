import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiAuthorizers, apiBody, apiGatewayResponses, apiMethods } from '../support/api-definition';

/**
 * Template tests of the stack as `cdk synth` builds it from the example configuration. Asset bundling is skipped
 * (it is exercised by `npm run synth` in CI); cdk.json's context is merged so feature flags match the real synth.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synth(doc: unknown = example) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) });
  return { app, stack, template: Template.fromStack(stack) };
}

const { app, stack, template } = synth();
const resources = (type: string) => template.findResources(type);
const policyStatements = (roleLogicalIdPrefix: string) =>
  Object.entries(resources('AWS::IAM::Policy'))
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleLogicalIdPrefix))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('GatehouseStack', () => {
  describe('the REST API', () => {
    it('has a REQUEST authorizer keyed by Authorization, one keyed by Authorization and X-Service-Name, an uncached one gated on Authorization for signed routes, and an uncached one for cookie routes', () => {
      const authorizers = apiAuthorizers(template);

      expect(authorizers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Type: 'REQUEST', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 300 }),
          expect.objectContaining({
            Type: 'REQUEST',
            IdentitySource: 'method.request.header.Authorization,method.request.header.X-Service-Name',
            AuthorizerResultTtlInSeconds: 300,
          }),
          expect.objectContaining({ Type: 'REQUEST', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 0 }),
          expect.objectContaining({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 }),
        ]),
      );
      expect(authorizers).toHaveLength(4);
      expect(authorizers.filter((a) => a.IdentitySource === undefined)).toEqual([expect.objectContaining({ AuthorizerResultTtlInSeconds: 0 })]);
      // All of them call the one authorizer function, which API Gateway may invoke for this API's authorizers only.
      expect(new Set(authorizers.map((a) => JSON.stringify(a.AuthorizerUri))).size).toBe(1);
      expect(JSON.stringify(authorizers[0]!.AuthorizerUri)).toContain('AuthorizerHandlerFunction');
    });

    it('guards every method with the authorizer except the public ones, and validates every request', () => {
      // The example configures CORS: its OPTIONS methods are the gateway's preflights (test/lib/cors-stack.test.ts).
      const methods = apiMethods(template).filter((m) => m.HttpMethod !== 'OPTIONS');
      const publicRoutes = example.routes.filter((r: { public?: boolean }) => r.public).length;

      expect(methods).toHaveLength(example.routes.length);
      expect(methods.filter((m) => m.AuthorizationType === 'NONE')).toHaveLength(publicRoutes);
      for (const m of methods.filter((x) => x.AuthorizationType !== 'NONE')) expect(m).toMatchObject({ AuthorizationType: 'CUSTOM', Authorizer: expect.any(String) });
      for (const m of methods) {
        expect(m.RequestValidator).toEqual({ validateRequestBody: true, validateRequestParameters: true });
        expect(m.IntegrationType).toBe('aws_proxy');
      }
      // Bodies of POST, PUT and PATCH must be JSON objects.
      for (const m of methods.filter((x) => ['POST', 'PUT', 'PATCH'].includes(x.HttpMethod))) expect(m.RequestModels).toEqual({ 'application/json': 'JsonObject' });
      expect(apiBody(template).components.schemas.JsonObject).toMatchObject({ type: 'object' });
    });

    it('declares every path parameter, so API Gateway imports each route as written', () => {
      const byRoute = new Map(apiMethods(template).map((m) => [`${m.HttpMethod} ${m.Path}`, m]));
      expect(byRoute.get('GET /v1/customers/{id}')!.RequestParameters).toMatchObject({ 'method.request.path.id': true });
      expect(byRoute.get('POST /v1/webhooks/{source}')!.RequestParameters).toMatchObject({ 'method.request.path.source': true });
    });

    it('sends the service route through the service authorizer and the others through the user authorizer', () => {
      const service = apiAuthorizers(template).find((a) => String(a.IdentitySource).includes('X-Service-Name'))!;
      const viaService = apiMethods(template).filter((m) => m.Authorizer === service.Name);

      expect(viaService).toHaveLength(1);
      expect(viaService[0]).toMatchObject({ HttpMethod: 'POST', Path: '/internal/jobs' });
    });

    it('takes usage-plan keys from the authorizer, never from the client', () => {
      expect(apiBody(template)['x-amazon-apigateway-api-key-source']).toBe('AUTHORIZER');
    });

    it('routes each method to the handler its route names', () => {
      const uri = (method: string, path: string) => JSON.stringify(apiMethods(template).find((m) => m.HttpMethod === method && m.Path === path)!.IntegrationUri);
      expect(uri('GET', '/v1/customers')).toContain('HandlerscustomersFunction');
      expect(uri('POST', '/internal/jobs')).toContain('HandlersinternaljobsFunction');
      expect(uri('GET', '/health')).toContain('HandlershealthFunction');
    });

    it('answers 401 with WWW-Authenticate and JSON, and 403, 429, 404 and 5xx with JSON', () => {
      const responses = apiGatewayResponses(template);
      expect(responses.UNAUTHORIZED).toMatchObject({
        statusCode: '401',
        responseParameters: expect.objectContaining({ 'gatewayresponse.header.WWW-Authenticate': "'Bearer realm=\"gatehouse\"'" }),
      });
      expect(responses.THROTTLED).toMatchObject({ statusCode: '429', responseParameters: expect.objectContaining({ 'gatewayresponse.header.Retry-After': "'1'" }) });
      for (const type of ['ACCESS_DENIED', 'MISSING_AUTHENTICATION_TOKEN', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
        expect(responses[type].responseTemplates['application/json']).toMatch(/"error"/);
      }
    });

    it('logs access as JSON with the authorizer outcome, and never logs request data', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: { Format: Match.stringLikeRegexp('authorizer.principalId'), DestinationArn: Match.anyValue() },
        MethodSettings: [Match.objectLike({ DataTraceEnabled: false, LoggingLevel: 'ERROR' })],
      });
    });
  });

  describe('least privilege', () => {
    it('lets the authorizer GetItem on its table, record nonces, and read exactly its secrets, nothing else', () => {
      const statements = policyStatements('AuthorizerHandlerRole');

      expect(actionsOf(statements)).toEqual(
        [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          // The issuer's secret; the service's and the signer's (one merged statement, with ListSecretVersionIds).
          'secretsmanager:DescribeSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:GetSecretValue',
          'secretsmanager:ListSecretVersionIds',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb'));
      for (const s of dynamo) expect(JSON.stringify(s.Resource)).toContain('DataTable');
      // Its one write: signed requests' nonces, by the key prefix.
      const put = dynamo.find((s) => JSON.stringify(s.Action).includes('PutItem'))!;
      expect(put.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NONCE#*'] } });
      const secrets = statements.filter((s) => JSON.stringify(s.Action).includes('secretsmanager'));
      expect(JSON.stringify(secrets)).toContain('gatehouse/supabase-jwt-secret-??????');
      expect(JSON.stringify(secrets)).toContain('ServiceSecretsreporting');
      expect(JSON.stringify(secrets)).toContain('ServiceSecretsSignerpaymentsrelay');
      // X-Ray is the only wildcard resource, and it is acknowledged (no resource-level permissions exist).
      const wildcards = statements.filter((s) => s.Resource === '*');
      expect(actionsOf(wildcards)).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    });

    it('bundles ids and names with the authorizer, never a secret value, and names its table in the environment', () => {
      const rendered = JSON.parse(stack.authorizer.document);

      expect(rendered.issuers[0].hs256SecretId).toBe('gatehouse/supabase-jwt-secret');
      expect(rendered.services).toEqual([expect.objectContaining({ name: 'reporting', secretId: 'Gatehouse/services/reporting' })]);
      expect(rendered.signers).toEqual([expect.objectContaining({ name: 'payments-relay', secretId: 'Gatehouse/signers/payments-relay' })]);
      expect(rendered).not.toHaveProperty('tableName');
      expect(stack.authorizer.document).not.toMatch(/SecretString|GenerateSecretString|placeholder/);
      // The created secrets are read by the names they were created with.
      template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'Gatehouse/services/reporting' });
      template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'Gatehouse/signers/payments-relay' });
      const fn = Object.values(resources('AWS::Lambda::Function')).find((f) => String(f.Properties.Description).startsWith('Gatehouse authorizer'))!;
      expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'GATEHOUSE_TABLE_NAME']);
      expect(fn.Properties.Environment.Variables.GATEHOUSE_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^DataTable/) });
    });

    it('lets each handler touch only its own items: customers its tenant partitions, the limiter its buckets, api-keys key records', () => {
      const dynamo = (role: string) => policyStatements(role).filter((s) => JSON.stringify(s.Action).includes('dynamodb'));
      const leading = (role: string) =>
        dynamo(role).map((s) => (s.Condition as { 'ForAllValues:StringLike'?: Record<string, unknown> } | undefined)?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? s.Resource);
      const limiter = ['RATE#*'];

      expect(leading('HandlerscustomersRole')).toEqual([['TENANT#*#CUSTOMERS'], limiter]);
      expect(actionsOf(dynamo('HandlerscustomersRole'))).not.toContain('dynamodb:Scan');
      expect(leading('HandlersmeRole')).toEqual([limiter]);
      expect(actionsOf(dynamo('HandlersmeRole')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      const apiKeys = leading('HandlersapikeysRole');
      expect(apiKeys).toEqual([['APIKEY#*'], ['TENANT#*'], ['TENANT#*#APIKEYS'], limiter]);
      // Every statement, the index query included, is bounded by its leading keys; the tenant's partition only,
      // never one below it (customers).
      expect(dynamo('HandlersapikeysRole').filter((s) => !s.Condition)).toEqual([]);
      const tenantReads = dynamo('HandlersapikeysRole').find((s) => actionsOf([s]).includes('dynamodb:ConditionCheckItem'))!;
      expect(tenantReads.Condition).toMatchObject({ 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['TENANT#*#*'] } });
      const query = dynamo('HandlersapikeysRole').find((s) => s.Action === 'dynamodb:Query')!;
      expect(JSON.stringify(query.Resource)).toContain('/index/gsi1');

      for (const name of ['Handlershealth', 'Handlersinternaljobs']) {
        expect(actionsOf(policyStatements(`${name}Role`)).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual([]);
      }
    });

    it('gives no function the broad AWSLambdaBasicExecutionRole', () => {
      expect(JSON.stringify(resources('AWS::IAM::Role'))).not.toContain('AWSLambdaBasicExecutionRole');
    });
  });

  describe('state and operations', () => {
    it('encrypts the table, keeps point-in-time recovery and deletion protection, and expires records by ttl', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      });
    });

    it('runs every function on arm64 and Node.js 24, with a log group that has a retention', () => {
      const functions = Object.values(resources('AWS::Lambda::Function')).map((f) => f.Properties);
      expect(functions.length).toBeGreaterThanOrEqual(5);
      for (const f of functions) expect(f).toMatchObject({ Architectures: ['arm64'], Runtime: 'nodejs24.x', LoggingConfig: { LogGroup: expect.anything() } });
      for (const g of Object.values(resources('AWS::Logs::LogGroup'))) expect(g.Properties.RetentionInDays).toBe(30);
    });

    it('alarms on authorizer failures and dependency errors, throttles, handler crashes and API 5xx, never on 401 or 403 counts', () => {
      const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      const decisions = alarms.filter((a) => a.MetricName === 'Decisions').map((a) => a.Dimensions[0].Value);

      // The full proof that no alarm counts a 401 or 403 is test/lib/observability-stack.test.ts.
      expect(decisions).toEqual(['error']);
      expect(new Set(alarms.map((a) => a.MetricName))).toEqual(new Set(['AuthorizerFailures', 'Decisions', 'Throttles', 'Errors', '5XXError']));
    });
  });

  describe('checks that need no AWS account', () => {
    it('passes cdk-nag AwsSolutions with every finding acknowledged with a reason', () => {
      const pack = new AwsSolutionsChecks(app);

      const result = pack.validateScope(app);

      expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
      expect(stack.node.findAll().length).toBeGreaterThan(10);
    });

    it('would catch an unacknowledged finding (the check above can fail)', () => {
      const control = new App();
      new Secret(new Stack(control, 'Control'), 'Unrotated');

      const result = new AwsSolutionsChecks(control).validateScope(control);

      expect(result.violations.map((v) => v.ruleName)).toContain('AwsSolutions-SMG4');
    });

    it('fails synth on a wrong configuration with a message naming the field', () => {
      const wrong = { ...example, routes: [...example.routes, { method: 'GET', path: '/v1/x', accepts: ['user', 'service'], handler: 'me' }] };
      expect(() => synth(wrong)).toThrow(new RegExp(`routes\\[${example.routes.length}\\]\\.accepts`));
      expect(() => synth({ ...example, deployment: { authorizerResultTtlSeconds: 7200 } })).toThrow(/deployment\.authorizerResultTtlSeconds/);
      expect(() => synth({ ...example, tableName: 'mine' })).toThrow(/tableName/);
      const noHandler = { ...example, routes: [{ method: 'GET', path: '/v1/me', accepts: ['user'] }] };
      expect(() => synth(noHandler)).toThrow(/every route needs a handler/);
    });
  });
});
