import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';

/** The api-keys handler is told the configured per-tenant key cap (apiKeys.maxPerTenant), the default one too. */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function apiKeysEnvironment(doc: Record<string, unknown>): Record<string, unknown> {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) }));
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: Record<string, any> }[];
  return fns.find((f) => String(f.Properties.Description).includes("manage their tenant's API keys"))!.Properties.Environment.Variables;
}

it('passes apiKeys.maxPerTenant as API_KEYS_MAX_PER_TENANT, and the default (100) when it is not set', () => {
  expect(apiKeysEnvironment({ ...example, apiKeys: { ...example.apiKeys, maxPerTenant: 25 } })).toMatchObject({ API_KEYS_MAX_PER_TENANT: '25', API_KEY_PREFIX: 'gh' });
  expect(apiKeysEnvironment(example)).toMatchObject({ API_KEYS_MAX_PER_TENANT: '100' });
});
