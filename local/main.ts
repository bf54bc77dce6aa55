#!/usr/bin/env node
/**
 * Local mode: the whole API on this machine. Starts the AWS emulator (moto, installed into .venv on first use),
 * creates the table and secrets, seeds a demo tenant, serves the API through the local gateway, prints
 * ready-to-paste requests, writes the demo credentials to .local/demo-credentials.json, and stops everything on
 * Ctrl-C. Usage: npm start -- [--port 3000] [--keep]
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../contract/log';
import { type LocalState, provisionLocal } from './provision';
import { requestExamples } from './examples';
import { LOCAL_TARGET_FILE, type LocalTargetFile } from '../control/target';

// Set by scripts/run.mjs, which bundles this file (so __dirname is not the source folder).
const ROOT = process.env.GATEHOUSE_ROOT ?? process.cwd();
const LOCAL_DIR = path.join(ROOT, '.local');
const STATE_FILE = path.join(LOCAL_DIR, 'state.json');
const CREDENTIALS_FILE = path.join(LOCAL_DIR, 'demo-credentials.json');
const CLI_TARGET_FILE = path.join(ROOT, LOCAL_TARGET_FILE);

const HELP = `Usage: npm start -- [options]

Runs the Gatehouse API locally: AWS emulator, demo tenant, local issuer, same authorizer and handlers.
The configured issuers (Cognito, Auth0, Clerk, Entra, WorkOS, OIDC) keep their iss and claim rules and read their
keys from this gateway: mint their tokens with \`npx gatehouse --local tokens mint --issuer <id>\`.

Options:
  --port N     port of the local API (default 3000, or $PORT)
  --keep       keep the data (table items, secrets, signing keys) between runs, in .local/state.json
  --config F   stack configuration to serve (default config/gatehouse.example.json; one per provider in
               config/examples/)
  --verbose    print the authorizer's and handlers' JSON log lines
  --help       this text
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      keep: { type: 'boolean', default: false },
      config: { type: 'string', default: path.join(ROOT, 'config/gatehouse.example.json') },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a port number, got ${values.port}`);

  // Imported at run time from the repository (not bundled): the emulator script finds .venv next to itself.
  const { startMoto } = (await import(pathToFileURL(path.join(ROOT, 'scripts/emulator.mjs')).href)) as typeof import('../scripts/emulator.mjs');
  const moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_ENDPOINT_URL_') || key === 'AWS_SESSION_TOKEN' || key === 'AWS_PROFILE') delete process.env[key];

  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const state = values.keep && existsSync(STATE_FILE) ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LocalState) : undefined;
  let env;
  try {
    env = await provisionLocal({
      stackConfig: JSON.parse(readFileSync(values.config!, 'utf8')),
      port,
      ...(state ? { state } : {}),
      ...(values.verbose ? {} : { logger: quiet }),
    });
  } catch (err) {
    await moto.stop();
    throw err;
  }

  mkdirSync(LOCAL_DIR, { recursive: true });
  writeFileSync(CREDENTIALS_FILE, `${JSON.stringify(env.credentials, null, 2)}\n`, { mode: 0o600 });
  const cliTarget: LocalTargetFile = { ...env.cliTarget, pid: process.pid, sdkEnv: { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } };
  writeFileSync(CLI_TARGET_FILE, `${JSON.stringify(cliTarget, null, 2)}\n`, { mode: 0o600 });
  process.stdout.write(requestExamples(env.credentials, path.relative(process.cwd(), CREDENTIALS_FILE) || CREDENTIALS_FILE));
  process.stdout.write(`\nServing ${env.credentials.baseUrl} (emulator ${moto.endpoint}). ${values.keep ? 'Data is kept (--keep). ' : ''}Ctrl-C stops.\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping...\n');
    try {
      if (values.keep) writeFileSync(STATE_FILE, JSON.stringify(await env.snapshot()), { mode: 0o600 });
      else rmSync(STATE_FILE, { force: true });
      rmSync(CLI_TARGET_FILE, { force: true });
    } finally {
      await env.close();
      await moto.stop();
    }
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse local: ${(err as Error).message}\n`);
  process.exit(1);
});
