import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AuthorizerConfigInput } from '../contract/config';
import { AUTHORIZER_READ_PK_PATTERNS, NONCE_PK_PREFIX, TENANT_SUBPARTITIONS } from '../contract/table';
import { AUTHORIZER_CONFIG_FILE, AUTHORIZER_TABLE_ENV } from '../contract/bundled-config';
import { GatehouseFunction } from './gatehouse-function';

export interface GatehouseAuthorizerProps {
  /**
   * The authorizer's configuration document, with the real table name (a token is fine) and secret ids (names or
   * ARNs known at synth time: the document is bundled with the code, contract/bundled-config.ts).
   */
  readonly config: AuthorizerConfigInput;
  /**
   * The table of API keys and tenants: the function may GetItem the partitions it reads (contract/table.ts
   * AUTHORIZER_READ_PK_PATTERNS) and, when the configuration has signers, PutItem the nonce items of signed requests
   * (partition keys starting with NONCE#), nothing else.
   */
  readonly table: ITable;
  /** HS256 secrets of JWT issuers: read (AWSCURRENT) only. */
  readonly issuerSecrets: readonly ISecret[];
  /** One secret per calling service: read every staged version (rotation) only. */
  readonly serviceSecrets: readonly ISecret[];
  /** One secret per signer: read every staged version (rotation) only. @default - none */
  readonly signerSecrets?: readonly ISecret[];
  /** @default 1024 - signature checks are CPU-bound, and Lambda CPU grows with memory */
  readonly memorySize?: number;
  /**
   * Reserved concurrency: a flood of requests that reach the authorizer can run at most this many copies, so it
   * can never take the account's whole Lambda concurrency from the other functions. Past it Lambda throttles the
   * invocation and API Gateway answers 500 (AUTHORIZER_FAILURE). Reserved concurrency is taken from the account's
   * pool, which must keep 100 unreserved (accounts start with 1,000; some new ones with far less).
   * @default - no reservation: the authorizer shares the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
  /** @default - one month */
  readonly logRetention?: RetentionDays;
  /** @default false */
  readonly tracing?: boolean;
}

/**
 * The authorizer Lambda with its configuration bundled with its code (ids and names only, never a secret value;
 * any size, where an environment variable would stop at 4 KB) and least privilege: GetItem on its table, PutItem of nonce items only (with signers), and reads
 * of exactly its secrets. Reusable on its own: attach `function` to any RestApi as a REQUEST authorizer.
 */
export class GatehouseAuthorizer extends Construct {
  readonly function: LambdaFunction;
  readonly logGroupName: string;
  /** The configuration document bundled with the code (without `tableName`, which the function's environment holds). */
  readonly document: string;

  constructor(scope: Construct, id: string, props: GatehouseAuthorizerProps) {
    super(scope, id);
    const { tableName, ...document } = props.config;
    if (!tableName) throw new Error('GatehouseAuthorizer: config.tableName is required');
    this.document = JSON.stringify(document);
    const fn = new GatehouseFunction(this, 'Handler', {
      entry: 'lambdas/authorizer/index.ts',
      description: 'Gatehouse authorizer: JWTs, API keys, service secrets and signatures in, IAM policy and tenant context out',
      memorySize: props.memorySize ?? 1024,
      timeout: Duration.seconds(5),
      environment: { [AUTHORIZER_TABLE_ENV]: tableName },
      bundledFiles: { [AUTHORIZER_CONFIG_FILE]: this.document },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      tracing: props.tracing ?? false,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
    this.function = fn.function;
    this.logGroupName = fn.logGroup.logGroupName;
    // The table itself only (`table.grant` would add its indexes, which the request path never reads), and only the
    // partitions it reads: API keys, tenants and their members, revoked sessions. Never a partition below a tenant
    // (its customers' data): tenant ids hold no '#', so `TENANT#*#*` matches those and no tenant's own.
    this.function.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['dynamodb:GetItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...AUTHORIZER_READ_PK_PATTERNS] },
          'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [TENANT_SUBPARTITIONS] },
        },
      }),
    );
    if (props.config.signers?.length) {
      // Its only write: a signed request's nonce (a conditional PutItem), on no other partition key.
      this.function.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:PutItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${NONCE_PK_PREFIX}*`] } },
        }),
      );
    }
    for (const secret of props.issuerSecrets) secret.grantRead(this.function);
    for (const secret of [...props.serviceSecrets, ...(props.signerSecrets ?? [])]) {
      // The authorizer lists a secret's versions to find AWSPENDING/AWSPREVIOUS during a rotation.
      secret.grantRead(this.function).principalStatements.forEach((s) => s.addActions('secretsmanager:ListSecretVersionIds'));
    }
  }
}
