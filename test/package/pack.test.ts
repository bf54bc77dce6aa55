import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Gatehouse as an app installs it from npm: `npm pack` (which builds dist/), examples/cdk-app copied to a temporary
 * folder, the tarball and the example's dependencies installed there (from the npm cache when it has them), then
 * the example type-checked against the package's declarations and synthesized with no AWS credentials. The Lambda
 * bundles are built by the app's esbuild from the sources in its node_modules/gatehouse, with the app's lock file.
 */
const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/cdk-app');
const STACK = 'ExampleGatehouse';

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const haveNpm = npmVersion.status === 0;
if (!haveNpm) console.warn(`test/package/pack.test.ts SKIPPED: npm is not on PATH (${npmVersion.error?.message ?? npmVersion.stderr})`);

/** The environment of the child processes: no AWS credentials or endpoints (the jest setup points AWS at moto). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: readonly string[], options: SpawnOptions & { cwd: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited ${code}:\n${out.slice(-4000)}`))));
  });
}

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

(haveNpm ? describe : describe.skip)('the npm package in an app of its own (examples/cdk-app)', () => {
  let tmp: string;
  let template: { Resources: Record<string, CfnResource> };
  let outdir: string;
  const timings: string[] = [];

  beforeAll(async () => {
    const started = Date.now();
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      const result = await work();
      timings.push(`${name} ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return result;
    };
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pack-'));
    const app = path.join(tmp, 'app');
    cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](node_modules|cdk\.out)$/.test(src) });
    // The app's other dependencies are installed while the package is packed (gatehouse@^0.1.0 is not in the
    // registry: it is left out until the tarball is there); then the tarball, as `npm install <tarball>` would.
    const manifest = path.join(app, 'package.json');
    const appPackage = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies: Record<string, string> };
    expect(appPackage.dependencies.gatehouse).toBeDefined();
    delete appPackage.dependencies.gatehouse;
    writeFileSync(manifest, JSON.stringify(appPackage, null, 2));
    const install = (...args: string[]) =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...args], { cwd: app, env: childEnv() });
    await Promise.all([
      step('npm pack (with the build)', () => run('npm', ['pack', '--pack-destination', tmp, '--loglevel=error'], { cwd: ROOT, env: childEnv() })),
      step("npm install (the app's other dependencies)", () => install()),
    ]);
    const tarballs = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([expect.stringMatching(/^gatehouse-\d+\.\d+\.\d+.*\.tgz$/)]);
    const tarball = path.join(tmp, tarballs[0]!);
    await step('npm install <tarball>', () => install(tarball));
    outdir = path.join(app, 'cdk.out');
    const bin = (name: string) => path.join(app, 'node_modules/.bin', name);
    // Type-check and synth at once: they read the same files and write nothing the other reads.
    await Promise.all([
      step('tsc --noEmit', () => run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: app, env: childEnv() })),
      step('synth', () =>
        run(bin('tsx'), ['bin/app.ts'], {
          cwd: app,
          env: childEnv({ CDK_OUTDIR: outdir, CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' }),
        }),
      ),
    ]);
    template = JSON.parse(readFileSync(path.join(outdir, `${STACK}.template.json`), 'utf8'));
    console.log(`pack test: ${((Date.now() - started) / 1000).toFixed(1)} s in all (${timings.join(', ')})`);
  }, 300_000);

  afterAll(() => {
    if (!tmp) return;
    // 300 MB of node_modules take a while to delete on some disks: removed in the background, after the run.
    if (process.platform === 'win32') rmSync(tmp, { recursive: true, force: true });
    else spawn('rm', ['-rf', tmp], { detached: true, stdio: 'ignore' }).unref();
  });

  const resources = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const lambda = (idPart: string) => {
    const found = resources('AWS::Lambda::Function').filter(([id]) => id.includes(idPart));
    expect(found).toHaveLength(1);
    return found[0]![1];
  };
  /** The staged bundle of a function: the asset its S3Key names, as the stack's asset manifest places it in cdk.out. */
  const bundleOf = (fn: CfnResource) => {
    const key = (fn.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key;
    expect(typeof key).toBe('string');
    const manifest = JSON.parse(readFileSync(path.join(outdir, `${STACK}.assets.json`), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const asset = manifest.files[(key as string).replace(/\.zip$/, '')];
    expect(asset).toBeDefined();
    const dir = path.join(outdir, asset!.source.path);
    expect(existsSync(dir)).toBe(true);
    return dir;
  };

  it('ships the built entry points, the Lambda sources and no tests or lock file', () => {
    const pkg = path.join(tmp, 'app/node_modules/gatehouse');
    for (const file of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/toolkit.mjs', 'dist/gatehouse-cli.mjs', 'dist/lambdas/toolkit.d.ts', 'lambdas/authorizer/index.ts', 'lambdas/handlers/me.ts', 'contract/stack-config.ts', 'LICENSE', 'README.md']) {
      expect(existsSync(path.join(pkg, file))).toBe(true);
    }
    for (const absent of ['package-lock.json', 'test', 'lib', 'local', 'tsconfig.json']) expect(existsSync(path.join(pkg, absent))).toBe(false);
  });

  it('loads in plain Node: the constructs by require, the toolkit by import and by require', () => {
    const app = path.join(tmp, 'app');
    const node = (code: string, type: 'commonjs' | 'module') =>
      spawnSync(process.execPath, ['--input-type', type, '-e', code], { cwd: app, encoding: 'utf8', env: childEnv() });
    const constructs = node("const g = require('gatehouse'); console.log(typeof g.GatehouseStack, typeof g.parseStackConfig)", 'commonjs');
    expect(constructs.stderr).toBe('');
    expect(constructs.stdout.trim()).toBe('function function');
    const imported = node("const t = await import('gatehouse/toolkit'); console.log(typeof t.httpHandler, typeof t.json)", 'module');
    expect(imported.stdout.trim()).toBe('function function');
    const required = node("const t = require('gatehouse/toolkit'); console.log(typeof t.httpHandler, typeof t.requireScopes)", 'commonjs');
    expect(required.stdout.trim()).toBe('function function');
  });

  it('runs the installed gatehouse command (the bundle built at pack time, not the repository sources)', () => {
    const app = path.join(tmp, 'app');
    const cli = spawnSync(path.join(app, 'node_modules/.bin/gatehouse'), ['--help'], { cwd: app, encoding: 'utf8', env: childEnv() });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('Usage: gatehouse');
    expect(cli.stdout).toContain('--stack-name');
  });

  it('synthesizes the REST API with the authorizer in front of it', () => {
    expect(resources('AWS::ApiGateway::RestApi')).toHaveLength(1);
    lambda('AuthorizerHandlerFunction');
    // The API is defined by its OpenAPI document: the routes, and the authorizers calling the authorizer function.
    const body = JSON.stringify(resources('AWS::ApiGateway::RestApi')[0]![1].Properties?.Body);
    expect(body).toContain('"/v1/me"');
    expect(body).toContain('"/health"');
    expect(body).toContain('"/v1/orders/{id}"'); // the team's handler, routed by the configuration
    expect(body).toContain('x-amazon-apigateway-authorizer');
    expect(body).toMatch(/AuthorizerHandlerFunction[0-9A-F]{8}/);
  });

  it("bundles the authorizer and the built-in handlers from the installed sources, with their bundled files", () => {
    expect(readdirSync(bundleOf(lambda('AuthorizerHandlerFunction'))).sort()).toEqual(['gatehouse-config.json', 'index.js']);
    expect(readdirSync(bundleOf(lambda('HandlersmeFunction'))).sort()).toEqual(['index.js', 'rate-limit-tiers.json']);
    expect(existsSync(path.join(bundleOf(lambda('HandlershealthFunction')), 'index.js'))).toBe(true);
  });

  it("bundles the team's handler, which imports gatehouse/toolkit, with the toolkit in it", () => {
    // Found by its description (examples/cdk-app/bin/app.ts), whichever construct builds it.
    const teams = resources('AWS::Lambda::Function').filter(([, r]) => r.Properties?.Description === 'Example: the orders of the caller tenant');
    expect(teams).toHaveLength(1);
    const orders = teams[0]![1];
    expect(orders.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    const code = readFileSync(path.join(bundleOf(orders), 'index.js'), 'utf8');
    expect(code).toContain('bad_request'); // the team's own code
    expect(code).toContain('x-content-type-options'); // the toolkit's response headers
    expect(code).not.toMatch(/require\(["']gatehouse/); // bundled, not left as an import
  });
});
