/**
 * `npm run size:stack`: what the synthesized stack weighs against the deploy-time limits AWS applies and `cdk synth`
 * does not check, for route tables of 13 (the example) to 1,000 routes, as a REST API and as an HTTP API
 * (`deployment.api: "http"`, config/gatehouse.http.example.json). Asset bundling is skipped: sizes, not code.
 * The limits it prints: 500 resources per stack and 1 MB of template (CloudFormation), 4 KB of environment per
 * function and 20 KB of resource policy (Lambda), 300 resources per REST API by default (API Gateway; an HTTP API
 * counts routes instead, 300 per API by default, so the column is left empty for http rows).
 */
import { App } from 'aws-cdk-lib';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../contract/stack-config';
import { apiResourceCount } from '../lib/gatehouse-api';
import { GatehouseStack } from '../lib/gatehouse-stack';
import { routeTable } from './route-table';

const ROOT = path.resolve(__dirname, '..');
const context = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));

type Resource = { Type: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } };
const envBytes = (r: Resource) =>
  Object.entries(r.Properties?.Environment?.Variables ?? {}).reduce((n, [k, v]) => n + k.length + (typeof v === 'string' ? v.length : 256), 0);

const rows = [['api', 'routes', 'stack resources', 'permissions', 'max env bytes', 'API resources', 'template KB', 'authorizer config KB']];
for (const [api, count] of (['rest', 'http'] as const).flatMap((kind) => [13, 60, 150, 500, 1000].map((n) => [kind, n] as const))) {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const routes = routeTable(example.routes, count);
  const stack = new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig({ ...example, routes, deployment: { ...example.deployment, api } }) });
  const artifact = app.synth().getStackByName(stack.stackName);
  const resources = Object.values(artifact.template.Resources as Record<string, Resource>);
  rows.push([
    api,
    String(count),
    String(resources.length),
    String(resources.filter((r) => r.Type === 'AWS::Lambda::Permission').length),
    String(Math.max(...resources.filter((r) => r.Type === 'AWS::Lambda::Function').map(envBytes))),
    api === 'rest' ? String(apiResourceCount(routes.map((r) => String(r.path)))) : '',
    (statSync(artifact.templateFullPath).size / 1024).toFixed(0),
    (stack.authorizer.document.length / 1024).toFixed(1),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padStart(widths[i]!)).join('  ')}\n`);
process.stdout.write(
  'limits: 500 resources per stack, 1024 KB of template, 4096 bytes of environment per function, 300 API resources per REST API by default; ' +
    'an HTTP API: 300 routes by default, 300 integrations (one per handler and per backend route; fixed)\n',
);
