import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';

/**
 * The hosted-provider presets through `cdk synth`: the example configuration with presets synthesizes and hands them
 * to the authorizer as written, and a wrong preset fails synth with the field named. Asset bundling is skipped (CI's
 * `npm run synth` bundles); cdk.json's context is merged so feature flags match the real synth.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synth(issuers: unknown[]) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig({ ...example, issuers }) });
  return { stack, template: Template.fromStack(stack) };
}

const cognito = { type: 'cognito', userPoolId: 'us-west-2_example', clientIds: ['xxxxxxxxxxxxexample'] };
const auth0 = { type: 'auth0', domain: 'exampleco.auth0.com', audience: 'https://example-api/' };

describe('issuer presets in the stack', () => {
  it('synthesizes with presets and bundles each with the authorizer as written', () => {
    const presets = [
      cognito,
      auth0,
      { type: 'clerk', frontendApiUrl: 'https://clerk.your-site.com', authorizedParties: ['https://example.com'] },
      { type: 'entra', tenants: ['72f988bf-86f1-41af-91ab-2d7cd011db47'], audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' },
    ];

    const { stack } = synth(presets);

    const rendered = stack.authorizer.document;
    expect(JSON.parse(rendered).issuers.map((i: { type: string }) => i.type)).toEqual(['cognito', 'auth0', 'clerk', 'entra']);
    for (const fragment of ['us-west-2_example', 'exampleco.auth0.com', 'https://clerk.your-site.com', '72f988bf-86f1-41af-91ab-2d7cd011db47']) {
      expect(rendered).toContain(fragment);
    }
  });

  it('fails synth on a wrong preset with a message naming the field', () => {
    expect(() => synth([{ ...cognito, userPoolId: 'example' }])).toThrow(/issuers\[0\]\.userPoolId: a user pool id looks like/);
    expect(() => synth([...example.issuers, { ...auth0, audience: 'https://exampleco.auth0.com/api/v2/' }])).toThrow(/issuers\[2\]\.audience: that is the Management API/);
    expect(() => synth([{ type: 'entra', tenants: ['common'], audience: 'x' }])).toThrow(/issuers\[0\]\.tenants\[0\]: an Entra tenant id is a lowercase GUID/);
  });
});
