import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';

/**
 * The stack's alarms, their actions and its dashboard, read from the synthesized template (bundling skipped, cdk.json's
 * context merged, as in gatehouse-stack.test.ts). The first describe is issue 16's property: no alarm's metric can
 * count a 401 or a 403, because every expired token is one.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synth(alarms?: Record<string, unknown>) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const doc = alarms === undefined ? example : { ...example, deployment: { ...example.deployment, alarms } };
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) });
  return { app, template: Template.fromStack(stack) };
}

/** CloudFormation properties, read as the template has them. */
type Props = Record<string, any>;
const resources = (t: Template, type: string) => Object.entries(t.findResources(type)).map(([id, r]) => ({ id, props: r.Properties as Props }));
const alarmsOf = (t: Template) => resources(t, 'AWS::CloudWatch::Alarm');

/** What an alarm reads: its own metric, or each metric of its metric math. */
interface ReadMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, unknown>;
}
function metricsOf(alarm: Props): ReadMetric[] {
  const dims = (list: { Name: string; Value: unknown }[] = []) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
  if (alarm.MetricName !== undefined) return [{ namespace: alarm.Namespace, metricName: alarm.MetricName, dimensions: dims(alarm.Dimensions) }];
  return (alarm.Metrics as Props[])
    .filter((m) => m.MetricStat)
    .map((m) => ({ namespace: m.MetricStat.Metric.Namespace, metricName: m.MetricStat.Metric.MetricName, dimensions: dims(m.MetricStat.Metric.Dimensions) }));
}

/** The access-log filter that counts authorizer failures: API Gateway's two response types for a failed authorizer. */
const AUTHORIZER_FAILURE_PATTERN = '{ ($.errorType = "AUTHORIZER_FAILURE") || ($.errorType = "AUTHORIZER_CONFIGURATION_ERROR") }';

describe('GatehouseStack observability', () => {
  const { template } = synth();
  const authorizerFunction = resources(template, 'AWS::Lambda::Function').find((f) => f.props.Environment?.Variables?.GATEHOUSE_TABLE_NAME)!.id;
  const handlerFunctions = resources(template, 'AWS::Lambda::Function')
    .filter((f) => f.id.startsWith('Handlers'))
    .map((f) => f.id);

  describe('no alarm counts a 401 or a 403', () => {
    const read = alarmsOf(template).flatMap((a) => metricsOf(a.props).map((m) => ({ alarm: a.id, ...m })));

    it('reads metrics from the alarms (the checks below are not vacuous)', () => {
      expect(alarmsOf(template).length).toBeGreaterThanOrEqual(5);
      expect(read.length).toBe(alarmsOf(template).length);
    });

    it("never reads the authorizer function's Lambda Errors, which counts every thrown Unauthorized (401)", () => {
      const lambda = read.filter((m) => m.namespace === 'AWS/Lambda');

      expect(lambda.filter((m) => m.metricName === 'Errors' && JSON.stringify(m.dimensions).includes(authorizerFunction))).toEqual([]);
      // Errors only of handlers (they answer 4xx as responses, so their Errors are crashes and timeouts), and Throttles.
      for (const m of lambda) {
        expect(['Errors', 'Throttles']).toContain(m.metricName);
        if (m.metricName === 'Errors') expect(handlerFunctions).toContain((m.dimensions.FunctionName as { Ref: string }).Ref);
      }
    });

    it('reads the authorizer decision count only for decision error, never unauthorized, deny or a reason code', () => {
      const decisions = read.filter((m) => m.namespace === 'Gatehouse');

      expect(decisions.length).toBeGreaterThan(0);
      for (const m of decisions) expect(m).toMatchObject({ metricName: 'Decisions', dimensions: { decision: 'error' } });
      for (const m of decisions) expect(Object.keys(m.dimensions)).toEqual(['decision']);
    });

    it("reads API Gateway's 5XXError only, never 4XXError or Count", () => {
      const apiGateway = read.filter((m) => m.namespace === 'AWS/ApiGateway');

      expect(apiGateway.map((m) => m.metricName)).toEqual(['5XXError']);
    });

    it('reads a log metric only through a filter that matches the two authorizer-failure response types, nothing a 401 or 403 has', () => {
      const filters = resources(template, 'AWS::Logs::MetricFilter');
      const accessLog = resources(template, 'AWS::ApiGateway::Stage')[0]!.props.AccessLogSetting;
      const logGroups = resources(template, 'AWS::Logs::LogGroup').map((g) => g.id);
      const accessLogGroup = logGroups.filter((id) => JSON.stringify(accessLog.DestinationArn).includes(`"${id}"`));
      const others = read.filter((m) => !['AWS/Lambda', 'Gatehouse', 'AWS/ApiGateway'].includes(m.namespace));

      expect(others.length).toBeGreaterThan(0);
      for (const m of others) {
        const filter = filters.filter((f) => f.props.MetricTransformations.some((t: Props) => t.MetricName === m.metricName && t.MetricNamespace === m.namespace));
        expect(filter).toHaveLength(1);
        expect(filter[0]!.props.FilterPattern).toBe(AUTHORIZER_FAILURE_PATTERN);
        expect(filter[0]!.props.FilterPattern).not.toMatch(/UNAUTHORIZED"|ACCESS_DENIED|401|403/);
        // On the stage's access log, where errorType is $context.error.responseType.
        expect(filter[0]!.props.LogGroupName).toEqual({ Ref: accessLogGroup[0] });
      }
      expect(accessLogGroup).toHaveLength(1);
      expect(accessLog.Format).toContain('"errorType":"$context.error.responseType"');
    });
  });

  describe('the alarms', () => {
    it('fire on authorizer failures, dependency errors, throttles, handler crashes and API 5xx, with the default thresholds', () => {
      const byName = Object.fromEntries(alarmsOf(template).map((a) => [a.props.AlarmName, a.props]));

      expect(byName['Gatehouse-AuthorizerFailures']).toMatchObject({ MetricName: 'AuthorizerFailures', Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(byName['Gatehouse-AuthorizerDependencyErrors']).toMatchObject({ MetricName: 'Decisions', Threshold: 5 });
      expect(byName['Gatehouse-AuthorizerThrottles']).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
      expect(byName['Gatehouse-HandlerErrors-customers']).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
      expect(byName['Gatehouse-HandlerThrottles-customers']).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
      expect(byName['Gatehouse-Api5xx']).toMatchObject({ MetricName: '5XXError', Threshold: 5 });
      expect(alarmsOf(template)).toHaveLength(4 + 2 * handlerFunctions.length);
      for (const a of alarmsOf(template)) expect(a.props).toMatchObject({ TreatMissingData: 'notBreaching', Period: 300, Statistic: 'Sum' });
    });

    it('take their thresholds from deployment.alarms', () => {
      const { template: t } = synth({ api5xxPer5Minutes: 20, handlerErrorsPer5Minutes: 3 });
      const byName = Object.fromEntries(alarmsOf(t).map((a) => [a.props.AlarmName, a.props]));

      expect(byName['Gatehouse-Api5xx'].Threshold).toBe(20);
      expect(byName['Gatehouse-HandlerErrors-me'].Threshold).toBe(3);
    });

    it('have no actions, and the stack no topic, when neither topicArn nor email is given', () => {
      for (const a of alarmsOf(template)) {
        expect(a.props.AlarmActions).toBeUndefined();
        expect(a.props.OKActions).toBeUndefined();
      }
      template.resourceCountIs('AWS::SNS::Topic', 0);
      expect(template.toJSON().Outputs.AlarmTopicArn).toBeUndefined();
    });
  });

  describe('alarm actions', () => {
    it('notify an existing topic when it fires and when it clears (topicArn)', () => {
      const arn = 'arn:aws:sns:eu-west-1:123456789012:oncall';
      const { template: t } = synth({ topicArn: arn });

      for (const a of alarmsOf(t)) expect(a.props).toMatchObject({ AlarmActions: [arn], OKActions: [arn] });
      t.resourceCountIs('AWS::SNS::Topic', 0);
      expect(t.toJSON().Outputs.AlarmTopicArn).toBeUndefined();
    });

    describe('a topic the stack creates (email)', () => {
      const { app, template: t } = synth({ email: 'oncall@example.com' });
      const topic = resources(t, 'AWS::SNS::Topic');

      it('creates one encrypted topic with the email subscription, wires every alarm to it and outputs its ARN', () => {
        expect(topic).toHaveLength(1);
        const key = resources(t, 'AWS::KMS::Key');
        expect(key).toHaveLength(1);
        expect(topic[0]!.props.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key[0]!.id, 'Arn'] });
        t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topic[0]!.id } });
        for (const a of alarmsOf(t)) expect(a.props).toMatchObject({ AlarmActions: [{ Ref: topic[0]!.id }], OKActions: [{ Ref: topic[0]!.id }] });
        expect(t.toJSON().Outputs.AlarmTopicArn.Value).toEqual({ Ref: topic[0]!.id });
      });

      it('lets CloudWatch use the key and publish, only for this account, and refuses publishing without TLS', () => {
        const key = resources(t, 'AWS::KMS::Key')[0]!.props;
        expect(key.EnableKeyRotation).toBe(true);
        expect(key.KeyPolicy.Statement).toContainEqual({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
        });
        const statements = resources(t, 'AWS::SNS::TopicPolicy')[0]!.props.PolicyDocument.Statement as Props[];
        expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        );
      });

      it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
        const result = new AwsSolutionsChecks(app).validateScope(app);

        expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
      });
    });

    it('creates the topic without a subscription for createTopic: true', () => {
      const { template: t } = synth({ createTopic: true });

      t.resourceCountIs('AWS::SNS::Topic', 1);
      t.resourceCountIs('AWS::SNS::Subscription', 0);
      expect(t.toJSON().Outputs.AlarmTopicArn).toBeDefined();
    });
  });

  describe('the dashboard', () => {
    const dashboards = resources(template, 'AWS::CloudWatch::Dashboard');
    // The body is a Fn::Join of text and references: each reference becomes `<logical id>` (GetAtt) or its Ref.
    const join = dashboards[0]!.props.DashboardBody['Fn::Join'][1] as (string | Props)[];
    const body = JSON.parse(join.map((p) => (typeof p === 'string' ? p : p['Fn::GetAtt'] ? p['Fn::GetAtt'][0] : p.Ref)).join(''));
    const widgets = body.widgets as Props[];
    const byTitle = (title: string) => widgets.find((w) => w.properties.title === title)!.properties;

    it('is one dashboard named after the stack', () => {
      expect(dashboards).toHaveLength(1);
      expect(dashboards[0]!.props.DashboardName).toBe('Gatehouse');
    });

    it('shows the state of every alarm', () => {
      expect(byTitle('Alarms').alarms.sort()).toEqual(alarmsOf(template).map((a) => a.id).sort());
    });

    it('charts decisions by every outcome, and by reason code with a SEARCH expression', () => {
      const outcomes = byTitle('Decisions by outcome').metrics.map((m: unknown[]) => m.slice(0, 4));

      expect(outcomes).toEqual(['allow', 'deny', 'unauthorized', 'error'].map((d) => ['Gatehouse', 'Decisions', 'decision', d]));
      expect(byTitle('Decisions by reason code').metrics).toEqual([[{ expression: `SEARCH('{Gatehouse,reason} MetricName="Decisions"', 'Sum', 300)` }]]);
    });

    it("charts the authorizer's duration p50 and p99, its failures and dependency errors, 429s, and the API's 4xx and 5xx", () => {
      const stats = byTitle('Authorizer duration (ms)').metrics.map((m: unknown[]) => [m[1], m[3], (m[4] as Props).stat]);
      expect(stats).toEqual([
        ['Duration', authorizerFunction, 'p50'],
        ['Duration', authorizerFunction, 'p99'],
      ]);
      const failures = byTitle('Authorizer failures (500)').metrics.map((m: unknown[]) => m[1]);
      expect(failures).toEqual(['AuthorizerFailures', 'Decisions', 'Throttles']);
      expect(byTitle('429 Too Many Requests').metrics[0].slice(0, 2)).toEqual(['Gatehouse/Gatehouse', 'TooManyRequests']);
      const api = byTitle('API responses').metrics.map((m: unknown[]) => m[1]);
      expect(api).toEqual(['4XXError', '5XXError', 'Count']);
    });

    it("counts 429s from the access log's status, whoever answered them (the handlers' limiter or a usage plan)", () => {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [{ MetricName: 'TooManyRequests', MetricNamespace: 'Gatehouse/Gatehouse', MetricValue: '1', DefaultValue: 0 }],
      });
    });
  });

  describe('configuration errors', () => {
    it('fails synth on the retired 401 and 403 thresholds, saying where those counts went', () => {
      for (const field of ['unauthorizedPer5Minutes', 'forbiddenPer5Minutes']) {
        expect(() => synth({ [field]: 500 })).toThrow(
          new RegExp(`deployment\\.alarms\\.${field}: 401 and 403 counts no longer raise alarms .*moved to the dashboard \\(Decisions by outcome\\)\\. Remove this field`),
        );
      }
    });

    it('refuses a topic ARN of the wrong shape, a FIFO topic, a bad email, and an existing topic together with a created one', () => {
      expect(() => synth({ topicArn: 'oncall' })).toThrow(/deployment\.alarms\.topicArn: an SNS topic ARN looks like/);
      expect(() => synth({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall.fifo' })).toThrow(/deployment\.alarms\.topicArn/);
      expect(() => synth({ topicArn: 'arn:aws:sqs:eu-west-1:123456789012:oncall' })).toThrow(/deployment\.alarms\.topicArn/);
      expect(() => synth({ email: 'oncall' })).toThrow(/deployment\.alarms\.email/);
      expect(() => synth({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall', email: 'oncall@example.com' })).toThrow(/deployment\.alarms\.topicArn: either an existing topic/);
      expect(() => synth({ email: 'oncall@example.com', createTopic: false })).toThrow(/deployment\.alarms\.createTopic/);
      expect(() => synth({ api5xxPer5Minutes: 0 })).toThrow(/deployment\.alarms\.api5xxPer5Minutes/);
    });
  });
});
