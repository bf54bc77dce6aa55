/**
 * A second moto server, private to one test file, that checks credentials and IAM policies as AWS does once
 * `enforce()` is called (moto's auth mode, which the shared server leaves off: every other test signs with made-up
 * keys). Started by the project's own `startMoto` (scripts/emulator.mjs) in a child process, which stops it when
 * told to or when the test process goes away (its stdin closes), so it never outlives the test.
 *
 * What it produces faithfully: an unknown access key (InvalidClientTokenId), a wrong secret (SignatureDoesNotMatch)
 * and CloudFormation's AccessDenied naming the IAM action. Not DynamoDB's or Secrets Manager's: moto answers their
 * auth failures in XML, which their JSON clients cannot read (see dynamoDbErrorServer in ./faults.ts for those).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface AuthEmulator {
  readonly endpoint: string;
  /** An IAM user whose inline policy allows exactly `actions` on every resource: its access key. */
  user(actions: readonly string[]): Promise<Credentials>;
  /** From now on every call must be signed by a known user's key and be allowed by its policy. */
  enforce(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');

/** The child: starts moto, prints its endpoint, stops it and exits when its stdin ends (a test's stop, or its death). */
const LAUNCHER = `
const { startMoto } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'scripts/emulator.mjs')).href)});
const moto = await startMoto();
process.stdout.write('AWS_ENDPOINT_URL=' + moto.endpoint + '\\n');
process.stdin.on('end', () => moto.stop().then(() => process.exit(0)));
process.stdin.resume();
`;

export async function startAuthEmulator(): Promise<AuthEmulator> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', LAUNCHER], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const endpoint = await endpointOf(child);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end();
    });
  return {
    endpoint,
    async user(actions) {
      const name = `cli-${randomBytes(4).toString('hex')}`;
      await iam(endpoint, { Action: 'CreateUser', UserName: name });
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
      await iam(endpoint, { Action: 'PutUserPolicy', UserName: name, PolicyName: 'cli', PolicyDocument: JSON.stringify(policy) });
      const xml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name });
      const field = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';
      return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
    },
    async enforce() {
      // moto checks every call after the first N; N = 0 from now on (the endpoint is moto's own, not an AWS API).
      const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '0' });
      if (!res.ok) throw new Error(`moto reset-auth: HTTP ${res.status}`);
    },
    stop,
  };
}

/** The endpoint the launcher prints (`AWS_ENDPOINT_URL=...`), once moto answers. */
function endpointOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^AWS_ENDPOINT_URL=(\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`the moto launcher exited (${code}): ${err.slice(-500)}`)));
  });
}

/**
 * An IAM call in moto's Query form, before `enforce()`: no IAM client is installed, and moto routes by the
 * credential scope's service without checking the signature while auth is off.
 */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${params.Action}: HTTP ${res.status}`);
  return text;
}
