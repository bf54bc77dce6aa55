import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import path from 'node:path';

export interface GatehouseFunctionProps {
  /** Source file, relative to the repository root (e.g. `lambdas/authorizer/index.ts`). */
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
}

const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * A Node.js Lambda function as every Gatehouse function is built: arm64, the newest Node.js runtime, bundled and
 * minified by the local esbuild (no Docker), its own log group with a retention, and its own role that may write
 * only to that log group (instead of the broad AWSLambdaBasicExecutionRole managed policy).
 */
export class GatehouseFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: GatehouseFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `Runs ${props.description}` });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...props.environment },
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: false,
        target: 'node22',
        format: OutputFormat.CJS,
        forceDockerBundling: false,
        // The runtime's own AWS SDK v3 is used (the default): a smaller bundle and a faster cold start.
        externalModules: ['@aws-sdk/*'],
      },
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; CDK adds them only when tracing is on.',
      });
    }
  }
}
