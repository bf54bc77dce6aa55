import { App, Stack } from 'aws-cdk-lib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { CORS_FILE, corsPolicy, corsSchema } from '../../contract/cors';
import { GatehouseFunction } from '../../lib/gatehouse-function';

/**
 * The policy really travels with a handler and is honoured there: the health handler bundled for real (as `cdk
 * synth` does) with CORS_FILE next to it, its bundle run by Node as Lambda runs it (CommonJS, `__dirname` the
 * bundle's folder), answering a request from the allowed origin with the headers and one from another without.
 */
const APP = 'http://localhost:5173';

function bundleDir(files: Record<string, string>): string {
  const app = new App();
  const stack = new Stack(app, 'CorsBundle');
  new GatehouseFunction(stack, 'Fn', { entry: 'lambdas/handlers/health.ts', description: 'cors bundle test', bundledFiles: files });
  const assembly = app.synth();
  const template = assembly.getStackByName('CorsBundle').template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
  return path.join(assembly.directory, `asset.${String(fn.Properties.Code!.S3Key).replace(/\.zip$/, '')}`);
}

/** The bundled handler's answer to GET /health from `origin`, run in a separate Node process. */
function invoke(dir: string, origin: string): { statusCode: number; headers: Record<string, string> } {
  const event = { httpMethod: 'GET', resource: '/health', path: '/health', headers: { Origin: origin }, requestContext: { requestId: 'r-1' }, body: null };
  const script = `require(${JSON.stringify(path.join(dir, 'index.js'))}).handler(${JSON.stringify(event)}, {}).then((r) => process.stdout.write(JSON.stringify(r)))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

it(`a bundled handler reads ${CORS_FILE} and answers with its headers`, () => {
  const policy = corsPolicy(corsSchema.parse({ allowOrigins: [APP], allowCredentials: true }));
  const dir = bundleDir({ [CORS_FILE]: JSON.stringify(policy) });

  const allowed = invoke(dir, APP);
  expect(allowed.statusCode).toBe(200);
  expect(allowed.headers).toMatchObject({ 'Access-Control-Allow-Origin': APP, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' });

  const other = invoke(dir, 'https://evil.example');
  expect(other.statusCode).toBe(200);
  expect(Object.keys(other.headers).filter((k) => k.toLowerCase().startsWith('access-control-'))).toEqual([]);
}, 120_000);
