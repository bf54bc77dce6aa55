/**
 * The rotation Lambda's four steps against the emulator (moto), over the real Secrets Manager wire API.
 *
 * Moto never enables rotation unless RotateSecret is called with rotation rules, and cannot stage AWSPENDING on a
 * value-less version the way RotateSecret does on AWS before createSecret. So most cases run the steps as
 * `rotateNow` does (startedBy 'in-process': createSecret creates the token's version itself); the deployed mode
 * (`secrets-manager`) is pinned by its own cases below. Values are compared by digest and never printed.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rotateNow } from '../../../control/rotation/rotate-now';
import { type RotationDeps, type RotationStep, ROTATION_STEPS, createRotationHandler, malformedSecretReason } from '../../../control/rotation/steps';
import { jsonLogger } from '../../../contract/log';
import { secretsClient, uniqueName } from '../../support/aws';
import { SecretVault } from '../../support/leak-audit';

let sm: SecretsManagerClient;
const vault = new SecretVault();
const lines: string[] = [];
const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(() => {
  sm = secretsClient();
});
afterAll(() => sm.destroy());
beforeEach(() => void lines.splice(0));

/** A fresh secret with a strong current value (registered in the vault, so the log audit looks for it). */
async function newSecret(): Promise<{ name: string; currentVersionId: string }> {
  const name = uniqueName('svc-rotation');
  const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: vault.secret(`${name} initial`, randomBytes(32).toString('base64url')) }));
  return { name, currentVersionId: out.VersionId! };
}

/** Values generated during the tests are registered in the vault too. */
function generate(): string {
  return vault.secret('generated', randomBytes(32).toString('base64url'));
}

function handler(overrides: Partial<RotationDeps> = {}) {
  return createRotationHandler({ secretsManager: sm, logger: jsonLogger('test-rotation', (l) => void lines.push(l)), generate, startedBy: 'in-process', ...overrides });
}

const event = (SecretId: string, ClientRequestToken: string, Step: RotationStep) => ({ SecretId, ClientRequestToken, Step });

/** Every version's labels and a digest of its value: what "changes nothing" compares. */
async function snapshot(name: string): Promise<Record<string, { stages: string[]; digest: string }>> {
  const { Versions = [] } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
  const out: Record<string, { stages: string[]; digest: string }> = {};
  for (const v of Versions) {
    const value = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v.VersionId! }));
    out[v.VersionId!] = { stages: [...(v.VersionStages ?? [])].sort(), digest: createHash('sha256').update(value.SecretString ?? '').digest('hex') };
  }
  return out;
}

async function stagesOf(name: string): Promise<Record<string, string[]>> {
  const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
  return Object.fromEntries(Object.entries(d.VersionIdsToStages ?? {}).map(([id, s]) => [id, [...s].sort()]));
}

async function valueOf(name: string, stage: string): Promise<string> {
  return (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString!;
}

describe('rotation steps', () => {
  it('createSecret stages a new, strong value as AWSPENDING under the token, and leaves AWSCURRENT alone', async () => {
    const { name, currentVersionId } = await newSecret();
    const before = await valueOf(name, 'AWSCURRENT');
    const token = randomUUID();

    await handler()(event(name, token, 'createSecret'));

    expect(await stagesOf(name)).toEqual({ [currentVersionId]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    const pending = (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token, VersionStage: 'AWSPENDING' }))).SecretString!;
    expect(pending).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pending === before).toBe(false);
    expect(await valueOf(name, 'AWSCURRENT')).toBe(before);
    expect(logs()).toEqual([expect.objectContaining({ level: 'INFO', message: 'rotation step', step: 'createSecret', outcome: 'created', versionId: token })]);
  });

  it('setSecret has nothing to set, testSecret accepts the new value, finishSecret promotes it and leaves no AWSPENDING', async () => {
    const { name, currentVersionId } = await newSecret();
    const token = randomUUID();
    const rotate = handler();
    await rotate(event(name, token, 'createSecret'));
    const pending = (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token }))).SecretString!;
    const old = await valueOf(name, 'AWSCURRENT');

    await rotate(event(name, token, 'setSecret'));
    await rotate(event(name, token, 'testSecret'));
    expect(await stagesOf(name)).toEqual({ [currentVersionId]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    await rotate(event(name, token, 'finishSecret'));

    expect(await stagesOf(name)).toEqual({ [currentVersionId]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    expect((await valueOf(name, 'AWSCURRENT')) === pending).toBe(true);
    expect((await valueOf(name, 'AWSPREVIOUS')) === old).toBe(true);
    expect(logs().map((l) => [l.step, l.outcome])).toEqual([
      ['createSecret', 'created'],
      ['setSecret', 'nothing-to-set'],
      ['testSecret', 'tested'],
      ['finishSecret', 'promoted'],
    ]);
  });

  it.each(ROTATION_STEPS.map((s, i) => [s, i] as const))('running %s twice with the same token changes nothing the second time', async (step, i) => {
    const { name } = await newSecret();
    const token = randomUUID();
    const rotate = handler();
    for (const earlier of ROTATION_STEPS.slice(0, i)) await rotate(event(name, token, earlier));
    await rotate(event(name, token, step));
    const once = await snapshot(name);

    await rotate(event(name, token, step));

    expect(await snapshot(name)).toEqual(once);
    const [first, second] = logs().filter((l) => l.step === step);
    expect(first!.level).toBe('INFO');
    expect(second!.level).toBe('INFO');
  });

  it('a retried rotation (every step again, after it finished) changes nothing and reports already-current', async () => {
    const { name } = await newSecret();
    const token = randomUUID();
    const rotate = handler();
    for (const step of ROTATION_STEPS) await rotate(event(name, token, step));
    const done = await snapshot(name);
    lines.splice(0);

    for (const step of ROTATION_STEPS) await rotate(event(name, token, step));

    expect(await snapshot(name)).toEqual(done);
    expect(logs().map((l) => l.outcome)).toEqual(['already-current', 'already-current', 'already-current', 'already-current']);
  });

  it('fails every step after createSecret for a token that is not a version of the secret', async () => {
    const { name } = await newSecret();
    const before = await snapshot(name);

    for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) {
      await expect(handler()(event(name, randomUUID(), step))).rejects.toThrow(/is not a version of this secret/);
    }
    expect(await snapshot(name)).toEqual(before);
    expect(logs().map((l) => [l.level, l.message, l.error])).toEqual([
      ['ERROR', 'rotation step failed', 'RotationError'],
      ['ERROR', 'rotation step failed', 'RotationError'],
      ['ERROR', 'rotation step failed', 'RotationError'],
    ]);
  });

  it('fails for a version that exists but is neither AWSPENDING nor AWSCURRENT (an old one), and changes nothing', async () => {
    const { name, currentVersionId } = await newSecret();
    await rotateNow(sm, name, { generate });
    const before = await snapshot(name);
    expect(before[currentVersionId]!.stages).toEqual(['AWSPREVIOUS']);

    for (const step of ROTATION_STEPS) {
      await expect(handler()(event(name, currentVersionId, step))).rejects.toThrow(/is not staged AWSPENDING/);
    }
    expect(await snapshot(name)).toEqual(before);
  });

  it('fails for a secret that does not exist, and for a malformed event', async () => {
    await expect(handler()(event(uniqueName('missing'), randomUUID(), 'createSecret'))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const { name } = await newSecret();
    await expect(handler()(event(name, 'short', 'createSecret'))).rejects.toThrow(/rotation event/);
    await expect(handler()({ SecretId: name, ClientRequestToken: randomUUID(), Step: 'dropSecret' as RotationStep })).rejects.toThrow(/rotation event/);
    await expect(handler()(undefined as never)).rejects.toThrow(/rotation event/);
  });

  it.each([
    ['blank', ' '.repeat(44)],
    ['short', randomBytes(12).toString('base64url')],
    ['not a bearer token', `${randomBytes(24).toString('base64url')} ${randomBytes(8).toString('hex')}`],
  ])('testSecret refuses a %s pending value, and finishSecret is never reached by a rotation that stops there', async (_label, weak) => {
    const { name, currentVersionId } = await newSecret();
    const token = randomUUID();
    await sm.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: weak, VersionStages: ['AWSPENDING'] }));

    await expect(handler()(event(name, token, 'testSecret'))).rejects.toThrow(/is not a usable service secret/);

    expect(await stagesOf(name)).toEqual({ [currentVersionId]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    expect(logs()).toEqual([expect.objectContaining({ level: 'ERROR', step: 'testSecret', error: 'RotationError' })]);
  });

  it('createSecret refuses to store a weak value from its generator', async () => {
    const { name, currentVersionId } = await newSecret();

    await expect(handler({ generate: () => 'x'.repeat(20) })(event(name, randomUUID(), 'createSecret'))).rejects.toThrow(/refusing to store/);

    expect(await stagesOf(name)).toEqual({ [currentVersionId]: ['AWSCURRENT'] });
  });

  it('never writes a secret value to its log lines', async () => {
    const { name } = await newSecret();
    const token = randomUUID();
    const rotate = handler();
    for (const step of ROTATION_STEPS) await rotate(event(name, token, step));
    await expect(rotate(event(name, randomUUID(), 'testSecret'))).rejects.toThrow();

    expect(lines).toHaveLength(5);
    expect(vault.scan(lines.join('\n'))).toEqual([]);
  });
});

describe('as deployed (started by Secrets Manager)', () => {
  const deployed = () => handler({ startedBy: 'secrets-manager' });

  it('refuses a secret whose rotation is not enabled, at every step', async () => {
    const { name } = await newSecret();
    const before = await snapshot(name);

    for (const step of ROTATION_STEPS) await expect(deployed()(event(name, randomUUID(), step))).rejects.toThrow(/rotation is not enabled/);

    expect(await snapshot(name)).toEqual(before);
  });

  it('requires the token to be a version already (RotateSecret adds it); with rotation enabled the steps run as AWS runs them', async () => {
    const { name } = await newSecret();
    // Moto enables rotation only through RotateSecret with rules; without a function it re-stages the current value.
    await sm.send(new RotateSecretCommand({ SecretId: name, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).RotationEnabled).toBe(true);
    const current = Object.entries(await stagesOf(name)).find(([, s]) => s.includes('AWSCURRENT'))![0];

    await expect(deployed()(event(name, randomUUID(), 'createSecret'))).rejects.toThrow(/is not a version of this secret/);

    // Secrets Manager's own AWSPENDING version, as createSecret finds it on a retry (moto cannot make it value-less).
    const token = randomUUID();
    await sm.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: generate(), VersionStages: ['AWSPENDING'] }));
    for (const step of ROTATION_STEPS) await deployed()(event(name, token, step));

    expect((await stagesOf(name))[token]).toEqual(['AWSCURRENT']);
    expect((await stagesOf(name))[current]).toEqual(['AWSPREVIOUS']);
    expect(logs().map((l) => [l.step, l.outcome, l.startedBy])).toEqual([
      ['createSecret', undefined, 'secrets-manager'],
      ['createSecret', 'exists', 'secrets-manager'],
      ['setSecret', 'nothing-to-set', 'secrets-manager'],
      ['testSecret', 'tested', 'secrets-manager'],
      ['finishSecret', 'promoted', 'secrets-manager'],
    ]);
  });
});

describe('rotateNow', () => {
  it('runs the four steps with a fresh token: a new AWSCURRENT, the old value AWSPREVIOUS, nothing pending', async () => {
    const { name, currentVersionId } = await newSecret();
    const old = await valueOf(name, 'AWSCURRENT');

    const { versionId } = await rotateNow(sm, name, { generate });
    const second = await rotateNow(sm, name, { generate });

    expect(versionId).toMatch(/^[0-9a-f-]{36}$/);
    const labelled = Object.fromEntries(Object.entries(await stagesOf(name)).filter(([, s]) => s.length > 0));
    expect(labelled).toEqual({ [versionId]: ['AWSPREVIOUS'], [second.versionId]: ['AWSCURRENT'] });
    expect(labelled[currentVersionId]).toBeUndefined();
    expect((await valueOf(name, 'AWSCURRENT')) === old).toBe(false);
    expect(malformedSecretReason(await valueOf(name, 'AWSCURRENT'))).toBeUndefined();
  });

  it('refuses while another rotation is in flight, and changes nothing', async () => {
    const { name } = await newSecret();
    await sm.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: randomUUID(), SecretString: generate(), VersionStages: ['AWSPENDING'] }));
    const before = await snapshot(name);

    await expect(rotateNow(sm, name, { generate })).rejects.toThrow(/already in flight/);

    expect(await snapshot(name)).toEqual(before);
  });
});
