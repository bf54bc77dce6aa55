import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../../contract/stack-config';
import { GatehouseStack } from '../../lib/gatehouse-stack';

/**
 * Rate limits in the stack: one usage plan per tier at the configured headroom, apiKeyRequired exactly on the
 * routes whose every caller has a tenant (and so a usage-plan key), the tiers rendered for the limited handlers,
 * and the authorizer told to refuse tenants without a usage-plan key. Asset bundling is skipped.
 */
const ROOT = path.resolve(__dirname, '../..');
const cdkContext = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

function synth(doc: Record<string, unknown>) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(doc) }));
}
type Resource = { Properties: Record<string, any> };
const all = (t: Template, type: string) => Object.values(t.findResources(type)) as Resource[];

const tiers = { default: { requestsPerMinute: 100, burst: 200 }, pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 1_000_000, onLimiterError: 'closed' } };
const template = synth({ ...example, rateLimits: { tiers, usagePlanHeadroom: 2 } });

it('creates one usage plan per tier at twice its rate, burst and quota, on the stage', () => {
  const plans: Record<string, Record<string, any>> = Object.fromEntries(all(template, 'AWS::ApiGateway::UsagePlan').map((p) => [p.Properties.UsagePlanName, p.Properties]));
  expect(Object.keys(plans).sort()).toEqual(['Gatehouse-tier-default', 'Gatehouse-tier-pro']);
  expect(plans['Gatehouse-tier-default']).toMatchObject({ Throttle: { RateLimit: 3.34, BurstLimit: 400 } });
  expect(plans['Gatehouse-tier-default']!.Quota).toBeUndefined();
  expect(plans['Gatehouse-tier-pro']).toMatchObject({ Throttle: { RateLimit: 33.34, BurstLimit: 4000 }, Quota: { Limit: 2_000_000, Period: 'MONTH' } });
  for (const p of Object.values(plans)) expect(p.ApiStages).toEqual([expect.objectContaining({ ApiId: expect.anything(), Stage: expect.anything() })]);
});

it('requires a usage-plan key on tenant routes only: not on public, service or signed routes', () => {
  const methods = all(template, 'AWS::ApiGateway::Method').filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
  const keyed = methods.filter((m) => m.Properties.ApiKeyRequired === true);
  const unkeyed = methods.filter((m) => m.Properties.ApiKeyRequired !== true);
  const tenantRoutes = example.routes.filter((r: { public?: boolean; accepts?: string[] }) => !r.public && !r.accepts?.includes('service') && !r.accepts?.includes('signed'));
  expect(keyed).toHaveLength(tenantRoutes.length);
  // /internal/jobs, /v1/webhooks/{source} and /health
  expect(unkeyed.map((m) => m.Properties.AuthorizationType).sort()).toEqual(['CUSTOM', 'CUSTOM', 'NONE']);
  expect(all(template, 'AWS::ApiGateway::RestApi')[0]!.Properties.ApiKeySourceType).toBe('AUTHORIZER');
});

it('no usage-plan key where a user may have no tenant (an issuer with tenantRequired: false)', () => {
  const loose = synth({ ...example, issuers: [{ ...example.issuers[0], tenantRequired: false }] });
  const keyed = all(loose, 'AWS::ApiGateway::Method').filter((m) => m.Properties.ApiKeyRequired === true);
  // Only routes that accept API keys alone would stay keyed; the example has none, so none are.
  expect(keyed).toHaveLength(0);
});

it('gives the limited handlers the tiers and tells the authorizer to refuse tenants without a usage-plan key', () => {
  const fns = all(template, 'AWS::Lambda::Function').map((f) => f.Properties);
  const limited = fns.filter((f) => f.Environment?.Variables?.RATE_LIMIT_TIERS);
  expect(limited.map((f) => f.Description).sort()).toEqual([
    'Gatehouse: echoes the caller auth context',
    "Gatehouse: tenant admins manage their tenant's API keys",
    'Gatehouse: tenant-scoped customers',
  ]);
  expect(JSON.parse(limited[0]!.Environment.Variables.RATE_LIMIT_TIERS)).toEqual({
    default: { requestsPerMinute: 100, burst: 200, onLimiterError: 'open' },
    pro: { requestsPerMinute: 1000, burst: 2000, monthlyQuota: 1_000_000, onLimiterError: 'closed' },
  });
  const authorizer = fns.find((f) => f.Environment?.Variables?.GATEHOUSE_CONFIG)!;
  const rendered = JSON.stringify(authorizer.Environment.Variables.GATEHOUSE_CONFIG);
  expect(rendered).toMatch(/requireUsageKey\\*":true/);
});

it('refuses more tiers than API Gateway has usage plans', () => {
  const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, { requestsPerMinute: 10, burst: 10 }]));
  expect(() => synth({ ...example, rateLimits: { tiers: many } })).toThrow(/301 tiers, but API Gateway allows 300 usage plans/);
});
