import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_TARGET_FILE, type LocalTargetFile, UsageError, resolveTarget } from '../../control/target';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { RunFiles } from '../../local/run-files';
import { bearer, call, exampleConfig, quietLogger } from '../support/local';

/**
 * Two local modes side by side on different ports: each writes its own files under .local/<port>/, the shared
 * .local/cli-target.json points at the most recent one, `GATEHOUSE_LOCAL_PORT` picks either, and stopping one
 * removes only its own files (and the shared pointer only while it is its own).
 */
const noCloudFormation = () => {
  throw new Error('no CloudFormation for a local target');
};
const targetOf = (env: LocalEnvironment, pid: number): LocalTargetFile => ({ ...env.cliTarget, pid, sdkEnv: { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL! } });
const portOf = (env: LocalEnvironment) => Number(new URL(env.credentials.baseUrl).port);

let root: string;
let first: LocalEnvironment;
let second: LocalEnvironment;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-two-runs-'));
  first = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger });
  second = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger });
}, 60_000);
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  rmSync(root, { recursive: true, force: true });
});

it('keeps separate state: each run its own table, credentials and files; the CLI picks a run by port', async () => {
  expect(first.tableName).not.toBe(second.tableName);
  // The first run's API key is unknown to the second run: separate tables.
  expect((await call(first.credentials.baseUrl, 'GET', '/v1/customers', bearer(first.credentials.apiKeyRead))).status).toBe(200);
  expect((await call(second.credentials.baseUrl, 'GET', '/v1/customers', bearer(first.credentials.apiKeyRead))).status).toBe(401);

  const a = new RunFiles(root, portOf(first));
  const b = new RunFiles(root, portOf(second));
  a.write(first.credentials, targetOf(first, process.pid));
  b.write(second.credentials, targetOf(second, process.pid));
  expect(a.dir).not.toBe(b.dir);
  expect(JSON.parse(readFileSync(a.credentialsFile, 'utf8')).apiKeyRead).toBe(first.credentials.apiKeyRead);
  expect(JSON.parse(readFileSync(b.credentialsFile, 'utf8')).apiKeyRead).toBe(second.credentials.apiKeyRead);

  // `--local` alone: the most recent run; GATEHOUSE_LOCAL_PORT: the run on that port.
  const resolve = (env: NodeJS.ProcessEnv) => resolveTarget({ local: true }, env, root, noCloudFormation);
  expect((await resolve({})).tableName).toBe(second.tableName);
  expect((await resolve({ GATEHOUSE_LOCAL_PORT: String(portOf(first)) })).tableName).toBe(first.tableName);
  expect((await resolve({ GATEHOUSE_LOCAL_PORT: String(portOf(second)) })).tableName).toBe(second.tableName);
  await expect(resolve({ GATEHOUSE_LOCAL_PORT: 'x' })).rejects.toThrow(UsageError);

  // Stopping the first run (not the most recent) leaves the second's files and the shared pointer alone.
  expect(a.removedAtStop(false)).toEqual(expect.arrayContaining([expect.stringContaining(`${portOf(first)}/demo-credentials.json`)]));
  a.stop(false, undefined);
  expect([existsSync(a.credentialsFile), existsSync(a.cliTargetFile)]).toEqual([false, false]);
  expect([existsSync(b.credentialsFile), existsSync(b.cliTargetFile), existsSync(path.join(root, LOCAL_TARGET_FILE))]).toEqual([true, true, true]);
  await expect(resolve({ GATEHOUSE_LOCAL_PORT: String(portOf(first)) })).rejects.toThrow(`not running on port ${portOf(first)}`);
  expect((await resolve({})).tableName).toBe(second.tableName);

  // Stopping the second, with --keep: its state is kept on its port, the shared pointer (its own) goes.
  b.stop(true, { kept: true });
  expect(b.readKept()).toEqual({ kept: true });
  expect([existsSync(b.credentialsFile), existsSync(path.join(root, LOCAL_TARGET_FILE))]).toEqual([false, false]);
  await expect(resolve({})).rejects.toThrow('local mode is not running');
});
