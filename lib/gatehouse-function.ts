import { AssetHashType, DockerImage, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Code, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundlingRoot, packageRoot } from './package-paths';

export interface GatehouseFunctionProps {
  /**
   * Source file: relative to the package's root (e.g. `lambdas/authorizer/index.ts`), or absolute (a team's
   * handler file, wherever its configuration lives).
   */
  readonly entry: string;
  readonly description: string;
  /** @default - 512 MB */
  readonly memorySize?: number;
  /** @default - 10 seconds */
  readonly timeout?: Duration;
  /** @default - no extra variables */
  readonly environment?: Record<string, string>;
  /** @default - one month */
  readonly logRetention?: RetentionDays;
  /** @default false - no X-Ray tracing */
  readonly tracing?: boolean;
  /** At most this many concurrent executions, reserved from the account's pool. @default - no reservation, no cap */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Files written next to the bundled code at synth time (name -> content): configuration too large for the 4 KB
   * of environment variables Lambda allows, read once at cold start. Their content must be known at synth time.
   * @default - none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/** The package's root: the repository's, or `node_modules/gatehouse` installed (lib/package-paths.ts). */
const PACKAGE_ROOT = packageRoot(__dirname);

/**
 * A Node.js Lambda function as every Gatehouse function is built: arm64, the newest Node.js runtime, bundled and
 * minified by the local esbuild (no Docker), its own log group with a retention, and its own role that may write
 * only to that log group (instead of the broad AWSLambdaBasicExecutionRole managed policy).
 */
export class GatehouseFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  /** The files bundled next to the code (name -> content). */
  readonly bundledFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GatehouseFunctionProps) {
    super(scope, id);
    this.bundledFiles = props.bundledFiles ?? {};
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `Runs ${props.description}` });
    this.logGroup.grantWrite(this.role);
    // Installed, the entries are in the app's node_modules and the lock file is the app's: bundled from the app's root.
    const { projectRoot, depsLockFilePath } = bundlingRoot(PACKAGE_ROOT);
    const entry = path.resolve(PACKAGE_ROOT, props.entry);
    const outside = isOutside(projectRoot, entry);
    this.function = new NodejsFunction(this, 'Function', {
      entry,
      ...(outside ? { code: bundleOutside(entry, props.bundledFiles ?? {}), handler: 'index.handler' } : { handler: 'handler' }),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...props.environment },
      projectRoot,
      depsLockFilePath,
      bundling: {
        minify: true,
        sourceMap: false,
        target: 'node22',
        format: OutputFormat.CJS,
        forceDockerBundling: false,
        // The runtime's own AWS SDK v3 is used (the default): a smaller bundle and a faster cold start.
        externalModules: ['@aws-sdk/*'],
        ...(props.bundledFiles ? { commandHooks: writeFiles(props.bundledFiles) } : {}),
      },
    });
    checkEnvironmentSize(props.description, this.function);
    for (const [name, content] of Object.entries(props.bundledFiles ?? {})) {
      if (Token.isUnresolved(content)) throw new Error(`GatehouseFunction: ${name} must be known at synth time (it holds a deploy-time value)`);
    }
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; CDK adds them only when tracing is on.',
      });
    }
  }
}

/** Whether `file` is outside the folder `root`. */
function isOutside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

/**
 * The code of an entry outside the bundling root (the repository, or the app that installed the package): a team's
 * handler next to its own configuration elsewhere. NodejsFunction
 * refuses an entry outside its `projectRoot` ("should be under projectRoot"), and its local bundling runs
 * `npx --no-install esbuild` in that folder, which finds the repository's esbuild only inside the repository: a
 * projectRoot widened to hold both (a temp folder's common ancestor is `/`) fails to bundle. So such an entry is
 * bundled by the same esbuild through its API, with the same options, and the same bundled files written next to
 * it. The asset's hash is of the output, as for the other functions; the entry's folder itself is never copied.
 */
function bundleOutside(entry: string, files: Readonly<Record<string, string>>): Code {
  return Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never run: local bundling always answers (it throws rather than fall back to Docker).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      command: ['sh', '-c', 'echo "Gatehouse bundles with the local esbuild (npm ci installs it), not in Docker" >&2; exit 1'],
      local: {
        tryBundle(outputDir: string): boolean {
          // Loaded only when such an entry is bundled (the repository's esbuild, as NodejsFunction uses).
          const esbuild = require('esbuild') as typeof import('esbuild');
          esbuild.buildSync({
            entryPoints: [entry],
            bundle: true,
            platform: 'node',
            // The options of the NodejsFunction bundling above (test/lambdas/authorizer/cold-start.test.ts reads those).
            target: 'node22',
            format: 'cjs',
            minify: true,
            sourcemap: false,
            external: ['@aws-sdk/*'],
            outfile: path.join(outputDir, 'index.js'),
            // What tsconfig.json's paths map inside the repository: the handler toolkit by its published name.
            alias: { 'gatehouse/toolkit': path.join(PACKAGE_ROOT, 'lambdas/toolkit.ts') },
            logLevel: 'error',
          });
          for (const [name, content] of Object.entries(files)) writeFileSync(path.join(outputDir, name), content);
          return true;
        },
      },
    },
  });
}

/** Lambda allows 4 KB for all of a function's environment variables together (names and values). */
export const MAX_ENVIRONMENT_BYTES = 4096;

/**
 * Fails synth, rather than the deployment, when a function's environment would pass Lambda's 4 KB. A deploy-time
 * value (a table name, an ARN) counts as 256 bytes, more than any it stands for here.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
function checkEnvironmentSize(description: string, fn: NodejsFunction): void {
  const vars = (Stack.of(fn).resolve((fn.node.defaultChild as CfnFunction).environment) as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
  const sizes = Object.entries(vars).map(([k, v]) => [k, k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 256)] as const);
  const total = sizes.reduce((n, [, size]) => n + size, 0);
  if (total > MAX_ENVIRONMENT_BYTES) {
    const largest = [...sizes].sort((a, b) => b[1] - a[1])[0]![0];
    throw new Error(`${description}: its environment variables take about ${total} bytes (the largest is ${largest}); Lambda allows ${MAX_ENVIRONMENT_BYTES} in all`);
  }
}

/**
 * Bundling hooks that write `files` into the bundle's output directory once esbuild is done. CDK also renders the
 * Docker bundling command up front (with the container's /asset-output): that path is not this machine's, so it
 * gets a command that fails, should Docker bundling ever run, rather than a bundle without its files. The asset's
 * hash is taken from the output, files included, so a change of content deploys new code.
 */
function writeFiles(files: Readonly<Record<string, string>>): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => {
      if (!existsSync(outputDir)) return ['echo "Gatehouse bundles with the local esbuild (npm ci installs it), not in Docker" >&2', 'exit 1'];
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(outputDir, name), content);
      return [];
    },
  };
}
