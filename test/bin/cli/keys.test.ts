import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EXIT, runCli } from '../../../bin/cli/program';
import { Directory } from '../../../control/directory/directory';
import { createGatehouseTable } from '../../../local/create-table';
import { dynamoClient, uniqueName } from '../../support/aws';

/**
 * `gatehouse keys create | list` against a table in the emulator (--table, --config): the configured cap
 * (apiKeys.maxPerTenant) holds for the tool too, and `keys list` pages as GET /v1/api-keys does.
 */
const ROOT = path.resolve(__dirname, '../../..');
const db = dynamoClient();
let dir: string;
let table: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-keys-'));
  table = await createGatehouseTable(db, uniqueName('cli-keys'));
  const example = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
  config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ...example, apiKeys: { ...example.apiKeys, maxPerTenant: 2 } }));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  db.destroy();
});

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--json', '--table', table, '--config', config, '--stack-name', 'CliTest', ...args], {
    io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    env: process.env,
    root: ROOT,
  });
  const stdout = out.join('');
  return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) };
}

async function freshTenant(): Promise<string> {
  const tenantId = `t-${randomBytes(6).toString('hex')}`;
  await new Directory(db, table).createTenant({ tenantId, tier: 'default' });
  return tenantId;
}

describe('gatehouse keys', () => {
  it('refuses a key past apiKeys.maxPerTenant with exit 4 and KEY_LIMIT_REACHED', async () => {
    // Prepare
    const tenant = await freshTenant();
    for (const name of ['a', 'b']) expect((await cli('keys', 'create', '--tenant', tenant, '--name', name)).code).toBe(EXIT.ok);

    // Act
    const refused = await cli('keys', 'create', '--tenant', tenant, '--name', 'c');

    // Assert
    expect(refused.code).toBe(EXIT.conflict);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: 'KEY_LIMIT_REACHED' });
  });

  it('lists one page with --limit and the next with --cursor; all of them without', async () => {
    // Prepare
    const tenant = await freshTenant();
    for (const name of ['a', 'b']) await cli('keys', 'create', '--tenant', tenant, '--name', name);

    // Act
    const first = await cli('keys', 'list', '--tenant', tenant, '--limit', '1');
    const second = await cli('keys', 'list', '--tenant', tenant, '--limit', '1', '--cursor', first.json().nextCursor);
    const all = await cli('keys', 'list', '--tenant', tenant);

    // Assert
    expect(first.json().items).toHaveLength(1);
    expect(second.json().items).toHaveLength(1);
    expect(second.json()).not.toHaveProperty('nextCursor');
    expect([...first.json().items, ...second.json().items].map((k: { keyId: string }) => k.keyId).sort()).toEqual(all.json().map((k: { keyId: string }) => k.keyId).sort());
  });

  it.each([
    ['--limit', '0'],
    ['--limit', 'ten'],
    ['--cursor', 'garbage'],
  ])('refuses %s %s with exit 2', async (flag, value) => {
    expect((await cli('keys', 'list', '--tenant', await freshTenant(), flag, value)).code).toBe(EXIT.usage);
  });
});
