#!/usr/bin/env node
/**
 * Local mode: the whole API on this machine. Starts the AWS emulator (moto, installed into .venv on first use),
 * creates the table and secrets, seeds a demo tenant, serves the API through the local gateway, prints
 * ready-to-paste requests, writes the demo credentials to .local/<port>/demo-credentials.json, and stops everything
 * on Ctrl-C (removing that run's files: local/run-files.ts). Usage: npm start -- [--port 3000] [--keep] [--api http]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../contract/log';
import type { ApiKind } from '../contract/stack-config';
import { type LocalState, provisionLocal } from './provision';
import { requestExamples } from './examples';
import type { LocalTargetFile } from '../control/target';
import { RunFiles } from './run-files';
import type { UnavailableRoute } from './user-handlers';

// Set by scripts/run.mjs, which bundles this file (so __dirname is not the source folder).
const ROOT = process.env.GATEHOUSE_ROOT ?? process.cwd();

const HELP = `Usage: npm start -- [options]

Runs the Gatehouse API locally: AWS emulator, demo tenant, local issuer, same authorizer and handlers.
The configured issuers (Cognito, Auth0, Clerk, Entra, WorkOS, OIDC) keep their iss and claim rules and read their
keys from this gateway: mint their tokens with \`npx gatehouse --local tokens mint --issuer <id>\`.

Options:
  --port N     port of the local API (default 3000, or $PORT)
  --keep       keep the data (table items, secrets, signing keys) between runs on this port, in .local/<port>/state.json
  --config F   stack configuration to serve (default config/gatehouse.example.json; one per provider in
               config/examples/)
  --api KIND   emulate a REST API (rest) or an HTTP API (http); default: the configuration's deployment.api (rest)
  --verbose    print the authorizer's and handlers' JSON log lines
  --help       this text

Each run keeps its files in .local/<port>/ (demo credentials, CLI target, bundled handlers), so two runs on
different ports do not meet; .local/cli-target.json points \`gatehouse --local\` at the most recent run, and
GATEHOUSE_LOCAL_PORT=<port> at another.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      keep: { type: 'boolean', default: false },
      config: { type: 'string', default: path.join(ROOT, 'config/gatehouse.example.json') },
      api: { type: 'string' },
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
  if (values.api !== undefined && values.api !== 'rest' && values.api !== 'http') throw new Error('--api: expected rest or http');

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
  const configFile = path.resolve(values.config!);
  // A port of 0 is known once the gateway listens: its kept state (if any) is looked up as port 0's.
  const buildDir = path.join(ROOT, '.local', 'build', `handlers-${process.pid}`);
  const state = values.keep ? new RunFiles(ROOT, port).readKept<LocalState>() : undefined;
  let env;
  try {
    env = await provisionLocal({
      stackConfig: JSON.parse(readFileSync(configFile, 'utf8')),
      configDir: path.dirname(configFile),
      buildDir,
      port,
      ...(values.api ? { api: values.api as ApiKind } : {}),
      ...(state ? { state } : {}),
      ...(values.verbose ? {} : { logger: quiet }),
    });
  } catch (err) {
    await moto.stop();
    throw err;
  }

  const files = new RunFiles(ROOT, Number(new URL(env.credentials.baseUrl).port), buildDir);
  const cliTarget: LocalTargetFile = { ...env.cliTarget, pid: process.pid, sdkEnv: { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } };
  files.write(env.credentials, cliTarget);
  process.stdout.write(requestExamples(env.credentials, path.relative(process.cwd(), files.credentialsFile) || files.credentialsFile));
  process.stdout.write(unavailableLines(env.unavailableRoutes));
  process.stdout.write(`\nServing ${env.credentials.baseUrl} (emulator ${moto.endpoint}). ${values.keep ? 'Data is kept (--keep). ' : ''}Ctrl-C stops.\n`);
  process.stdout.write(`When it stops, this run deletes ${files.removedAtStop(values.keep!).join(', ')}${values.keep ? '' : ', and the emulator with every table item and secret (--keep saves them)'}.\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\nStopping: deleting ${files.removedAtStop(values.keep!).join(', ')}${values.keep ? `; the data is kept in ${path.relative(process.cwd(), files.stateFile)}` : ''}.\n`);
    try {
      files.stop(values.keep!, values.keep ? await env.snapshot() : undefined);
    } finally {
      await env.close();
      await moto.stop();
    }
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The routes whose handler is an existing Lambda function: they answer 502 here, and why. */
function unavailableLines(routes: readonly UnavailableRoute[]): string {
  if (!routes.length) return '';
  const lines = ['', '# Routes local mode cannot serve (their handler is an existing Lambda function, in AWS): they answer 502.'];
  for (const r of routes) lines.push(`#   ${r.route} -> handler "${r.name}" (${r.functionArn})`);
  return `${lines.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse local: ${(err as Error).message}\n`);
  process.exit(1);
});
