import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';
import { apiBody, apiMethods } from '../support/api-definition';
import { RATE_LIMIT_TIERS_FILE } from '../../contract/rate-limit-tiers';

/**
 * Rate limits in the stack: one usage plan per tier at the configured headroom, apiKeyRequired exactly on the
 * routes whose every caller has a tenant (and so a usage-plan key), the tiers rendered for the limited handlers,
 * and the authorizer told to refuse tenants without a usage-plan key. Asset bundling is skipped.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synthStack(doc: Record<string, unknown>) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) });
  return { stack, template: Template.fromStack(stack) };
}
const synth = (doc: Record<string, unknown>) => synthStack(doc).template;
type Resource = { Properties: Record<string, any> };
const all = (t: Template, type: string) => Object.values(t.findResources(type)) as Resource[];

const tiers = { default: { requestsPerMinute: 100, burst: 200 }, pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 1_000_000, onLimiterError: 'closed' } };
const { stack, template } = synthStack({ ...example, rateLimits: { tiers, usagePlanHeadroom: 2 } });

it('creates one usage plan per tier at twice its rate, burst and quota, on the stage', () => {
  const plans: Record<string, Record<string, any>> = Object.fromEntries(all(template, 'AWS::ApiGateway::UsagePlan').map((p) => [p.Properties.UsagePlanName, p.Properties]));
  expect(Object.keys(plans).sort()).toEqual(['Gatehouse-tier-default', 'Gatehouse-tier-pro']);
  expect(plans['Gatehouse-tier-default']).toMatchObject({ Throttle: { RateLimit: 3.34, BurstLimit: 400 } });
  expect(plans['Gatehouse-tier-default']!.Quota).toBeUndefined();
  expect(plans['Gatehouse-tier-pro']).toMatchObject({ Throttle: { RateLimit: 33.34, BurstLimit: 4000 }, Quota: { Limit: 2_000_000, Period: 'MONTH' } });
  for (const p of Object.values(plans)) expect(p.ApiStages).toEqual([expect.objectContaining({ ApiId: expect.anything(), Stage: expect.anything() })]);
});

it('requires a usage-plan key on tenant routes only: not on public, service or signed routes', () => {
  const methods = apiMethods(template).filter((m) => m.HttpMethod !== 'OPTIONS');
  const keyed = methods.filter((m) => m.ApiKeyRequired);
  const unkeyed = methods.filter((m) => !m.ApiKeyRequired);
  const tenantRoutes = example.routes.filter((r: { public?: boolean; accepts?: string[] }) => !r.public && !r.accepts?.includes('service') && !r.accepts?.includes('signed'));
  expect(keyed).toHaveLength(tenantRoutes.length);
  // /internal/jobs, /v1/webhooks/{source} and /health
  expect(unkeyed.map((m) => m.AuthorizationType).sort()).toEqual(['CUSTOM', 'CUSTOM', 'NONE']);
  expect(apiBody(template)['x-amazon-apigateway-api-key-source']).toBe('AUTHORIZER');
  // API Gateway's API key scheme (`api_key`, as its guide names it), which the keyed methods name next to their authorizer.
  expect(apiBody(template).components.securitySchemes.api_key).toEqual(expect.objectContaining({ type: 'apiKey', name: 'x-api-key', in: 'header' }));
});

it('no usage-plan key where a user may have no tenant (an issuer with tenantRequired: false)', () => {
  const loose = synth({ ...example, issuers: [{ ...example.issuers[0], tenantRequired: false }] });
  const keyed = apiMethods(loose).filter((m) => m.ApiKeyRequired);
  // Only routes that accept API keys alone would stay keyed; the example has none, so none are.
  expect(keyed).toHaveLength(0);
});

it('gives the limited handlers the tiers and tells the authorizer to refuse tenants without a usage-plan key', () => {
  const limited = Object.entries(stack.handlers.bundledFiles).filter(([, files]) => files[RATE_LIMIT_TIERS_FILE] !== undefined);
  expect(limited.map(([name]) => name).sort()).toEqual(['api-keys', 'customers', 'me']);
  for (const [, files] of limited) {
    expect(JSON.parse(files[RATE_LIMIT_TIERS_FILE]!)).toEqual({
      default: { requestsPerMinute: 100, burst: 200, onLimiterError: 'open' },
      pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 1_000_000, onLimiterError: 'closed' },
    });
  }
  // Not in the environment: up to 300 tiers would not fit in Lambda's 4 KB.
  const fns = all(template, 'AWS::Lambda::Function').map((f) => f.Properties);
  expect(fns.filter((f) => f.Environment?.Variables?.RATE_LIMIT_TIERS)).toEqual([]);
  expect(JSON.parse(stack.authorizer.document).tenants).toMatchObject({ requireUsageKey: true });
});

it('refuses more tiers than API Gateway has usage plans', () => {
  const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, { requestsPerMinute: 10, burst: 10 }]));
  expect(() => synth({ ...example, rateLimits: { tiers: many } })).toThrow(/301 tiers, but API Gateway allows 300 usage plans/);
});
