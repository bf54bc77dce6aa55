import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig, renderAuthorizerConfig, usagePlanKeyed } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiAuthorizers, apiBody, apiMethods } from '../support/api-definition';

/**
 * Signed requests and cookie routes in the stack: the fourth REQUEST authorizer (uncached, no identity sources)
 * on exactly those routes, the secrets of signers (created, named and rotated as services' are), and the
 * authorizer's one write (PutItem of NONCE# items, only when there are signers). Asset bundling is skipped;
 * cdk.json's context is merged so feature flags match the real synth.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
/**
 * The example configuration without signers and without cookie or signed routes (whatever it has of those), so
 * each test adds exactly the ones it is about.
 */
function plainExample(): Record<string, any> {
  const { signers: _signers, ...doc } = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
  return { ...doc, routes: doc.routes.filter((r: { cookie?: string; accepts?: string[] }) => r.cookie === undefined && !r.accepts?.includes('signed')) };
}
const example = plainExample();

const SIGNED = { method: 'POST', path: '/v1/hooks', accepts: ['signed'], handler: 'me' };
const SIGNED_ONE = { method: 'PUT', path: '/v1/hooks/{id}', accepts: ['signed'], signers: ['partner'], handler: 'me' };
const COOKIE = { method: 'GET', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token', handler: 'me' };
const doc = {
  ...example,
  signers: [
    { name: 'relay', scopes: ['hooks:send'] },
    { name: 'partner', secretId: 'partners/acme-hmac' },
    // A signer may share a service's name: their secrets are distinct.
    { name: 'reporting' },
  ],
  routes: [...example.routes, SIGNED, SIGNED_ONE, COOKIE],
};

function synth(config: unknown, stackName = 'Gatehouse') {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, stackName, { config: parseStackConfig(config) });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Properties: Record<string, any>; DependsOn?: string[] }>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

const { app, stack, template } = synth(doc);
const resources = (t: Template, type: string) => t.findResources(type) as Resources;
const roleStatements = (t: Template, rolePrefix: string): Statement[] =>
  Object.values(resources(t, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(rolePrefix))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);

/** Each guarded method as `METHOD /path` -> its properties and its authorizer's. */
function guardedMethods(t: Template) {
  const authorizers = new Map(apiAuthorizers(t).map((a) => [a.Name, a]));
  return Object.fromEntries(
    apiMethods(t)
      .filter((m) => m.Authorizer)
      .map((m) => [`${m.HttpMethod} ${m.Path}`, { method: m, authorizer: authorizers.get(m.Authorizer!)! }]),
  );
}
/** The header parameters a method requires. */
const headerParameters = (m: { RequestParameters: Readonly<Record<string, boolean>> }) =>
  Object.fromEntries(Object.entries(m.RequestParameters).filter(([k]) => k.startsWith('method.request.header.')));

describe('signed requests and cookie routes in the stack', () => {
  describe('the uncached REQUEST authorizers', () => {
    const authorizers = apiAuthorizers(template);
    const methods = guardedMethods(template);
    const cookieRoutes = ['GET /v1/session'];
    const signedRoutes = ['POST /v1/hooks', 'PUT /v1/hooks/{id}'];
    const uncachedRoutes = [...cookieRoutes, ...signedRoutes];

    it('are two more REQUEST authorizers with a result TTL of 0: the cookie routes\' with no IdentitySource property at all, the signed routes\' keyed by Authorization', () => {
      const uncached = authorizers.filter((a) => a.AuthorizerResultTtlInSeconds === 0);

      expect(authorizers).toHaveLength(4); // user, service, signed, request (no membership mode here)
      expect(uncached).toEqual([
        expect.objectContaining({ Type: 'REQUEST', Name: 'SignedAuthorizer', IdentitySource: 'method.request.header.Authorization' }),
        expect.objectContaining({ Type: 'REQUEST', Name: 'RequestAuthorizer' }),
      ]);
      expect(uncached[1]).not.toHaveProperty('IdentitySource');
      expect(JSON.stringify(apiBody(template).components.securitySchemes.RequestAuthorizer['x-amazon-apigateway-authorizer'])).not.toContain('identitySource');
    });

    it('guards the cookie routes, which require no header of API Gateway', () => {
      for (const route of cookieRoutes) {
        const m = methods[route]!;
        expect(m.authorizer).not.toHaveProperty('IdentitySource');
        expect(m.authorizer.AuthorizerResultTtlInSeconds).toBe(0);
        // No required header: API Gateway would answer 401 itself to a cookie-only browser request.
        expect(headerParameters(m.method)).toEqual({});
      }
    });

    it('gates the signed routes on Authorization (a request without one is refused before the authorizer runs), uncached', () => {
      for (const route of signedRoutes) {
        const m = methods[route]!;
        expect(m.authorizer).toMatchObject({ Name: 'SignedAuthorizer', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 0 });
        expect(headerParameters(m.method)).toEqual({ 'method.request.header.Authorization': true });
      }
    });

    it('leaves every other guarded route on the cached authorizers, keyed and required by their headers', () => {
      const others = Object.entries(methods).filter(([route]) => !uncachedRoutes.includes(route));

      expect(others).toHaveLength(example.routes.filter((r: { public?: boolean }) => !r.public).length);
      for (const [route, m] of others) {
        expect(m.authorizer.AuthorizerResultTtlInSeconds).toBe(300);
        const headers = route === 'POST /internal/jobs' ? ['Authorization', 'X-Service-Name'] : ['Authorization'];
        expect(m.authorizer.IdentitySource).toBe(headers.map((h) => `method.request.header.${h}`).join(','));
        expect(headerParameters(m.method)).toEqual(Object.fromEntries(headers.map((h) => [`method.request.header.${h}`, true])));
      }
    });

    it('does not require a usage-plan key on signed routes (a signer has no tenant), as on service routes', () => {
      const config = parseStackConfig(doc);
      const keyed = (route: string) => methods[route]!.method.ApiKeyRequired;

      expect(keyed('POST /v1/hooks')).toBe(false);
      expect(keyed('PUT /v1/hooks/{id}')).toBe(false);
      expect(keyed('POST /internal/jobs')).toBe(false);
      // A cookie route's callers are users with tenants: keyed like the header routes.
      expect(keyed('GET /v1/session')).toBe(true);
      expect(keyed('GET /v1/me')).toBe(true);
      // Also where the signed route accepts users as well (uncached routes may mix kinds).
      const mixed = parseStackConfig({ ...doc, routes: [{ method: 'POST', path: '/v1/mixed', accepts: ['user', 'signed'], handler: 'me' }] });
      expect(usagePlanKeyed(mixed.authorizer, mixed.authorizer.routes[0]!)).toBe(false);
      expect(config.authorizer.routes.filter((r) => r.accepts.includes('signed')).map((r) => usagePlanKeyed(config.authorizer, r))).toEqual([false, false]);
    });
  });

  describe('the secrets of signers', () => {
    const secrets = resources(template, 'AWS::SecretsManager::Secret');
    const byName = (name: string) => Object.entries(secrets).find(([, s]) => s.Properties.Name === name);
    const schedules = Object.values(resources(template, 'AWS::SecretsManager::RotationSchedule')).map((s) => s.Properties);
    const scheduleOf = (logicalId: string) => schedules.find((s) => JSON.stringify(s.SecretId) === JSON.stringify({ Ref: logicalId }));

    it('creates <stack name>/signers/<name> for each signer without a secretId, and none for one that names its secret', () => {
      expect(
        Object.values(secrets)
          .map((s) => s.Properties.Name)
          .sort(),
      ).toEqual(['Gatehouse/services/reporting', 'Gatehouse/signers/relay', 'Gatehouse/signers/reporting']);
      expect(byName('Gatehouse/signers/relay')![1].Properties).toMatchObject({
        Description: expect.stringContaining('signs requests with HMAC-SHA256'),
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
      });
      // Named after the stack, as the command-line tool expects (--stack-name).
      const { template: staging } = synth(doc, 'Staging');
      const names = Object.values(resources(staging, 'AWS::SecretsManager::Secret')).map((s) => s.Properties.Name);
      expect(names).toEqual(expect.arrayContaining(['Staging/signers/relay', 'Staging/services/reporting']));
    });

    it('rotates them every 30 days on the same one rotation function as the service secrets', () => {
      const [relayId] = byName('Gatehouse/signers/relay')!;
      const [signerReportingId] = byName('Gatehouse/signers/reporting')!;
      const [serviceId] = byName('Gatehouse/services/reporting')!;
      const rotationFunctions = Object.keys(resources(template, 'AWS::Lambda::Function')).filter((id) => id.includes('Rotation'));

      expect(rotationFunctions).toHaveLength(1);
      expect(schedules).toHaveLength(3);
      for (const id of [relayId, signerReportingId, serviceId]) {
        expect(scheduleOf(id)).toEqual({
          SecretId: { Ref: id },
          RotationLambdaARN: { 'Fn::GetAtt': [rotationFunctions[0], 'Arn'] },
          RotationRules: { ScheduleExpression: 'rate(30 days)' },
          RotateImmediatelyOnUpdate: false,
        });
      }
      // One policy statement of the rotation function lists every created secret, and nothing imported.
      const rotation = roleStatements(template, 'ServiceSecretsRotation').filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
      expect(rotation).toHaveLength(1);
      expect(rotation[0]!.Resource).toEqual(expect.arrayContaining([{ Ref: relayId }, { Ref: signerReportingId }, { Ref: serviceId }]));
      expect((rotation[0]!.Resource as unknown[]).length).toBe(3);
      expect(JSON.stringify(rotation)).not.toContain('acme');
    });

    it('lets the authorizer read every signer secret with its versions, and renders their ids into its configuration', () => {
      const reads = roleStatements(template, 'AuthorizerHandlerRole').filter((s) => actions(s).includes('secretsmanager:ListSecretVersionIds'));
      const read = JSON.stringify(reads);
      for (const [id] of [byName('Gatehouse/signers/relay')!, byName('Gatehouse/signers/reporting')!]) expect(read).toContain(`"Ref":"${id}"`);
      expect(read).toContain('partners/acme-hmac-??????');

      const rendered = JSON.parse(stack.authorizer.document);
      expect(rendered.signers).toEqual([
        expect.objectContaining({ name: 'relay', secretId: 'Gatehouse/signers/relay' }),
        expect.objectContaining({ name: 'partner', secretId: 'partners/acme-hmac' }),
        expect.objectContaining({ name: 'reporting', secretId: 'Gatehouse/signers/reporting' }),
      ]);
      expect(stack.authorizer.document).not.toContain('placeholder');
    });

    it('renders each signer with its own secret id, and a document without signers as it was', () => {
      const config = parseStackConfig(doc);
      expect(config.createdSignerSecrets).toEqual(['relay', 'reporting']);
      expect(config.createdServiceSecrets).toEqual(['reporting']);
      const out = renderAuthorizerConfig(config, 'tbl', { services: { reporting: 'svc-arn' }, signers: { relay: 'relay-arn', reporting: 'signer-arn' } });
      expect(out.signers).toEqual([
        { name: 'relay', scopes: ['hooks:send'], secretId: 'relay-arn' },
        { name: 'partner', secretId: 'partners/acme-hmac' },
        { name: 'reporting', secretId: 'signer-arn' },
      ]);
      expect(out.services).toEqual([{ name: 'reporting', scopes: ['jobs:run'], secretId: 'svc-arn' }]);

      const plain = parseStackConfig(example);
      expect(plain.createdSignerSecrets).toEqual([]);
      expect(renderAuthorizerConfig(plain, 'tbl', { services: { reporting: 'svc-arn' }, signers: {} })).not.toHaveProperty('signers');
    });

    it('outputs each signer secret like the service ones', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
      const signerOutputs = Object.entries(outputs).filter(([id]) => id.startsWith('SignerSecret'));

      expect(signerOutputs.map(([id]) => id).sort()).toEqual(['SignerSecretpartner', 'SignerSecretrelay', 'SignerSecretreporting']);
      expect(outputs.SignerSecretrelay!.Value).toEqual({ Ref: byName('Gatehouse/signers/relay')![0] });
      expect(Object.keys(outputs)).toContain('ServiceSecretreporting');
    });
  });

  describe("the authorizer's one write", () => {
    const dynamo = (t: Template) => roleStatements(t, 'AuthorizerHandlerRole').filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));

    it('is PutItem on the table alone, for NONCE# partition keys only', () => {
      const puts = dynamo(template).filter((s) => actions(s).includes('dynamodb:PutItem'));

      expect(puts).toHaveLength(1);
      expect(puts[0]).toEqual({
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: { 'Fn::GetAtt': [expect.stringContaining('DataTable'), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NONCE#*'] } },
      });
      // GetItem is the reads' (never the NONCE# partitions: the authorizer has no reason to read a nonce back);
      // nothing else on DynamoDB.
      expect(dynamo(template).flatMap(actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(JSON.stringify(dynamo(template).find((s) => actions(s).includes('dynamodb:GetItem'))!.Condition)).not.toContain('NONCE#');
    });

    it('does not exist without signers (cookie routes alone write nothing)', () => {
      const { template: plain } = synth(example);
      const { template: cookieOnly } = synth({ ...example, routes: [...example.routes, COOKIE] });

      for (const t of [plain, cookieOnly]) {
        expect(dynamo(t).flatMap(actions)).toEqual(['dynamodb:GetItem']);
        expect(JSON.stringify(roleStatements(t, 'AuthorizerHandlerRole'))).not.toContain('PutItem');
      }
      expect(Object.values(resources(plain, 'AWS::SecretsManager::Secret')).map((s) => s.Properties.Name)).toEqual(['Gatehouse/services/reporting']);
    });
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    const result = new AwsSolutionsChecks(app).validateScope(app);

    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
  });
});
