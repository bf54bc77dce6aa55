import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { MIN_SERVICE_SECRET_BYTES, isWeakSecret } from '../../contract/secret-strength';
import { type Logger, jsonLogger } from '../../contract/log';
import { summarizeError } from '../../contract/aws-error';

export type RotationStep = SecretsManagerRotationEvent['Step'];
export const ROTATION_STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** What a step did, as logged: every step is idempotent per ClientRequestToken, so a retry reports what it found. */
export type StepOutcome = 'created' | 'exists' | 'nothing-to-set' | 'tested' | 'promoted' | 'already-current';

export interface RotationDeps {
  /** @default a client from the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...) */
  readonly secretsManager?: SecretsManagerClient;
  /** @default JSON lines on stdout */
  readonly logger?: Logger;
  /** The new secret value. @default 32 random bytes as base64url (43 characters) */
  readonly generate?: () => string;
  /**
   * Who started the rotation. `secrets-manager` (the deployed function): AWS's preconditions in full, rotation must
   * be enabled on the secret and the token must already be a version of it (RotateSecret adds it, value-less, as
   * AWSPENDING before it calls createSecret). `in-process` ({@link rotateNow} against the local emulator, which has no
   * Lambda runtime and never enables rotation): rotation need not be enabled, and createSecret may create the token's
   * version itself; every other check is the same. @default 'secrets-manager'
   */
  readonly startedBy?: 'secrets-manager' | 'in-process';
}

/** A rotation step refused: Secrets Manager marks the rotation failed and retries it later with the same token. */
export class RotationError extends Error {
  override readonly name = 'RotationError';
}

/** 32 random bytes, base64url: 43 characters a bearer header carries as they are. */
export function generateServiceSecret(): string {
  return randomBytes(32).toString('base64url');
}

// Bounded calls well inside the function's timeout: a hung connection fails the step, and Secrets Manager retries it.
const CLIENT_OPTIONS = { maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true } };

// RFC 6750 b64token: what an `Authorization: Bearer` value may hold. Anything else (spaces, quotes, newlines) would be
// mangled or refused somewhere between the calling service and the authorizer.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Why `value` cannot be a service secret, or undefined if it can: not a string, too short or mostly blank (the
 * authorizer's own rule: it would never match), or not a valid bearer token. The reason never includes the value.
 */
export function malformedSecretReason(value: string | undefined): string | undefined {
  if (value === undefined) return 'it is not a string (SecretBinary or empty)';
  if (isWeakSecret(Buffer.from(value, 'utf8'), MIN_SERVICE_SECRET_BYTES)) return `it is shorter than ${MIN_SERVICE_SECRET_BYTES} bytes or mostly blank`;
  if (!BEARER_TOKEN.test(value)) return 'it holds characters a bearer token cannot carry';
  return undefined;
}

/** What every step needs: the client, who started the rotation, and how a new value is made. */
interface StepContext {
  readonly client: SecretsManagerClient;
  readonly inProcess: boolean;
  readonly generate: () => string;
}

type Step = (ctx: StepContext, secretId: string, token: string) => Promise<StepOutcome>;

/**
 * The rotation Lambda of service secrets, for Secrets Manager's event `{ SecretId, ClientRequestToken, Step }`. A
 * service secret is a random value the authorizer reads straight from Secrets Manager, so there is nothing outside
 * the secret to update: createSecret stages a new value as AWSPENDING (which the authorizer accepts at once),
 * testSecret checks it is well formed, finishSecret moves AWSCURRENT to it (the old value becomes AWSPREVIOUS,
 * accepted for `serviceSecrets.previousGraceSeconds`). Each step is idempotent per token and logs one JSON line
 * (never the value). A thrown error fails the step; Secrets Manager retries the rotation with the same token.
 */
export function createRotationHandler(deps: RotationDeps = {}): (event: SecretsManagerRotationEvent) => Promise<void> {
  const ctx: StepContext = {
    client: deps.secretsManager ?? new SecretsManagerClient(CLIENT_OPTIONS),
    inProcess: deps.startedBy === 'in-process',
    generate: deps.generate ?? generateServiceSecret,
  };
  const logger = deps.logger ?? jsonLogger('gatehouse-rotation');
  return async (event) => {
    const { step, secretId, token } = parseRotationEvent(event, logger);
    const started = performance.now();
    const fields = { step, secretId, versionId: token, startedBy: ctx.inProcess ? 'in-process' : 'secrets-manager' };
    try {
      const outcome = await STEPS[step](ctx, secretId, token);
      logger.info('rotation step', { ...fields, outcome, latencyMs: Math.round(performance.now() - started) });
    } catch (err) {
      logStepFailure(logger, fields, err, started);
      throw err;
    }
  };
}

/** The event's step, secret and token, or a logged RotationError for anything that is not a rotation event. */
function parseRotationEvent(event: SecretsManagerRotationEvent, logger: Logger): { step: RotationStep; secretId: string; token: string } {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = (event ?? {}) as Partial<SecretsManagerRotationEvent>;
  if (typeof secretId !== 'string' || !secretId || typeof token !== 'string' || !/^[\x21-\x7e]{32,64}$/.test(token) || !ROTATION_STEPS.includes(step!)) {
    logger.error('rotation step refused', { step: typeof step === 'string' ? step.slice(0, 32) : undefined, reason: 'malformed event' });
    throw new RotationError('expected a Secrets Manager rotation event: { SecretId, ClientRequestToken (32-64 characters), Step }');
  }
  return { step: step!, secretId, token };
}

function logStepFailure(logger: Logger, fields: Readonly<Record<string, unknown>>, err: unknown, started: number): void {
  const e = summarizeError(err);
  // SDK error messages and ours name versions and labels, never a secret value.
  logger.error('rotation step failed', {
    ...fields,
    error: e?.name ?? 'Error',
    detail: String((err as { message?: unknown } | null)?.message ?? '').slice(0, 300),
    ...(e?.status !== undefined ? { httpStatus: e.status } : {}),
    latencyMs: Math.round(performance.now() - started),
  });
}

/** AWS's preconditions (DescribeSecret): the token's staging labels, or undefined for a new token (in-process createSecret only). */
async function tokenStages(ctx: StepContext, secretId: string, token: string, step: RotationStep): Promise<{ stages: string[] | undefined; currentVersionId?: string }> {
  const meta = await ctx.client.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!ctx.inProcess && meta.RotationEnabled !== true) throw new RotationError('rotation is not enabled for this secret');
  const versions = meta.VersionIdsToStages ?? {};
  const currentVersionId = Object.keys(versions).find((id) => versions[id]?.includes('AWSCURRENT'));
  const stages = versions[token];
  if (!stages) {
    if (ctx.inProcess && step === 'createSecret') return { stages: undefined, ...(currentVersionId ? { currentVersionId } : {}) };
    throw new RotationError(`version ${token} is not a version of this secret`);
  }
  if (!stages.includes('AWSCURRENT') && !stages.includes('AWSPENDING')) throw new RotationError(`version ${token} is not staged AWSPENDING`);
  return { stages, ...(currentVersionId ? { currentVersionId } : {}) };
}

const createSecret: Step = async (ctx, secretId, token) => {
  const { client } = ctx;
  const { stages } = await tokenStages(ctx, secretId, token, 'createSecret');
  if (stages?.includes('AWSCURRENT')) return 'already-current';
  // The secret must have a current value to rotate from.
  await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
  if (stages) {
    try {
      await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
      return 'exists'; // a retry: the value was put before; putting another would change what the token stands for
    } catch (err) {
      // The version RotateSecret adds has no value yet: GetSecretValue answers ResourceNotFoundException.
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
  }
  const value = ctx.generate();
  const why = malformedSecretReason(value);
  if (why) throw new RotationError(`refusing to store a generated secret: ${why}`);
  await client.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: value, VersionStages: ['AWSPENDING'] }));
  return 'created';
};

const setSecret: Step = async (ctx, secretId, token) => {
  // The authorizer reads the secret directly from Secrets Manager: there is no other system to update.
  const { stages } = await tokenStages(ctx, secretId, token, 'setSecret');
  return stages?.includes('AWSCURRENT') ? 'already-current' : 'nothing-to-set';
};

const testSecret: Step = async (ctx, secretId, token) => {
  const { stages } = await tokenStages(ctx, secretId, token, 'testSecret');
  if (stages?.includes('AWSCURRENT')) return 'already-current';
  const pending = await ctx.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
  const why = malformedSecretReason(pending.SecretString);
  if (why) throw new RotationError(`the AWSPENDING version ${token} is not a usable service secret: ${why}`);
  return 'tested';
};

const finishSecret: Step = async (ctx, secretId, token) => {
  const { stages, currentVersionId } = await tokenStages(ctx, secretId, token, 'finishSecret');
  let outcome: StepOutcome = 'already-current';
  if (!stages?.includes('AWSCURRENT')) {
    if (!currentVersionId) throw new RotationError('no version of this secret is staged AWSCURRENT');
    // The commit point: AWSCURRENT moves to the new version and Secrets Manager puts AWSPREVIOUS on the old one.
    await ctx.client.send(
      new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: currentVersionId }),
    );
    outcome = 'promoted';
  }
  if (stages?.includes('AWSPENDING')) {
    // Leave no AWSPENDING behind (one of the two end states RotateSecret accepts), so nothing looks in flight.
    await ctx.client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
  }
  return outcome;
};

const STEPS: Readonly<Record<RotationStep, Step>> = { createSecret, setSecret, testSecret, finishSecret };
