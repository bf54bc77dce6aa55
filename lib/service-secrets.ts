import { Validations } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ServiceSecretsProps {
  /** Services whose secret this construct creates. */
  readonly create: readonly string[];
  /** Services whose secret already exists: name or full ARN. @default - none */
  readonly existing?: Readonly<Record<string, string>>;
  /** Name prefix of created secrets. @default 'gatehouse/services/' */
  readonly namePrefix?: string;
}

/**
 * One Secrets Manager secret per calling service. Created secrets start with a random 48-character value that
 * the operator hands to the service (`aws secretsmanager get-secret-value`); the authorizer only ever reads them.
 */
export class ServiceSecrets extends Construct {
  readonly secrets: Readonly<Record<string, ISecret>>;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const secrets: Record<string, ISecret> = {};
    for (const name of props.create) {
      const secret = new Secret(this, name, {
        secretName: `${props.namePrefix ?? 'gatehouse/services/'}${name}`,
        description: `Gatehouse: shared secret of the calling service "${name}" (sent as a bearer with X-Service-Name)`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation is an operator action until the rotation Lambda lands; the authorizer already accepts AWSCURRENT, AWSPENDING and (for a grace period) AWSPREVIOUS, so a manual rotation fails no request.',
      });
      secrets[name] = secret;
    }
    for (const [name, ref] of Object.entries(props.existing ?? {})) secrets[name] = importSecret(this, `Existing-${name}`, ref);
    this.secrets = secrets;
  }
}

/** A secret by full ARN or by name (grants then cover the name's random suffix). */
export function importSecret(scope: Construct, id: string, ref: string): ISecret {
  return ref.startsWith('arn:')
    ? Secret.fromSecretCompleteArn(scope, id, ref)
    : Secret.fromSecretNameV2(scope, id, ref);
}
