import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, runCli } from '../../../bin/cli/program';
import { secretsClient, uniqueName } from '../../support/aws';

/**
 * `gatehouse signers add | list | rotate` against a deployed-stack target (--table, --config, --stack-name) whose
 * Secrets Manager is the emulator (the SDK environment jest's global setup sets), and `services` still answering
 * as before: both groups are one set of commands parameterized by kind.
 */
const ROOT = path.resolve(__dirname, '../../..');
/**
 * The example configuration without signers and without cookie or signed routes (whatever it has of those), so
 * each test adds exactly the ones it is about.
 */
function plainExample(): Record<string, any> {
  const { signers: _signers, ...doc } = JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8'));
  return { ...doc, routes: doc.routes.filter((r: { cookie?: string; accepts?: string[] }) => r.cookie === undefined && !r.accepts?.includes('signed')) };
}
const example = plainExample();
const secrets = secretsClient();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-signers-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  secrets.destroy();
});

/** Writes a stack configuration with these signers and runs the tool against it. */
async function cli(signers: readonly object[], ...args: string[]) {
  const config = path.join(dir, `${uniqueName('config')}.json`);
  writeFileSync(config, JSON.stringify({ ...example, signers }));
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--table', 'unused', '--config', config, '--stack-name', 'CliTest', ...args], {
    io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    env: process.env,
    root: ROOT,
  });
  const stdout = out.join('');
  return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) };
}

describe('gatehouse signers', () => {
  const name = uniqueName('relay');
  const secretId = `gatehouse-signers/${name}`;

  it('add creates gatehouse-signers/<name>, prints the secret once and the entry for "signers"', async () => {
    const r = await cli([], 'signers', 'add', name, '--scope', 'hooks:send', '--scope', 'hooks:read');

    expect(r.code).toBe(EXIT.ok);
    const secret = r.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain(`Created ${secretId}`);
    expect(r.stderr).toContain('Add this to "signers" in the stack configuration');
    expect(r.stderr).toContain(JSON.stringify({ name, secretId, scopes: ['hooks:send', 'hooks:read'] }));
    expect(r.stderr).not.toContain(secret);
    const stored = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    expect(stored.SecretString).toBe(secret);
    const d = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(d.Description).toContain('signs requests with HMAC-SHA256');
  });

  it('add with --json prints one document with the configuration entry', async () => {
    const other = uniqueName('hook');
    const r = await cli([], '--json', 'signers', 'add', other);

    expect(r.code).toBe(EXIT.ok);
    expect(r.json()).toEqual({
      name: other,
      secretId: `gatehouse-signers/${other}`,
      scopes: [],
      secret: expect.any(String),
      configEntry: { name: other, secretId: `gatehouse-signers/${other}`, scopes: [] },
    });
    expect(r.stderr).toBe('');
  });

  it('add refuses a secret that exists (conflict) and a name a signer cannot have (usage)', async () => {
    const again = await cli([], '--json', 'signers', 'add', name);
    expect(again.code).toBe(EXIT.conflict);
    expect(JSON.parse(again.stderr)).toEqual({ error: 'SIGNER_EXISTS', message: `signer ${name}: secret ${secretId} already exists` });

    const bad = await cli([], 'signers', 'add', 'Bad_Name');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('a signer name is lowercase letters, digits and dashes');
  });

  it('list shows the configured signers and their rotation state; rotate starts a rotation of one', async () => {
    const signers = [{ name, secretId, scopes: ['hooks:send'] }];

    const before = await cli(signers, '--json', 'signers', 'list');
    expect(before.code).toBe(EXIT.ok);
    expect(before.json()).toEqual([expect.objectContaining({ name, secretId, rotationEnabled: false, rotationInFlight: false })]);
    expect(before.json()[0].lastRotated).toBeUndefined();

    const rotated = await cli(signers, '--json', 'signers', 'rotate', name);
    expect(rotated.code).toBe(EXIT.ok);
    expect(rotated.json()).toEqual({ name, secretId, versionId: expect.any(String), mode: 'secrets-manager' });

    // The emulator has no rotation function to run: it makes the requested version AWSCURRENT at once.
    const d = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(d.VersionIdsToStages?.[rotated.json().versionId]).toContain('AWSCURRENT');
    const after = await cli(signers, '--json', 'signers', 'list');
    expect(after.json()).toEqual([expect.objectContaining({ name, secretId, lastRotated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })]);

    const text = await cli(signers, 'signers', 'list');
    expect(text.stdout).toMatch(/^NAME\s+SECRETID\s+ROTATIONENABLED/);
    expect(text.stdout).toContain(secretId);
  });

  it('list and rotate know only configured signers: a stack secret is <stack name>/signers/<name>', async () => {
    const empty = await cli([], '--json', 'signers', 'list');
    expect(empty.json()).toEqual([]);

    const unknown = await cli([], '--json', 'signers', 'rotate', name);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(JSON.parse(unknown.stderr)).toEqual({ error: 'SIGNER_NOT_FOUND', message: `no signer ${name} in the configuration` });

    // A signer the stack creates: its secret is named after the stack (here it was never deployed).
    const created = await cli([{ name: 'stackmade' }], '--json', 'signers', 'rotate', 'stackmade');
    expect(created.code).toBe(EXIT.failure);
    expect(JSON.parse(created.stderr).error).toBe('ResourceNotFoundException');
  });

  it('keeps services apart: services list shows services only, and services add still names gatehouse-services/<name>', async () => {
    const svc = uniqueName('svc');
    const added = await cli([{ name, secretId }], '--json', 'services', 'add', svc);
    expect(added.code).toBe(EXIT.ok);
    expect(added.json().configEntry).toEqual({ name: svc, secretId: `gatehouse-services/${svc}`, scopes: [] });

    const unknown = await cli([{ name, secretId }], '--json', 'services', 'rotate', name);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(JSON.parse(unknown.stderr).message).toBe(`no service ${name} in the configuration`);
  });
});
