/**
 * The deployed authorizer as Lambda loads it: bundled with the stack's esbuild options, required in a fresh node
 * process (the AWS SDK resolved from node_modules, as the runtime provides it), deciding real requests. Properties
 * only, never timings: the bundle's size, and which modules a decision loads. Init time is measured in bench/.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { type BuildOptions, build } from 'esbuild';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateApiKey } from '../../../contract/api-key';
import type { AuthorizerConfigInput } from '../../../contract/config';
import { DEAD_ENDPOINT } from '../../support/faults';
import { authorizerEvent } from '../../support/fixture';
import { type JwksServer, type TestKey, makeKey, nowSeconds, signWith, startJwksServer } from '../../support/jwt';
import { AUTHORIZER_CONFIG_FILE, AUTHORIZER_TABLE_ENV } from '../../../contract/bundled-config';

const REPO = path.resolve(__dirname, '../../..');
const BUDGET_BYTES = 150 * 1024;

/** lib/gatehouse-function.ts's `bundling` for every function, as esbuild options (NodejsFunction's platform is node). */
const STACK_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  minify: true,
  sourcemap: false,
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
};

/**
 * Runs in the child: records every module request (Module._load) from the moment the bundle is required, and the SDK
 * files in require.cache after each step (which also catches a package loaded through `import()`, the ES module
 * loader), answering each event in turn. The handler's JSON log lines go to stdout; the report goes to a file.
 */
const PROBE = `
const Module = require('node:module');
const fs = require('node:fs');
const loads = [];
const load = Module._load;
Module._load = function (request, parent, isMain) {
  loads.push(request);
  return load.apply(this, arguments);
};
(async () => {
  const steps = JSON.parse(fs.readFileSync(process.env.STEPS, 'utf8'));
  const report = [];
  const { handler } = require(process.env.BUNDLE);
  const sdkFiles = () => Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/]@(aws-sdk|smithy)[\\/]/.test(f)).length;
  report.push({ label: 'init', loads: loads.splice(0), sdkFiles: sdkFiles() });
  for (const step of steps) {
    let outcome;
    try {
      outcome = { result: await handler(step.event) };
    } catch (err) {
      outcome = { error: String(err && err.message) };
    }
    report.push({ label: step.label, loads: loads.splice(0), sdkFiles: sdkFiles(), ...outcome });
  }
  fs.writeFileSync(process.env.REPORT, JSON.stringify(report));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

interface StepReport {
  readonly label: string;
  readonly loads: string[];
  /** SDK files (`@aws-sdk/*`, `@smithy/*`) in require.cache after the step. */
  readonly sdkFiles: number;
  readonly result?: APIGatewayAuthorizerResult;
  readonly error?: string;
}

const sdkLoads = (loads: readonly string[]) => loads.filter((m) => /^@(aws-sdk|smithy)\//.test(m));

describe('authorizer cold start (the bundle the stack deploys)', () => {
  let dir: string;
  let bundle: string;
  let key: TestKey;
  let jwks: JwksServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cold-start-'));
    bundle = path.join(dir, 'authorizer.js');
    await build({ ...STACK_BUNDLING, absWorkingDir: REPO, entryPoints: ['lambdas/authorizer/index.ts'], outfile: bundle, logLevel: 'silent' });
    key = await makeKey('ES256');
    jwks = await startJwksServer([key.publicJwk]);
  }, 30_000);

  afterAll(async () => {
    await jwks?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Requires the bundle in a fresh node process, deployed as the stack deploys it (the document in
   * gatehouse-config.json next to the code, the table's name in the environment), and answers `steps` in order.
   */
  async function coldStart(config: AuthorizerConfigInput, steps: { label: string; headers: Record<string, string> }[]): Promise<StepReport[]> {
    const { tableName, ...document } = config;
    fs.writeFileSync(path.join(dir, AUTHORIZER_CONFIG_FILE), JSON.stringify(document));
    const stepsFile = path.join(dir, 'steps.json');
    const reportFile = path.join(dir, 'report.json');
    fs.writeFileSync(stepsFile, JSON.stringify(steps.map((s) => ({ label: s.label, event: authorizerEvent(s.headers) }))));
    fs.rmSync(reportFile, { force: true });
    // A clean environment: nothing of the test run's AWS settings, every AWS endpoint dead (a request that does need
    // AWS fails at once), and static credentials so the SDK never probes the instance metadata service.
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: path.join(REPO, 'node_modules'),
      [AUTHORIZER_TABLE_ENV]: tableName!,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'cold-start-test',
      AWS_SECRET_ACCESS_KEY: 'cold-start-test',
      AWS_ENDPOINT_URL: DEAD_ENDPOINT,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      BUNDLE: bundle,
      STEPS: stepsFile,
      REPORT: reportFile,
    };
    // Asynchronous: the JWKS server answers from this process while the child runs.
    await promisify(execFile)(process.execPath, ['-e', PROBE], { env, cwd: dir, timeout: 20_000 });
    return JSON.parse(fs.readFileSync(reportFile, 'utf8')) as StepReport[];
  }

  const config = (): AuthorizerConfigInput => ({
    environment: 'live',
    tableName: 'gatehouse-cold-start',
    issuers: [
      {
        type: 'oidc',
        issuer: 'https://login.example.com',
        keys: { jwksUrl: jwks.url },
        algorithms: ['ES256'],
        audience: 'api://gatehouse',
        claims: { tenant: 'org' },
      },
    ],
    apiKeys: { prefix: 'gh' },
    // A user's tenant is taken from the token: no tenant lookup, so a JWT needs no AWS API at all.
    tenants: { verify: false },
    routes: [{ method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'] }],
  });

  const token = () =>
    signWith(key, { iss: 'https://login.example.com', aud: 'api://gatehouse', sub: 'user-1', org: 'acme', iat: nowSeconds(), exp: nowSeconds() + 600 });

  it('is built with the options lib/gatehouse-function.ts gives NodejsFunction', () => {
    // Keeps STACK_BUNDLING honest: change both together.
    const source = fs.readFileSync(path.join(REPO, 'lib/gatehouse-function.ts'), 'utf8');
    for (const option of ['minify: true', "target: 'node22'", 'format: OutputFormat.CJS', "externalModules: ['@aws-sdk/*']", 'sourceMap: false']) {
      expect({ option, found: source.includes(option) }).toEqual({ option, found: true });
    }
  });

  it(`is at most ${BUDGET_BYTES / 1024} KB`, () => {
    expect(fs.statSync(bundle).size).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('loads no AWS SDK module at init nor for a JWT verified against a JWKS; an API key then loads the DynamoDB client', async () => {
    // Act
    const [init, first, second, apiKey] = await coldStart(config(), [
      { label: 'jwt', headers: { Authorization: `Bearer ${await token()}` } },
      { label: 'jwt again', headers: { Authorization: `Bearer ${await token()}` } },
      { label: 'api key', headers: { Authorization: `Bearer ${generateApiKey('gh', 'live')}` } },
    ]);

    // Assert: the JWT decisions were real Allows, made with nothing from the SDK loaded.
    expect(first!.result?.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(second!.result?.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect({ init: sdkLoads(init!.loads), jwt: sdkLoads(first!.loads), jwtAgain: sdkLoads(second!.loads) }).toEqual({ init: [], jwt: [], jwtAgain: [] });
    expect([init!.sdkFiles, first!.sdkFiles, second!.sdkFiles]).toEqual([0, 0, 0]);
    // Everything but the SDK is in the bundle: loading it requires node built-ins only.
    expect(init!.loads.filter((m) => !isBuiltin(m) && m !== bundle)).toEqual([]);
    // The probe sees SDK loads when there are some: the API key needs DynamoDB (a dead endpoint here, so a 500).
    expect(apiKey!.error).toBe('Authorizer dependency failure');
    expect(apiKey!.loads).toContain('@aws-sdk/client-dynamodb');
    expect(apiKey!.loads).not.toContain('@aws-sdk/client-secrets-manager');
    expect(apiKey!.sdkFiles).toBeGreaterThan(0);
  }, 30_000);
});
