import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { alarmTarget } from '../../contract/alarm-config';
import * as gatehouse from '../../lib/index';

/** The package's root entry point (`import ... from 'gatehouse'`), and what GatehouseStack exposes to an app. */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const EXAMPLE = path.join(ROOT, 'config/gatehouse.example.json');
const app = () => new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });

describe("the package's entry point", () => {
  it('exports the stack, the constructs and the configuration parser', () => {
    for (const name of ['GatehouseStack', 'GatehouseApi', 'GatehouseAuthorizer', 'GatehouseTable', 'HandlerFunctions', 'GatehouseFunction', 'parseStackConfig', 'loadStackConfig', 'ConfigError']) {
      expect(typeof (gatehouse as Record<string, unknown>)[name]).toBe('function');
    }
  });
});

describe('GatehouseStack from a configuration file', () => {
  const stack = new gatehouse.GatehouseStack(app(), 'Gatehouse', { configFile: EXAMPLE });

  it('validates the file and keeps the result', () => {
    expect(stack.config.deployment.stageName).toBe('prod');
    expect(stack.config.baseDir).toBe(path.dirname(EXAMPLE));
  });

  it('exposes the API, the authorizer, the table, the handlers, the alarms, the dashboard and the alarm topic', () => {
    expect(stack.api.api.restApiId).toBeDefined();
    expect(stack.authorizer.function.functionArn).toBeDefined();
    expect(stack.table.table.tableName).toBeDefined();
    expect(Object.keys(stack.handlers.functions).sort()).toEqual(['api-keys', 'customers', 'health', 'internal-jobs', 'me', 'webhooks']);
    expect(stack.alarms.alarms.length).toBeGreaterThan(0);
    expect(stack.dashboard.dashboard.dashboardName).toBeDefined();
    expect(stack.alarmTopic === undefined).toBe(alarmTarget(stack.config.deployment.alarms) === undefined);
  });

  it('is the same stack as from the parsed document', () => {
    const doc = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    const fromDoc = new gatehouse.GatehouseStack(app(), 'Gatehouse', { config: doc, baseDir: path.dirname(EXAMPLE) });
    expect(Template.fromStack(fromDoc).toJSON()).toEqual(Template.fromStack(stack).toJSON());
  });
});
