import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseStackConfig } from '../../../contract/stack-config';
import { GatehouseStack } from '../../../lib/gatehouse-stack';
import path from 'node:path';
import { hashApiKey, parseApiKey } from '../../../contract/api-key';
import { CONFIG_METADATA_KEY } from '../../../contract/stack-outputs';
import { apiKeyItemKey } from '../../../contract/table';
import { Directory } from '../../../control/directory/directory';
import { createGatehouseTable } from '../../../local/create-table';
import { EXIT } from '../../../bin/cli/program';
import { dynamoClient, uniqueName } from '../../support/aws';
import { gatehouse } from '../../support/cli';
import { withEnv } from '../../support/faults';
import { acmeConfig, createStack, gatehouseMetadata, gatehouseOutputs, stackFixture } from '../../support/stacks';

/**
 * `gatehouse --stack-name`: the tool finds a deployed stack's table, REST API and configuration in CloudFormation
 * (stacks created on the emulator with a Gatehouse stack's outputs and template metadata). The stacks' configuration
 * has key prefix `acme` and environment `test`, the example's `gh` and `live`: a key of the right shape proves the
 * tool used the stack's configuration, not the example.
 */
const EXAMPLE = path.resolve(__dirname, '../../../config/gatehouse.example.json');
/** A region nothing else on the shared emulator uses, for the stack with the default name (Gatehouse). */
const DEFAULT_NAME_REGION = 'eu-south-2';

const dynamo = dynamoClient();
const defaultRegionDynamo = new DynamoDBClient({ region: DEFAULT_NAME_REGION, maxAttempts: 2 });
const fx = stackFixture('Cli');
const { stackName, table, tenant, cleanups } = fx;

beforeAll(() => fx.setup(dynamo));
afterAll(async () => {
  await fx.teardown();
  dynamo.destroy();
  defaultRegionDynamo.destroy();
});

/** The stored record of a key, read back from `tableName` by the key's hash (as the authorizer reads it). */
async function storedKey(client: DynamoDBClient, tableName: string, key: string) {
  const out = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: apiKeyItemKey(hashApiKey(key)).pk }, sk: { S: 'APIKEY' } } }));
  return out.Item;
}

describe('gatehouse --stack-name (a deployed stack found in CloudFormation)', () => {
  it("mints keys with the stack's key prefix and environment, into the stack's table", async () => {
    const r = await gatehouse(['--stack-name', stackName, '--json', 'keys', 'create', '--tenant', tenant, '--name', 'billing']);

    expect(r.code).toBe(EXIT.ok);
    const { key, keyId, environment } = r.json();
    expect(key).toMatch(/^acme_test_[0-9a-f]{72}$/);
    expect(environment).toBe('test');
    expect(parseApiKey(key, 'acme')).toEqual({ ok: true, key: { prefix: 'acme', environment: 'test' } });
    expect((await storedKey(dynamo, table, key))?.tenantId?.S).toBe(tenant);
    expect(r.stderr).toBe('');

    const list = await gatehouse(['--stack-name', stackName, '--json', 'keys', 'list', '--tenant', tenant]);
    expect(list.json()).toEqual(expect.arrayContaining([expect.objectContaining({ keyId, environment: 'test' })]));
    expect(list.stdout).not.toContain(key);
  });

  it('reads the metadata exactly as GatehouseStack synthesizes it (the deployment section with its defaults)', async () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const synthesized = Template.fromStack(new GatehouseStack(app, 'Gatehouse', { config: parseStackConfig(acmeConfig()) })).toJSON();
    const name = uniqueName('CliSynth');
    cleanups.push(await createStack({ name, outputs: gatehouseOutputs(table), metadata: synthesized.Metadata }));

    const r = await gatehouse(['--stack-name', name, '--json', 'keys', 'create', '--tenant', tenant, '--name', 'synth']);

    expect(r.code).toBe(EXIT.ok);
    expect(r.json().key).toMatch(/^acme_test_/);
    expect(Object.keys(synthesized.Outputs)).toEqual(expect.arrayContaining(Object.keys(gatehouseOutputs(table))));
  }, 30_000);

  it('takes the stack name from GATEHOUSE_STACK_NAME, and names the secrets the stack creates after it', async () => {
    const r = await gatehouse(['--json', 'services', 'list'], { GATEHOUSE_STACK_NAME: stackName });

    // The example's service `reporting` has no secretId: the stack made `<stack>/services/reporting`, which the
    // emulator does not have, so Secrets Manager says so and the tool says which call failed.
    expect(r.code).toBe(EXIT.failure);
    expect(JSON.parse(r.stderr)).toEqual({
      error: 'ResourceNotFoundException',
      message: expect.stringMatching(/^Secrets Manager DescribeSecret failed \(ResourceNotFoundException, HTTP \d+\): the secret does not exist in us-east-1; .*check --stack-name$/),
    });
  });

  it('finds the stack named Gatehouse when no name is given, in the region of AWS_REGION, and works there', async () => {
    const regional = uniqueName('cli-default');
    await createGatehouseTable(defaultRegionDynamo, regional);
    await new Directory(defaultRegionDynamo, regional).createTenant({ tenantId: tenant, tier: 'default' });
    cleanups.push(await createStack({ name: 'Gatehouse', region: DEFAULT_NAME_REGION, outputs: gatehouseOutputs(regional), metadata: gatehouseMetadata(acmeConfig()) }));

    // DynamoDB is called in the stack's region: the table exists only there.
    const r = await withEnv({ AWS_REGION: DEFAULT_NAME_REGION }, () => gatehouse(['--json', 'keys', 'create', '--tenant', tenant, '--name', 'eu']));
    expect(r.code).toBe(EXIT.ok);
    expect(r.json().key).toMatch(/^acme_test_/);
    expect((await storedKey(defaultRegionDynamo, regional, r.json().key))?.tenantId?.S).toBe(tenant);

    // --region says the same and beats AWS_REGION (us-east-1 here).
    const flagged = await gatehouse(['--region', DEFAULT_NAME_REGION, '--json', 'keys', 'list', '--tenant', tenant]);
    expect(flagged.code).toBe(EXIT.ok);
    expect(flagged.json()).toHaveLength(1);
  });

  it('says a stack is not found, where it looked, with exit 3', async () => {
    const missing = uniqueName('Nope');
    const r = await gatehouse(['--stack-name', missing, 'keys', 'list', '--tenant', tenant]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toBe(`gatehouse: stack ${missing} not found in us-east-1 (check --stack-name and --region)\n`);

    // The stack exists, but in another region than the one asked.
    const elsewhere = await gatehouse(['--json', '--stack-name', stackName, '--region', 'us-west-2', 'keys', 'list', '--tenant', tenant]);
    expect(elsewhere.code).toBe(EXIT.notFound);
    expect(JSON.parse(elsewhere.stderr)).toEqual({ error: 'STACK_NOT_FOUND', message: `stack ${stackName} not found in us-west-2 (check --stack-name and --region)` });
  });

  it('refuses a stack without the configuration metadata, naming it; --config serves such a stack', async () => {
    const old = uniqueName('Old');
    cleanups.push(await createStack({ name: old, outputs: gatehouseOutputs(table) }));

    const r = await gatehouse(['--stack-name', old, 'keys', 'list', '--tenant', tenant]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(
      `gatehouse: stack ${old} in us-east-1 has no template metadata ${CONFIG_METADATA_KEY}: not a Gatehouse stack, or deployed by an older version. ` +
        'Redeploy it, or pass --config <the file it was deployed with>.\n',
    );

    // An explicit --config wins over the stack's (absent) document; the table still comes from the stack.
    const withFile = await gatehouse(['--stack-name', old, '--config', EXAMPLE, '--json', 'keys', 'create', '--tenant', tenant, '--name', 'old']);
    expect(withFile.code).toBe(EXIT.ok);
    expect(withFile.json().key).toMatch(/^gh_live_/);
    expect(await storedKey(dynamo, table, withFile.json().key)).toBeDefined();
  });

  it('refuses a stack without the outputs, naming each one missing', async () => {
    const other = uniqueName('Other');
    cleanups.push(await createStack({ name: other, outputs: gatehouseOutputs(table, ['TableName', 'RestApiId']) }));

    const r = await gatehouse(['--json', '--stack-name', other, 'tenants', 'list']);
    expect(r.code).toBe(EXIT.usage);
    expect(JSON.parse(r.stderr)).toEqual({
      error: 'NOT_A_GATEHOUSE_STACK',
      message:
        `stack ${other} in us-east-1 has no output RestApiId, output TableName, template metadata ${CONFIG_METADATA_KEY}: not a Gatehouse stack, ` +
        'or deployed by an older version. Check --stack-name and --region, or pass --table and --config.',
    });
  });

  it("refuses a stack whose configuration is not valid, as a --config file would be (naming the stack's metadata)", async () => {
    const bad = uniqueName('Bad');
    cleanups.push(await createStack({ name: bad, outputs: gatehouseOutputs(table), metadata: gatehouseMetadata({ ...acmeConfig(), environment: 'staging' }) }));

    const r = await gatehouse(['--json', '--stack-name', bad, 'tenants', 'list']);
    expect(r.code).toBe(EXIT.usage);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^stack ${bad}'s template metadata: .*environment`, 's')) });
  });

  it('keeps --table: with --config it needs no CloudFormation; without --config it refuses rather than use the example', async () => {
    const r = await gatehouse(['--table', table, '--config', EXAMPLE, '--stack-name', uniqueName('Absent'), '--json', 'keys', 'list', '--tenant', tenant]);
    expect(r.code).toBe(EXIT.ok);

    const refused = await gatehouse(['--table', table, 'keys', 'list', '--tenant', tenant]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toBe('gatehouse: --table: pass --config <the file the stack was deployed with> too (or neither, and let --stack-name find both)\n');
  });

  it('on a stack that deploys an HTTP API: creates tenants without a usage-plan key, and refuses --flush (no REST API to call)', async () => {
    const httpStack = uniqueName('Http');
    const config = { ...acmeConfig(), deployment: { ...(acmeConfig().deployment as object), api: 'http' } };
    cleanups.push(await createStack({ name: httpStack, outputs: gatehouseOutputs(table), metadata: gatehouseMetadata(config) }));

    // On a REST stack this would look for the tier's usage plan on API Gateway (the emulator has none: TIER_UNKNOWN).
    const created = await gatehouse(['--json', '--stack-name', httpStack, 'tenants', 'create', 'http-co']);
    expect(created.code).toBe(EXIT.ok);
    expect(created.json()).toMatchObject({ tenantId: 'http-co', tier: 'default' });
    expect(created.json()).not.toHaveProperty('usageKeyId');

    const flushed = await gatehouse(['--stack-name', httpStack, 'tenants', 'suspend', 'http-co', '--flush']);
    expect(flushed.code).toBe(EXIT.usage);
    expect(flushed.stderr).toMatch(/^gatehouse: --flush: this stack deploys an HTTP API \(deployment\.api "http"\).*takes effect within \d+ s\n$/);
  });

  it('checks the usage before looking anything up', async () => {
    const r = await gatehouse(['--stack-name', uniqueName('Absent'), 'keys', 'create', '--tenant', tenant]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("required option '--name <name>' not specified");
  });
});
