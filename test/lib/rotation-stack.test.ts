import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnRotationSchedule } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { ServiceSecrets, type ServiceSecretsProps } from '../../lib/service-secrets';

/**
 * Template tests of the rotation of service secrets: one schedule per created secret, one rotation function with
 * exactly the rights the four steps need on exactly those secrets, invocable by Secrets Manager of this account only.
 * Asset bundling is skipped (`npm run synth` bundles); cdk.json's context is merged so feature flags match.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const newApp = () => new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });

function synth(props: Partial<ServiceSecretsProps> = {}) {
  const app = newApp();
  const stack = new Stack(app, 'Secrets');
  const services = new ServiceSecrets(stack, 'ServiceSecrets', { create: ['billing', 'reporting'], existing: { legacy: 'gatehouse/services/legacy' }, ...props });
  return { app, stack, services, template: Template.fromStack(stack) };
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

const { app, stack, services, template } = synth({ rotationDays: 7 });
const logicalId = (secretName: string) => stack.getLogicalId(services.node.findChild(secretName).node.defaultChild as never);
const rotationFnId = stack.getLogicalId(services.rotationFunction!.node.defaultChild as never);
const rotationPolicyStatements = (): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes('RotationRole'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);

describe('rotation of service secrets', () => {
  it('schedules every created secret, and no imported one, on the rotation function every rotationDays', () => {
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')).map((r) => r.Properties);

    expect(schedules).toHaveLength(2);
    expect(schedules.map((s) => s.SecretId).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { Ref: logicalId('billing') },
      { Ref: logicalId('reporting') },
    ]);
    for (const s of schedules) {
      expect(s).toEqual({
        SecretId: expect.anything(),
        RotationLambdaARN: { 'Fn::GetAtt': [rotationFnId, 'Arn'] },
        RotationRules: { ScheduleExpression: 'rate(7 days)' },
        RotateImmediatelyOnUpdate: false,
      });
    }
    expect(JSON.stringify(schedules)).not.toContain('legacy');
  });

  it('rotates every 30 days by default, and refuses an interval Secrets Manager would refuse', () => {
    const { template: t } = synth();
    for (const s of Object.values(t.findResources('AWS::SecretsManager::RotationSchedule'))) {
      expect(s.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    }
    expect(() => synth({ rotationDays: 0 })).toThrow(/rotationDays/);
    expect(() => synth({ rotationDays: 1001 })).toThrow(/rotationDays/);
    expect(() => synth({ rotationDays: 1.5 })).toThrow(/rotationDays/);
  });

  it('builds one rotation function (arm64, Node.js 24, 30 s timeout), and none when no secret is created', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
    expect(functions).toHaveLength(1);
    expect(functions[0]).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30, Description: expect.stringContaining('rotates') });

    // Only imported secrets: nothing to rotate, nothing built (their owners rotate them).
    const none = new ServiceSecrets(new Stack(newApp(), 'Imported'), 'ServiceSecrets', { create: [], existing: { legacy: 'gatehouse/services/legacy' } });
    expect(none.rotationFunction).toBeUndefined();
    expect(none.node.findAll().filter((c) => c instanceof CfnFunction || c instanceof CfnRotationSchedule)).toEqual([]);
  });

  it("limits the function's policy to the four steps' calls on the created secrets, and its logs", () => {
    const statements = rotationPolicyStatements();
    const secrets = statements.filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));

    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Effect).toBe('Allow');
    expect([...actions(secrets[0]!)].sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    expect(secrets[0]!.Resource).toEqual([{ Ref: logicalId('billing') }, { Ref: logicalId('reporting') }]);
    // Nothing else: no wildcard resource (no GetRandomPassword on "*"), nothing on the imported secret.
    expect(statements.flatMap(actions).filter((a) => !a.startsWith('secretsmanager:')).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(statements.filter((s) => JSON.stringify(s.Resource).includes('"*"') || s.Resource === '*')).toEqual([]);
    expect(JSON.stringify(statements)).not.toContain('legacy');
  });

  it('lets Secrets Manager of this account invoke the function, and creates each schedule only after that', () => {
    const permissions = template.findResources('AWS::Lambda::Permission');
    expect(Object.values(permissions).map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [rotationFnId, 'Arn'] },
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    ]);
    const [permissionId] = Object.keys(permissions);
    const policyId = Object.keys(template.findResources('AWS::IAM::Policy')).find((id) => id.includes('Rotation'))!;
    for (const s of Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'))) {
      expect(s.DependsOn).toEqual(expect.arrayContaining([permissionId, policyId, rotationFnId]));
    }
  });

  it('passes cdk-nag AwsSolutions with no acknowledgement of SMG4 (rotation) or IAM5 (wildcards) left', () => {
    const result = new AwsSolutionsChecks(app).validateScope(app);

    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    const acknowledged = services.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .map((m) => JSON.stringify(m.data));
    expect(acknowledged.filter((a) => /SMG4|IAM5/.test(a))).toEqual([]);
  });

  it('still needs the schedule for SMG4: without rotation a created secret is a finding (the check above can fail)', () => {
    const control = newApp();
    const unscheduled = new ServiceSecrets(new Stack(control, 'Control'), 'ServiceSecrets', { create: ['billing'] });
    expect(unscheduled.node.findChild('billing').node.tryRemoveChild('RotationSchedule')).toBe(true);

    const result = new AwsSolutionsChecks(control).validateScope(control);

    expect(result.violations.map((v) => v.ruleName)).toContain('AwsSolutions-SMG4');
  });
});

describe('in the Gatehouse stack', () => {
  const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
  const gatehouse = (doc: unknown) => {
    const a = newApp();
    return Template.fromStack(new GatehouseStack(a, 'Gatehouse', { config: parseStackConfig(doc) }));
  };

  it('rotates the secrets it creates for services and signers without a secretId, with the deployment log retention', () => {
    const t = gatehouse({ ...example, deployment: { ...example.deployment, logRetentionDays: 90 } });
    const schedules = Object.values(t.findResources('AWS::SecretsManager::RotationSchedule'));

    const created = (list: { secretId?: string }[] = []) => list.filter((s) => !s.secretId).length;
    // Service and signer secrets alike, all on the one rotation function.
    expect(schedules).toHaveLength(created(example.services) + created(example.signers));
    expect(JSON.stringify(schedules[0]!.Properties.SecretId)).toContain('ServiceSecretsreporting');
    const rotationLogs = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.includes('ServiceSecretsRotation'));
    expect(rotationLogs.map(([, g]) => g.Properties.RetentionInDays)).toEqual([90]);
  });
});
