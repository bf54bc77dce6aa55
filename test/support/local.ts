import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../bin/cli/program';
import { LOCAL_TARGET_FILE, type LocalTargetFile } from '../../control/target';
import type { Logger } from '../../contract/log';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';

/** The example stack configuration (config/gatehouse.example.json). */
export const exampleConfig = (): Record<string, unknown> =>
  JSON.parse(readFileSync(path.resolve(__dirname, '../../config/gatehouse.example.json'), 'utf8'));

export const quietLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export async function call(base: string, method: string, p: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpAnswer> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json(): any;
}

/** Local mode on the test emulator plus the command-line tool pointed at it (`--local`), in-process. */
export interface LocalWithCli {
  readonly env: LocalEnvironment;
  /** The folder standing in for the repository root: its .local/cli-target.json describes `env`. */
  readonly root: string;
  cli(...args: string[]): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startLocalWithCli(stackConfig: Record<string, unknown>): Promise<LocalWithCli> {
  const env = await provisionLocal({ stackConfig, port: 0, logger: quietLogger });
  const root = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cli-'));
  const target: LocalTargetFile = {
    ...env.cliTarget,
    pid: process.pid,
    sdkEnv: { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
  };
  mkdirSync(path.join(root, '.local'));
  writeFileSync(path.join(root, LOCAL_TARGET_FILE), JSON.stringify(target));
  return {
    env,
    root,
    async cli(...args: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['--local', ...args], { io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, env: {}, root });
      const stdout = out.join('');
      return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) };
    },
    async close() {
      await env.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns `want` or `withinMs` passes; returns the status seen last and when. */
export async function waitForStatus(probe: () => Promise<number>, want: number, withinMs: number): Promise<{ status: number; afterMs: number }> {
  const start = Date.now();
  let status = await probe();
  while (status !== want && Date.now() - start < withinMs) {
    await new Promise((r) => setTimeout(r, 100));
    status = await probe();
  }
  return { status, afterMs: Date.now() - start };
}
