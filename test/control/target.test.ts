import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError, parseDuration, resolveTarget } from '../../control/target';

const ROOT = path.resolve(__dirname, '../..');
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

describe('resolveTarget (a deployed stack)', () => {
  it('reads the table, the configuration and the stage; names the secrets the stack creates after the stack', () => {
    const t = resolveTarget({ table: 'Gatehouse-DataTable', restApiId: 'abc123', stackName: 'Prod' }, {}, ROOT);
    expect(t).toMatchObject({
      kind: 'aws',
      tableName: 'Gatehouse-DataTable',
      apiKeyPrefix: 'gh',
      environment: 'live',
      services: { reporting: 'Prod/services/reporting' },
      stage: { restApiId: 'abc123', stageName: 'prod' },
    });
    expect(t.issuerIds).toEqual(['supabase', 'workos']);
    // The example's defaults: authorizer caches of 60 s and API Gateway's 300 s result TTL.
    expect(t.revocation.bounds.apiKeyRevoked).toEqual({ seconds: 360, withFlushSeconds: 60, flushAfterSeconds: 60 });
    expect(t.revocation.bounds.memberRemoved).toBeUndefined(); // membership mode is off in the example
  });

  it('takes the same from the environment', () => {
    const t = resolveTarget({}, { GATEHOUSE_TABLE: 'tbl', GATEHOUSE_REST_API_ID: 'x1', GATEHOUSE_STACK_NAME: 'Stg' }, ROOT);
    expect(t).toMatchObject({ tableName: 'tbl', stage: { restApiId: 'x1' }, services: { reporting: 'Stg/services/reporting' } });
  });

  it('names signer secrets as the stack does: <stack name>/signers/<name> when it creates them, the secretId otherwise', () => {
    const { file, remove } = configFile({
      ...example,
      signers: [{ name: 'relay', scopes: ['hooks:send'] }, { name: 'partner', secretId: 'partners/acme-hmac' }, { name: 'reporting' }],
      routes: [...example.routes, { method: 'POST', path: '/v1/hooks', accepts: ['signed'], handler: 'me' }],
    });
    try {
      const t = resolveTarget({ table: 'tbl', config: file, stackName: 'Prod' }, {}, ROOT);
      expect(t.signers).toEqual({ relay: 'Prod/signers/relay', partner: 'partners/acme-hmac', reporting: 'Prod/signers/reporting' });
      // A signer and a service of the same name have distinct secrets.
      expect(t.services).toEqual({ reporting: 'Prod/services/reporting' });
      expect(resolveTarget({ table: 'tbl', config: file }, { GATEHOUSE_STACK_NAME: 'Stg' }, ROOT).signers).toMatchObject({ relay: 'Stg/signers/relay' });
      expect(resolveTarget({ table: 'tbl', config: file }, {}, ROOT).signers).toMatchObject({ relay: 'Gatehouse/signers/relay' });
    } finally {
      remove();
    }
  });

  it('has no signers where the configuration has none', () => {
    const { file, remove } = configFile(example);
    try {
      expect(resolveTarget({ table: 'tbl', config: file }, {}, ROOT).signers).toEqual({});
    } finally {
      remove();
    }
  });

  it('refuses to guess: no target, an unreadable configuration, local mode not running', () => {
    expect(() => resolveTarget({}, {}, ROOT)).toThrow(UsageError);
    expect(() => resolveTarget({}, {}, ROOT)).toThrow(/pass --local .* or --table/);
    expect(() => resolveTarget({ table: 't', config: '/nonexistent.json' }, {}, ROOT)).toThrow(/--config: cannot read/);
    expect(() => resolveTarget({ local: true }, {}, '/nonexistent-root')).toThrow(/local mode is not running/);
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
