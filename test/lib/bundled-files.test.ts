import { App, Stack } from 'aws-cdk-lib';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { GatehouseFunction } from '../../lib/gatehouse-function';

/**
 * Files bundled with a function's code (the authorizer's configuration, the handlers' rate-limit tiers) really are
 * in the asset CDK uploads, next to index.js where the code reads them, and a change of content is a new asset
 * (new code deployed). This test bundles for real with the local esbuild, as `cdk synth` does.
 */
function bundle(files: Record<string, string>): { dir: string; hash: string } {
  const app = new App();
  const stack = new Stack(app, 'Bundled');
  new GatehouseFunction(stack, 'Fn', { entry: 'lambdas/handlers/health.ts', description: 'bundled files test', bundledFiles: files });
  const assembly = app.synth();
  const template = assembly.getStackByName('Bundled').template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
  const hash = String(fn.Properties.Code!.S3Key).replace(/\.zip$/, '');
  return { dir: path.join(assembly.directory, `asset.${hash}`), hash };
}

describe('GatehouseFunction bundledFiles', () => {
  it('writes each file next to the bundled code', () => {
    const { dir } = bundle({ 'gatehouse-config.json': '{"environment":"live"}', 'rate-limit-tiers.json': '{}' });

    expect(readdirSync(dir).sort()).toEqual(['gatehouse-config.json', 'index.js', 'rate-limit-tiers.json']);
    expect(readFileSync(path.join(dir, 'gatehouse-config.json'), 'utf8')).toBe('{"environment":"live"}');
  }, 60_000);

  it('makes a new asset when a file changes', () => {
    expect(bundle({ 'gatehouse-config.json': '{"environment":"live"}' }).hash).not.toBe(bundle({ 'gatehouse-config.json': '{"environment":"test"}' }).hash);
  }, 60_000);
});

describe('GatehouseFunction limits checked at synth', () => {
  const make = (props: { environment?: Record<string, string>; bundledFiles?: Record<string, string> }) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Limits');
    return () => new GatehouseFunction(stack, 'Fn', { entry: 'lambdas/handlers/health.ts', description: 'limits test', ...props });
  };

  it("fails synth, naming the largest variable, when the environment would pass Lambda's 4 KB", () => {
    expect(make({ environment: { SMALL: 'x', BIG: 'y'.repeat(4096) } })).toThrow(/limits test: its environment variables take about 4\d{3} bytes \(the largest is BIG\); Lambda allows 4096 in all/);
    expect(make({ environment: { FITS: 'y'.repeat(3500) } })).not.toThrow();
  });

  it('refuses a bundled file that holds a deploy-time value (it could never be resolved in a file)', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Tokens');
    const file = JSON.stringify({ region: stack.region });
    expect(() => new GatehouseFunction(stack, 'Fn', { entry: 'lambdas/handlers/health.ts', description: 'tokens', bundledFiles: { 'x.json': file } })).toThrow(
      'GatehouseFunction: x.json must be known at synth time (it holds a deploy-time value)',
    );
  });
});
