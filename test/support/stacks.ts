import { CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_METADATA_KEY, STACK_OUTPUTS } from '../../contract/stack-outputs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Directory } from '../../control/directory/directory';
import { createGatehouseTable } from '../../local/create-table';
import { cloudFormationClient, uniqueName } from './aws';

/**
 * CloudFormation stacks on the emulator shaped like a deployed Gatehouse stack as the command-line tool reads one:
 * the outputs and the template metadata entry contract/stack-outputs.ts names, in a template whose one resource
 * moto can create (a wait-condition handle). Output values are literals: the table is one the test creates, the
 * REST API id and URL are made up (only `tenants` and `--flush` would call them).
 */
export interface StackSpec {
  readonly name: string;
  /** Default: AWS_REGION's (us-east-1). */
  readonly region?: string;
  /** Output values by key; see {@link gatehouseOutputs}. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The template's `Metadata` (e.g. `{ [CONFIG_METADATA_KEY]: config }`); none when absent. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** The outputs a Gatehouse stack has, for its table; `omit` leaves some out. */
export function gatehouseOutputs(tableName: string, omit: readonly string[] = []): Record<string, string> {
  const all: Record<string, string> = {
    [STACK_OUTPUTS.tableName]: tableName,
    [STACK_OUTPUTS.restApiId]: 'a1b2c3d4e5',
    [STACK_OUTPUTS.apiUrl]: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/',
  };
  return Object.fromEntries(Object.entries(all).filter(([k]) => !omit.includes(k)));
}

/** The template metadata of a Gatehouse stack deployed with `config`. */
export const gatehouseMetadata = (config: unknown) => ({ [CONFIG_METADATA_KEY]: config });

/**
 * The example configuration (config/gatehouse.example.json) with another key prefix and environment (`acme`,
 * `test` instead of `gh`, `live`), so a key minted with the stack's configuration is told apart from the example's.
 */
export function acmeConfig(): Record<string, unknown> {
  const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../config/gatehouse.example.json'), 'utf8')) as Record<string, unknown>;
  return { ...example, environment: 'test', apiKeys: { ...(example.apiKeys as object), prefix: 'acme' } };
}

/** Creates the stack (moto completes it at once); returns a function that deletes it. */
export async function createStack(spec: StackSpec): Promise<() => Promise<void>> {
  const cfn = cloudFormationClient(spec.region);
  const template = {
    ...(spec.metadata ? { Metadata: spec.metadata } : {}),
    Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    Outputs: Object.fromEntries(Object.entries(spec.outputs).map(([key, value]) => [key, { Value: value }])),
  };
  await cfn.send(new CreateStackCommand({ StackName: spec.name, TemplateBody: JSON.stringify(template) }));
  return async () => {
    await cfn.send(new DeleteStackCommand({ StackName: spec.name }));
    cfn.destroy();
  };
}

/**
 * A Gatehouse-shaped stack on the emulator over a real table with one tenant (`acme-corp`), deployed with
 * {@link acmeConfig}: names are fixed when made, `setup` creates it all, `cleanups` holds what deletes it (tests may
 * push their own).
 */
export function stackFixture(prefix: string) {
  const fixture = {
    stackName: uniqueName(prefix),
    table: uniqueName(`${prefix.toLowerCase()}-table`),
    tenant: 'acme-corp',
    cleanups: [] as (() => Promise<void>)[],
    async setup(dynamo: DynamoDBClient): Promise<void> {
      await createGatehouseTable(dynamo, fixture.table);
      await new Directory(dynamo, fixture.table).createTenant({ tenantId: fixture.tenant, tier: 'default' });
      fixture.cleanups.push(await createStack({ name: fixture.stackName, outputs: gatehouseOutputs(fixture.table), metadata: gatehouseMetadata(acmeConfig()) }));
    },
    async teardown(): Promise<void> {
      await Promise.all(fixture.cleanups.map((c) => c()));
    },
  };
  return fixture;
}
