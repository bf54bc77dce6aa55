/**
 * AWS helpers for tests that talk to the emulator started by global-setup.ts.
 * Every test file shares one moto server: isolate with uniqueName(), never with moto's global reset.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

function assertEmulator(): void {
  // Without the global setup the SDK would fall back to a real account from the developer's profile.
  if (!process.env.GATEHOUSE_TEST_AWS_ENDPOINT || process.env.AWS_ENDPOINT_URL !== process.env.GATEHOUSE_TEST_AWS_ENDPOINT) {
    throw new Error('AWS emulator not configured: run tests through jest (test/support/global-setup.ts)');
  }
}

/** DynamoDB client for the emulator; endpoint, region and credentials come from the environment. */
export function dynamoClient(): DynamoDBClient {
  assertEmulator();
  return new DynamoDBClient({ maxAttempts: 2 });
}

/** Secrets Manager client for the emulator; endpoint, region and credentials come from the environment. */
export function secretsClient(): SecretsManagerClient {
  assertEmulator();
  return new SecretsManagerClient({ maxAttempts: 2 });
}

/** CloudFormation client for the emulator (moto serves it on the same port); `region` defaults to AWS_REGION's. */
export function cloudFormationClient(region?: string): CloudFormationClient {
  assertEmulator();
  return new CloudFormationClient({ maxAttempts: 2, ...(region ? { region } : {}) });
}

/** `prefix` plus a random suffix, valid as a table or secret name, so parallel test files never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Extra table settings: anything CreateTable takes (e.g. GSIs), plus a TTL attribute to enable. */
export type TableSpec = Partial<Omit<CreateTableCommandInput, 'TableName'>> & { ttlAttribute?: string };

/**
 * Creates an on-demand table keyed by string `pk` (partition) and `sk` (sort); attribute definitions in
 * `spec` are added to those two. Moto creates tables ACTIVE at once, so there is nothing to wait for.
 * @returns the table name
 */
export async function createTable(name: string, spec: TableSpec = {}, client = dynamoClient()): Promise<string> {
  const { ttlAttribute, AttributeDefinitions = [], ...rest } = spec;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      ...rest,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        ...AttributeDefinitions.filter((a) => a.AttributeName !== 'pk' && a.AttributeName !== 'sk'),
      ],
    }),
  );
  if (ttlAttribute) {
    await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
  }
  return name;
}

/** Secret values by staging label. */
export interface SecretVersionsSpec {
  current: string;
  /** A version labelled AWSPENDING, as during a rotation. */
  pending?: string;
  /** An older version labelled AWSPREVIOUS, as after a rotation. */
  previous?: string;
}

/** A secret made by putSecretVersions: its ARN and the VersionId carrying each label. */
export interface StagedSecret {
  name: string;
  arn: string;
  versionIds: { current: string; pending?: string; previous?: string };
}

/*
 * Moto 5.2.5 staging-label quirks (checked over the wire; real Secrets Manager behaves otherwise):
 * 1. UpdateSecretVersionStage moving AWSCURRENT does not move moto's internal default version:
 *    GetSecretValue WITHOUT VersionStage/VersionId keeps returning the old value (now AWSPREVIOUS).
 *    Pass VersionStage: 'AWSCURRENT' explicitly. (Pinned by a test in emulator.test.ts.)
 * 2. After such a move, PutSecretValue with AWSCURRENT (the default) leaves TWO versions labelled AWSCURRENT,
 *    and GetSecretValue({ VersionStage: 'AWSCURRENT' }) returns the older one.
 * 3. UpdateSecretVersionStage of a label other than AWSCURRENT without RemoveFromVersionId leaves the label on
 *    its old version too (AWS refuses), and moving a label onto a version that has it duplicates it.
 * 4. PutSecretValue with AWSCURRENT resets the old current version's labels to exactly [AWSPREVIOUS] (dropping
 *    e.g. AWSPENDING there) and does not detach the other requested labels from older versions.
 * 5. GetSecretValue with an unknown VersionStage fails with ResourceNotFoundException, generic message.
 * Same as AWS: the first value put into an empty secret also gets AWSCURRENT; ClientRequestToken must be
 * 32-64 characters; moving AWSCURRENT needs RemoveFromVersionId and moves AWSPREVIOUS to the old version.
 * So putSecretVersions stages labels with PutSecretValue alone, oldest first, which both agree on.
 */

/**
 * Creates secret `name` with a version per label in `spec`: `previous` (if any) first, then `current`
 * (which turns the first into AWSPREVIOUS), then `pending` put with VersionStages ['AWSPENDING'].
 */
export async function putSecretVersions(name: string, spec: SecretVersionsSpec, client = secretsClient()): Promise<StagedSecret> {
  const versionIds: StagedSecret['versionIds'] = { current: randomUUID() };
  let arn: string | undefined;
  if (spec.previous !== undefined) {
    versionIds.previous = randomUUID();
    ({ ARN: arn } = await client.send(new CreateSecretCommand({ Name: name, SecretString: spec.previous, ClientRequestToken: versionIds.previous })));
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: spec.current, ClientRequestToken: versionIds.current }));
  } else {
    ({ ARN: arn } = await client.send(new CreateSecretCommand({ Name: name, SecretString: spec.current, ClientRequestToken: versionIds.current })));
  }
  if (spec.pending !== undefined) {
    versionIds.pending = randomUUID();
    await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: spec.pending, VersionStages: ['AWSPENDING'], ClientRequestToken: versionIds.pending }),
    );
  }
  return { name, arn: arn!, versionIds };
}

/**
 * Finishes a rotation the way Secrets Manager leaves it: AWSCURRENT moves to the AWSPENDING version,
 * the old current becomes AWSPREVIOUS, and AWSPENDING is removed. See quirk 1 above before reading
 * the secret afterwards.
 */
export async function promotePending(name: string, client = secretsClient()): Promise<void> {
  const { Versions = [] } = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
  const withLabel = (label: string) => Versions.find((v) => v.VersionStages?.includes(label))?.VersionId;
  const current = withLabel('AWSCURRENT');
  const pending = withLabel('AWSPENDING');
  if (!current || !pending) throw new Error(`secret ${name} has no AWSCURRENT and AWSPENDING pair to promote`);
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: current }));
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: pending }));
}
