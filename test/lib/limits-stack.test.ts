import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiAuthorizers, apiMethods } from '../support/api-definition';

/**
 * Limits before the authorizer (issue 18), in the template: the stage throttle, the optional web ACL on the stage,
 * the authorizer's reserved concurrency, and the partitions the authorizer may read. Asset bundling is skipped.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synth(deployment: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig({ ...example, deployment }) });
  return { app, stack, template: Template.fromStack(stack) };
}
type Resource = { Properties: Record<string, any> };
const all = (t: Template, type: string) => Object.values(t.findResources(type)) as Resource[];
const authorizerFunction = (t: Template) => all(t, 'AWS::Lambda::Function').find((f) => String(f.Properties.Description).startsWith('Gatehouse authorizer'))!;
/** The reasons of the acknowledgements (Validations) recorded anywhere in the stack, by rule id. */
const acknowledged = (s: GatehouseStack) =>
  s.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => JSON.stringify(m.data)))
    .join('\n');
const nagViolations = (app: App) =>
  new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`);

const defaults = synth();
const withWaf = synth({ waf: { enabled: true, ratePer5MinutesPerIp: 500 }, throttle: { rateLimit: 50, burstLimit: 100 }, authorizerReservedConcurrency: 200 });

describe('the stage throttle', () => {
  it('throttles every method of the stage at 1,000 requests per second with a burst of 2,000 by default', () => {
    const stage = all(defaults.template, 'AWS::ApiGateway::Stage')[0]!;

    expect(stage.Properties.MethodSettings).toEqual([expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 })]);
  });

  it('takes the rate and burst from deployment.throttle', () => {
    const stage = all(withWaf.template, 'AWS::ApiGateway::Stage')[0]!;

    expect(stage.Properties.MethodSettings).toEqual([expect.objectContaining({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })]);
  });

  it('refuses a throttle without a rate, or with a burst of 0, naming the field', () => {
    expect(() => synth({ throttle: { burstLimit: 10 } })).toThrow(/deployment\.throttle\.rateLimit/);
    expect(() => synth({ throttle: { rateLimit: 10, burstLimit: 0 } })).toThrow(/deployment\.throttle\.burstLimit/);
  });
});

describe('the authorizer concurrency cap', () => {
  it('reserves no concurrency by default (the account pool may have none to spare)', () => {
    expect(authorizerFunction(defaults.template).Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('reserves deployment.authorizerReservedConcurrency for the authorizer alone', () => {
    expect(authorizerFunction(withWaf.template).Properties.ReservedConcurrentExecutions).toBe(200);
    const handlers = all(withWaf.template, 'AWS::Lambda::Function').filter((f) => f !== authorizerFunction(withWaf.template));
    for (const h of handlers) expect(h.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('refuses 0, which would stop the authorizer altogether', () => {
    expect(() => synth({ authorizerReservedConcurrency: 0 })).toThrow(/deployment\.authorizerReservedConcurrency/);
  });
});

describe('the web ACL', () => {
  it('is absent by default, and cdk-nag APIG3 is acknowledged with the reason', () => {
    expect(all(defaults.template, 'AWS::WAFv2::WebACL')).toEqual([]);
    expect(all(defaults.template, 'AWS::WAFv2::WebACLAssociation')).toEqual([]);
    expect(nagViolations(defaults.app)).toEqual([]);
    expect(acknowledged(defaults.stack)).toMatch(/AwsSolutions-APIG3.*deployment\.waf\.enabled/);
  });

  it('when enabled, blocks an IP past its rate per 5 minutes first, then applies the AWS managed rule groups, and allows the rest', () => {
    const [acl] = all(withWaf.template, 'AWS::WAFv2::WebACL');

    expect(acl!.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const rules = acl!.Properties.Rules as Record<string, any>[];
    expect(rules.map((r) => [r.Priority, r.Name])).toEqual([
      [0, 'RatePerIp'],
      [1, 'AWSManagedRulesCommonRuleSet'],
      [2, 'AWSManagedRulesKnownBadInputsRuleSet'],
    ]);
    expect(rules[0]).toMatchObject({ Action: { Block: {} }, Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 500, EvaluationWindowSec: 300 } } });
    for (const r of rules.slice(1)) {
      expect(r).toMatchObject({ OverrideAction: { None: {} }, Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: r.Name } } });
    }
    for (const r of rules) expect(r.VisibilityConfig).toMatchObject({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true });
  });

  it('is associated with the API stage, and cdk-nag is clean without the APIG3 acknowledgement', () => {
    const [association] = all(withWaf.template, 'AWS::WAFv2::WebACLAssociation');
    const stageId = Object.keys(withWaf.template.findResources('AWS::ApiGateway::Stage'))[0]!;
    const apiId = Object.keys(withWaf.template.findResources('AWS::ApiGateway::RestApi'))[0]!;

    const arn = JSON.stringify(association!.Properties.ResourceArn);
    expect(arn).toContain(`{"Ref":"${apiId}"},"/stages/",{"Ref":"${stageId}"}`);
    expect(association!.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [expect.stringContaining('WebAcl'), 'Arn'] });
    expect(nagViolations(withWaf.app)).toEqual([]);
    expect(acknowledged(withWaf.stack)).not.toContain('AwsSolutions-APIG3');
    expect(acknowledged(withWaf.stack)).toContain('AwsSolutions-APIG2');
  });

  it('takes the managed rule groups from the configuration, and refuses a name that is no AWS managed group or a repeat', () => {
    const { template } = synth({ waf: { enabled: true, managedRules: ['AWSManagedRulesAmazonIpReputationList'] } });
    expect((all(template, 'AWS::WAFv2::WebACL')[0]!.Properties.Rules as { Name: string }[]).map((r) => r.Name)).toEqual(['RatePerIp', 'AWSManagedRulesAmazonIpReputationList']);

    expect(() => synth({ waf: { enabled: true, managedRules: ['MyRules'] } })).toThrow(/deployment\.waf\.managedRules\.0/);
    expect(() => synth({ waf: { enabled: true, managedRules: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesCommonRuleSet'] } })).toThrow(/deployment\.waf\.managedRules/);
    expect(() => synth({ waf: { enabled: true, ratePer5MinutesPerIp: 5 } })).toThrow(/deployment\.waf\.ratePer5MinutesPerIp/);
  });
});

describe("the authorizer's reads", () => {
  it('GetItem only on the partitions it reads (API keys, tenants and members, sessions), never one below a tenant', () => {
    const statements = Object.values(defaults.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('AuthorizerHandlerRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);

    const get = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:GetItem'));
    expect(get).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [expect.stringContaining('DataTable'), 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*', 'TENANT#*', 'SESSION#*'] },
          'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['TENANT#*#*'] },
        },
      },
    ]);
  });
});

describe('the identity-source gate', () => {
  const methods = apiMethods(defaults.template);
  const authorizers = Object.fromEntries(apiAuthorizers(defaults.template).map((a) => [a.Name, a]));
  const method = (route: string) => methods.find((m) => `${m.HttpMethod} ${m.Path}` === route)!;

  it('requires Authorization on the signed route, whose authorizer runs uncached and only when Authorization is present', () => {
    const webhook = method('POST /v1/webhooks/{source}');

    expect(webhook.Authorizer).toBe('SignedAuthorizer');
    expect(authorizers.SignedAuthorizer).toMatchObject({ IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 0 });
    expect(webhook.RequestParameters).toMatchObject({ 'method.request.header.Authorization': true });
  });

  it('requires no header on the cookie routes, whose authorizer has no identity source', () => {
    const cookieRoutes = example.routes.filter((r: { cookie?: string }) => r.cookie).map((r: { method: string; path: string }) => `${r.method} ${r.path}`);

    expect(cookieRoutes.length).toBeGreaterThan(0);
    for (const route of cookieRoutes) {
      expect(method(route).Authorizer).toBe('RequestAuthorizer');
      expect(Object.keys(method(route).RequestParameters).filter((p) => p.startsWith('method.request.header.'))).toEqual([]);
    }
    expect(authorizers.RequestAuthorizer).not.toHaveProperty('IdentitySource');
  });
});
