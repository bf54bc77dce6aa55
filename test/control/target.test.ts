import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StackError } from '../../control/stack-lookup';
import { type TargetOptions, UsageError, parseDuration, resolveTarget as resolve } from '../../control/target';
import { uniqueName } from '../support/aws';
import { withEnv } from '../support/faults';
import { acmeConfig, createStack, gatehouseMetadata, gatehouseOutputs } from '../support/stacks';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'config/gatehouse.example.json');

/** resolveTarget with CloudFormation clients on the emulator (the SDK environment), destroyed after the file. */
const clients: CloudFormationClient[] = [];
afterAll(() => clients.forEach((c) => c.destroy()));
const resolveTarget = (opts: TargetOptions, env: NodeJS.ProcessEnv, root: string) =>
  resolve(opts, env, root, (region) => {
    const c = new CloudFormationClient({ ...(region ? { region } : {}), maxAttempts: 1 });
    clients.push(c);
    return c;
  });
/**
 * The example configuration without signers and without cookie or signed routes (whatever it has of those), so
 * each test adds exactly the ones it is about.
 */
function plainExample(): Record<string, any> {
  const { signers: _signers, ...doc } = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
  return { ...doc, routes: doc.routes.filter((r: { cookie?: string; accepts?: string[] }) => r.cookie === undefined && !r.accepts?.includes('signed')) };
}
const example = plainExample();

/** A stack configuration in a temporary file: its path, and a function that removes it. */
function configFile(doc: unknown): { file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-target-'));
  const file = path.join(dir, 'gatehouse.json');
  writeFileSync(file, JSON.stringify(doc));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('resolveTarget (a deployed stack given by --table and --config)', () => {
  it('reads the table, the configuration and the stage; names the secrets the stack creates after the stack', async () => {
    const t = await resolveTarget({ table: 'Gatehouse-DataTable', config: EXAMPLE, restApiId: 'abc123', stackName: 'Prod' }, {}, ROOT);
    expect(t).toMatchObject({
      kind: 'aws',
      tableName: 'Gatehouse-DataTable',
      apiKeyPrefix: 'gh',
      environment: 'live',
      services: { reporting: 'Prod/services/reporting' },
      stage: { restApiId: 'abc123', stageName: 'prod' },
      region: 'us-east-1',
    });
    expect(t.stack).toBeUndefined(); // no CloudFormation lookup with --table
    expect(t.issuerIds).toEqual(['supabase', 'workos']);
    // The example's defaults: authorizer caches of 60 s and API Gateway's 300 s result TTL.
    expect(t.revocation.bounds.apiKeyRevoked).toEqual({ seconds: 360, withFlushSeconds: 60, flushAfterSeconds: 60 });
    expect(t.revocation.bounds.memberRemoved).toBeUndefined(); // membership mode is off in the example
  });

  it('gives a stack that deploys an HTTP API no REST stage, even with a REST API id: no usage plans, no REST cache to flush', async () => {
    const { file, remove } = configFile({ ...example, deployment: { ...example.deployment, api: 'http' } });
    try {
      const t = await resolveTarget({ table: 'Gatehouse-DataTable', config: file, restApiId: 'abc123' }, {}, ROOT);
      expect(t).toMatchObject({ kind: 'aws', tableName: 'Gatehouse-DataTable', api: 'http' });
      expect(t.stage).toBeUndefined();
    } finally {
      remove();
    }
  });

  it('takes the same from the environment', async () => {
    const t = await resolveTarget({}, { GATEHOUSE_TABLE: 'tbl', GATEHOUSE_CONFIG_FILE: EXAMPLE, GATEHOUSE_REST_API_ID: 'x1', GATEHOUSE_STACK_NAME: 'Stg' }, ROOT);
    expect(t).toMatchObject({ tableName: 'tbl', stage: { restApiId: 'x1' }, services: { reporting: 'Stg/services/reporting' } });
  });

  it('names signer secrets as the stack does: <stack name>/signers/<name> when it creates them, the secretId otherwise', async () => {
    const { file, remove } = configFile({
      ...example,
      signers: [{ name: 'relay', scopes: ['hooks:send'] }, { name: 'partner', secretId: 'partners/acme-hmac' }, { name: 'reporting' }],
      routes: [...example.routes, { method: 'POST', path: '/v1/hooks', accepts: ['signed'], handler: 'me' }],
    });
    try {
      const t = await resolveTarget({ table: 'tbl', config: file, stackName: 'Prod' }, {}, ROOT);
      expect(t.signers).toEqual({ relay: 'Prod/signers/relay', partner: 'partners/acme-hmac', reporting: 'Prod/signers/reporting' });
      // A signer and a service of the same name have distinct secrets.
      expect(t.services).toEqual({ reporting: 'Prod/services/reporting' });
      expect((await resolveTarget({ table: 'tbl', config: file }, { GATEHOUSE_STACK_NAME: 'Stg' }, ROOT)).signers).toMatchObject({ relay: 'Stg/signers/relay' });
      expect((await resolveTarget({ table: 'tbl', config: file }, {}, ROOT)).signers).toMatchObject({ relay: 'Gatehouse/signers/relay' });
    } finally {
      remove();
    }
  });

  it('has no signers where the configuration has none', async () => {
    const { file, remove } = configFile(example);
    try {
      expect((await resolveTarget({ table: 'tbl', config: file }, {}, ROOT)).signers).toEqual({});
    } finally {
      remove();
    }
  });

  it('refuses to guess: --table without --config, an unreadable configuration, local mode not running', async () => {
    // The example's key prefix and environment are not the deployed stack's: keys minted with them would not work.
    await expect(resolveTarget({ table: 't' }, {}, ROOT)).rejects.toThrow(UsageError);
    await expect(resolveTarget({ table: 't' }, {}, ROOT)).rejects.toThrow(/^--table: pass --config/);
    await expect(resolveTarget({}, { GATEHOUSE_TABLE: 't' }, ROOT)).rejects.toThrow(/^--table: pass --config/);
    await expect(resolveTarget({ table: 't', config: '/nonexistent.json' }, {}, ROOT)).rejects.toThrow(/--config: cannot read/);
    await expect(resolveTarget({ local: true }, {}, '/nonexistent-root')).rejects.toThrow(/local mode is not running/);
  });
});

describe('resolveTarget (a deployed stack found by name)', () => {
  const name = uniqueName('Target');
  let deleteStack: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    deleteStack = await createStack({ name, outputs: gatehouseOutputs('stack-table'), metadata: gatehouseMetadata(acmeConfig()) });
  });
  afterAll(() => deleteStack?.());

  it("takes the table, the stage and the configuration from the stack's outputs and metadata", async () => {
    const t = await resolveTarget({ stackName: name }, {}, ROOT);
    expect(t).toMatchObject({
      kind: 'aws',
      tableName: 'stack-table',
      apiKeyPrefix: 'acme',
      environment: 'test',
      region: 'us-east-1',
      stage: { restApiId: 'a1b2c3d4e5', stageName: 'prod' },
      stack: { name, apiUrl: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/' },
      services: { reporting: `${name}/services/reporting` },
    });
  });

  it('reads the configuration document also when the metadata holds it as a JSON string', async () => {
    const stringly = uniqueName('Stringly');
    const remove = await createStack({ name: stringly, outputs: gatehouseOutputs('t2'), metadata: gatehouseMetadata(JSON.stringify(acmeConfig())) });
    try {
      expect(await resolveTarget({ stackName: stringly }, {}, ROOT)).toMatchObject({ tableName: 't2', apiKeyPrefix: 'acme', environment: 'test' });
    } finally {
      await remove();
    }
  });

  it('lets an explicit --config and --rest-api-id win over what the stack says', async () => {
    const t = await resolveTarget({ stackName: name, config: EXAMPLE }, { GATEHOUSE_REST_API_ID: 'other1' }, ROOT);
    expect(t).toMatchObject({ tableName: 'stack-table', apiKeyPrefix: 'gh', environment: 'live', stage: { restApiId: 'other1' } });
  });

  it('looks the stack up when no --table is given: the default name, Gatehouse, not found on the emulator', async () => {
    const err = await resolveTarget({ region: 'ap-south-2' }, {}, ROOT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect(err).toMatchObject({ code: 'STACK_NOT_FOUND', message: 'stack Gatehouse not found in ap-south-2 (check --stack-name and --region)' });
  });

  it('refuses a stack name or region CloudFormation could not have, before any call', async () => {
    await expect(resolveTarget({ stackName: 'my stack' }, {}, ROOT)).rejects.toThrow(/^--stack-name: a stack name is letters, digits and dashes/);
    await expect(resolveTarget({}, { GATEHOUSE_STACK_NAME: '1st' }, ROOT)).rejects.toThrow(/^--stack-name:/);
    await expect(resolveTarget({ region: 'Europe' }, {}, ROOT)).rejects.toThrow(/^--region: expected a region like eu-west-1/);
  });

  it('says what to do when there is no region: no --region, no AWS_REGION, no profile with one', async () => {
    const noRegion = { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: '/nonexistent/config' };
    const err = await withEnv(noRegion, () => resolveTarget({}, {}, ROOT).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('no AWS region: pass --region or set AWS_REGION (or --local, against `npm start`)');
    // --region is enough, and so is the table mode's region from --region.
    const t = await withEnv(noRegion, () => resolveTarget({ table: 'tbl', config: EXAMPLE, region: 'eu-west-1' }, {}, ROOT));
    expect(t.region).toBe('eu-west-1');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30', 30],
    ['30s', 30],
    ['15m', 900],
    ['24h', 86_400],
    ['90d', 7_776_000],
  ])('%s = %i s', (text, seconds) => expect(parseDuration(text, '--ttl')).toBe(seconds));

  it.each(['', 'soon', '1w', '-5m', '1.5h'])('refuses %j, naming the option', (text) => {
    expect(() => parseDuration(text, '--ttl')).toThrow(/^--ttl: expected a duration/);
  });
});
