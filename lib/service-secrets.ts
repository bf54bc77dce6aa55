import { Duration, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnRotationSchedule, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GatehouseFunction } from './gatehouse-function';

export interface ServiceSecretsProps {
  /** Services whose secret this construct creates (and rotates). */
  readonly create: readonly string[];
  /** Services whose secret already exists: name or full ARN. Their owners rotate them. @default - none */
  readonly existing?: Readonly<Record<string, string>>;
  /** Name prefix of created service secrets. @default 'gatehouse/services/' */
  readonly namePrefix?: string;
  /** Signers (callers that sign requests) whose secret this construct creates, rotated with the services'. @default - none */
  readonly createSigners?: readonly string[];
  /** Signers whose secret already exists: name or full ARN. Their owners rotate them. @default - none */
  readonly existingSigners?: Readonly<Record<string, string>>;
  /** Name prefix of created signer secrets. @default 'gatehouse/signers/' */
  readonly signerNamePrefix?: string;
  /** Days between automatic rotations of created secrets (1-1000). @default 30 */
  readonly rotationDays?: number;
  /** Log retention of the rotation function. @default - one month */
  readonly logRetention?: RetentionDays;
  /** X-Ray tracing of the rotation function. @default false */
  readonly tracing?: boolean;
}

/** Who holds a secret: a calling service (bearer + X-Service-Name) or a signer (HMAC-SHA256 signatures). */
type Holder = 'service' | 'signer';

const DESCRIPTIONS: Record<Holder, (name: string) => string> = {
  service: (name) => `Gatehouse: shared secret of the calling service "${name}" (sent as a bearer with X-Service-Name)`,
  signer: (name) => `Gatehouse: secret of the signer "${name}" (signs requests with HMAC-SHA256)`,
};

/**
 * One Secrets Manager secret per calling service and per signer. Created secrets start with a random 48-character
 * value and are rotated every `rotationDays` by one rotation function (lambdas/rotation); callers read AWSCURRENT.
 * The authorizer accepts AWSCURRENT, AWSPENDING and (for its grace period) AWSPREVIOUS, so a rotation fails no
 * request.
 */
export class ServiceSecrets extends Construct {
  /** Service name -> its secret, created or imported. */
  readonly secrets: Readonly<Record<string, ISecret>>;
  /** Signer name -> its secret, created or imported. */
  readonly signerSecrets: Readonly<Record<string, ISecret>>;
  /**
   * Service name -> the id its secret is read by: the name of a created secret (known at synth time, unlike its
   * ARN), or the name or ARN the configuration gave for an existing one.
   */
  readonly secretNames: Readonly<Record<string, string>>;
  /** Signer name -> the id its secret is read by, as {@link secretNames}. */
  readonly signerSecretNames: Readonly<Record<string, string>>;
  /** The rotation function of the created secrets; undefined when this construct creates none. */
  readonly rotationFunction?: LambdaFunction;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const rotationDays = props.rotationDays ?? 30;
    if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > 1000) {
      throw new Error(`ServiceSecrets: rotationDays must be a whole number of days from 1 to 1000, got ${rotationDays}`);
    }
    const created: Secret[] = [];
    // Service secrets keep their construct ids (the bare name), so existing stacks do not replace them; signers'
    // are prefixed, so a signer may share a service's name.
    const ids = (namePrefix: string, create: readonly string[], existing: Readonly<Record<string, string>>) => ({
      ...Object.fromEntries(create.map((name) => [name, `${namePrefix}${name}`])),
      ...existing,
    });
    const make = (holder: Holder, idPrefix: string, namePrefix: string, create: readonly string[], existing: Readonly<Record<string, string>>) => {
      const secrets: Record<string, ISecret> = {};
      for (const name of create) {
        const secret = new Secret(this, `${idPrefix}${name}`, {
          secretName: `${namePrefix}${name}`,
          description: DESCRIPTIONS[holder](name),
          generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
        });
        created.push(secret);
        secrets[name] = secret;
      }
      for (const [name, ref] of Object.entries(existing)) secrets[name] = importSecret(this, `Existing-${idPrefix}${name}`, ref);
      return secrets;
    };
    const servicePrefix = props.namePrefix ?? 'gatehouse/services/';
    const signerPrefix = props.signerNamePrefix ?? 'gatehouse/signers/';
    this.secrets = make('service', '', servicePrefix, props.create, props.existing ?? {});
    this.signerSecrets = make('signer', 'Signer-', signerPrefix, props.createSigners ?? [], props.existingSigners ?? {});
    this.secretNames = ids(servicePrefix, props.create, props.existing ?? {});
    this.signerSecretNames = ids(signerPrefix, props.createSigners ?? [], props.existingSigners ?? {});
    if (created.length > 0) this.rotationFunction = this.rotate(created, rotationDays, props);
  }

  private rotate(secrets: readonly Secret[], rotationDays: number, props: ServiceSecretsProps): LambdaFunction {
    const rotation = new GatehouseFunction(this, 'Rotation', {
      entry: 'lambdas/rotation/index.ts',
      description: 'Gatehouse: rotates the secrets of calling services and signers (Secrets Manager rotation steps)',
      memorySize: 256,
      timeout: Duration.seconds(30),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      tracing: props.tracing ?? false,
    });
    const fn = rotation.function;
    // Exactly what the four steps call, on exactly these secrets. (secret.addRotationSchedule would also grant
    // secretsmanager:GetRandomPassword on "*", which this function never calls: it draws its own random bytes.)
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:ListSecretVersionIds',
        ],
        resources: secrets.map((s) => s.secretArn),
      }),
    );
    // Secrets Manager of this account only (aws:SourceAccount, as AWS recommends against the confused deputy; a
    // SourceArn would tie the function to one secret).
    fn.addPermission('InvokedBySecretsManager', {
      principal: new ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: Stack.of(this).account,
    });
    for (const secret of secrets) {
      const schedule = new CfnRotationSchedule(secret, 'RotationSchedule', {
        secretId: secret.secretArn,
        rotationLambdaArn: fn.functionArn,
        rotationRules: { scheduleExpression: `rate(${rotationDays} ${rotationDays === 1 ? 'day' : 'days'})` },
        // Not on every deployment that adds or changes the schedule: the first rotation comes `rotationDays` later.
        // Secrets Manager still checks the set-up at once, by running testSecret on a temporary AWSPENDING version.
        rotateImmediatelyOnUpdate: false,
      });
      // That check invokes the function: its role, policy and invoke permission must exist first.
      schedule.node.addDependency(rotation);
    }
    return fn;
  }
}

/** A secret by full ARN or by name (grants then cover the name's random suffix). */
export function importSecret(scope: Construct, id: string, ref: string): ISecret {
  return ref.startsWith('arn:')
    ? Secret.fromSecretCompleteArn(scope, id, ref)
    : Secret.fromSecretNameV2(scope, id, ref);
}
