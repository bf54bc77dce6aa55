import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../contract/log';
import { ROTATION_STEPS, RotationError, createRotationHandler } from './steps';

export interface RotateNowOptions {
  /** @default no log lines (a command-line tool prints its own result) */
  readonly logger?: Logger;
  /** The new value. @default 32 random bytes as base64url */
  readonly generate?: () => string;
  /** The new version's id (32-64 characters). @default a random UUID */
  readonly token?: string;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Rotates a service secret now, in this process: the four steps of the rotation Lambda with a fresh
 * ClientRequestToken, as Secrets Manager would run them. For the local emulator, which has no Lambda runtime; against
 * AWS call RotateSecret instead, so the deployed function does it (and rotation stays recorded on the secret).
 * Like RotateSecret, refuses while another rotation is in flight (AWSPENDING on a version that is not AWSCURRENT).
 * @returns the id of the new AWSCURRENT version
 */
export async function rotateNow(client: SecretsManagerClient, secretId: string, opts: RotateNowOptions = {}): Promise<{ versionId: string }> {
  const meta = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const versions = meta.VersionIdsToStages ?? {};
  const pending = Object.keys(versions).find((id) => versions[id]?.includes('AWSPENDING') && !versions[id]?.includes('AWSCURRENT'));
  if (pending) {
    throw new RotationError(
      `a rotation is already in flight (version ${pending} is staged AWSPENDING): finish it, or drop it with ` +
        `aws secretsmanager update-secret-version-stage --secret-id <id> --version-stage AWSPENDING --remove-from-version-id ${pending}`,
    );
  }
  const token = opts.token ?? randomUUID();
  const handler = createRotationHandler({
    secretsManager: client,
    logger: opts.logger ?? silent,
    ...(opts.generate ? { generate: opts.generate } : {}),
    startedBy: 'in-process',
  });
  for (const step of ROTATION_STEPS) await handler({ SecretId: secretId, ClientRequestToken: token, Step: step });
  return { versionId: token };
}
