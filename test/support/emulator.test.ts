import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { createTable, dynamoClient, promotePending, putSecretVersions, secretsClient, uniqueName } from './aws';

const dynamo = dynamoClient();
const secrets = secretsClient();
afterAll(() => {
  dynamo.destroy();
  secrets.destroy();
});

describe('DynamoDB over the wire', () => {
  test('creates a table, puts and gets an item', async () => {
    const table = await createTable(uniqueName('emulator'), { ttlAttribute: 'expiresAt' });
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'tenant#t1' }, sk: { S: 'key#k1' }, scope: { S: 'read' } } }));

    const { Item } = await dynamo.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'tenant#t1' }, sk: { S: 'key#k1' } } }));

    expect(Item).toEqual({ pk: { S: 'tenant#t1' }, sk: { S: 'key#k1' }, scope: { S: 'read' } });
  });
});

describe('Secrets Manager version stages over the wire', () => {
  const valueAt = async (SecretId: string, VersionStage?: string) =>
    (await secrets.send(new GetSecretValueCommand({ SecretId, VersionStage }))).SecretString;

  test('reads the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions by VersionStage', async () => {
    const name = uniqueName('emulator/secret');
    const staged = await putSecretVersions(name, { previous: 'old', current: 'now', pending: 'next' });

    expect(await valueAt(name, 'AWSCURRENT')).toBe('now');
    expect(await valueAt(name, 'AWSPENDING')).toBe('next');
    expect(await valueAt(name, 'AWSPREVIOUS')).toBe('old');
    expect(await valueAt(name)).toBe('now');
    const { Versions = [] } = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(Object.fromEntries(Versions.map((v) => [v.VersionId, v.VersionStages]))).toEqual({
      [staged.versionIds.previous!]: ['AWSPREVIOUS'],
      [staged.versionIds.current]: ['AWSCURRENT'],
      [staged.versionIds.pending!]: ['AWSPENDING'],
    });
  });

  test('promotePending makes pending current and current previous', async () => {
    const name = uniqueName('emulator/rotated');
    await putSecretVersions(name, { current: 'before', pending: 'after' });

    await promotePending(name);

    expect(await valueAt(name, 'AWSCURRENT')).toBe('after');
    expect(await valueAt(name, 'AWSPREVIOUS')).toBe('before');
    await expect(valueAt(name, 'AWSPENDING')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  // Pins moto quirk 1 in aws.ts; when an upgrade fixes it this fails: then drop this test and the note.
  test('moto quirk: GetSecretValue without VersionStage ignores UpdateSecretVersionStage', async () => {
    const name = uniqueName('emulator/quirk');
    await putSecretVersions(name, { current: 'before', pending: 'after' });
    await promotePending(name);

    expect(await valueAt(name)).toBe('before'); // real Secrets Manager returns 'after'
  });
});

// Jest runs test files in a vm context that cannot import() an ES module, so a real Node child drives the API.
describe('startMoto lifecycle', () => {
  const emulatorUrl = pathToFileURL(path.resolve(__dirname, '../../scripts/emulator.mjs')).href;

  /** Starts moto in a child `node` and resolves with its pid once it answered; `then` runs next in the child. */
  function startInChild(then: string) {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startMoto } = await import(${JSON.stringify(emulatorUrl)});
         const moto = await startMoto();
         const { status } = await fetch(moto.endpoint + '/moto-api/');
         console.log(JSON.stringify({ pid: moto.pid, status, logFile: moto.logFile }));
         ${then}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig!)));
    const started = new Promise<{ pid: number; status: number; logFile: string }>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('\n') && resolve(JSON.parse(out.split('\n')[0]!)));
      void exit.then(() => reject(new Error(`child exited before moto answered:\n${err}`)));
    });
    return { child, started, exit, output: () => ({ out, err }) };
  }

  const running = (pid: number) => {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw e;
    }
    // An orphan killed with its parent lingers as a zombie until init reaps it, which here takes seconds.
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  };
  const waitGone = async (pid: number) => {
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 100));
    return !running(pid);
  };

  test('stop() of a second instance leaves no process', async () => {
    const run = startInChild(`await moto.stop(); console.log('stopped');`);
    const { pid, status } = await run.started;
    expect(status).toBe(200);

    expect(await run.exit).toBe(0);
    expect(run.output().out).toContain('stopped');
    // stop() reaped the server, so not even a zombie is left: the pid and its process group are gone.
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 30_000);

  test('a parent that crashes takes its moto down', async () => {
    const run = startInChild(`setTimeout(() => { throw new Error('parent crash'); });`);
    const { pid, logFile } = await run.started;

    expect(await run.exit).toBe(1);
    expect(run.output().err).toContain('parent crash');
    expect(await waitGone(pid)).toBe(true);
    fs.rmSync(logFile, { force: true }); // stop() never ran to remove it
  }, 30_000);

  test('an uncaught exception that the parent handles leaves its moto running', async () => {
    const run = startInChild(`process.on('uncaughtException', () => {});
      setTimeout(() => { throw new Error('handled'); });
      setTimeout(async () => {
        const { status } = await fetch(moto.endpoint + '/moto-api/');
        console.log('after:' + status);
        await moto.stop();
      }, 300);`);
    await run.started;

    expect(await run.exit).toBe(0);
    expect(run.output().out).toContain('after:200');
  }, 30_000);

  test('a parent killed with SIGKILL takes its moto down (watchdog)', async () => {
    const run = startInChild(`setInterval(() => {}, 1000);`);
    const { pid, logFile } = await run.started;

    run.child.kill('SIGKILL');

    expect(await run.exit).toBe('SIGKILL');
    expect(await waitGone(pid)).toBe(true);
    fs.rmSync(logFile, { force: true }); // stop() never ran to remove it
  }, 30_000);
});
