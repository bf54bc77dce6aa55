import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MotoHandle } from '../../scripts/emulator.mjs';

declare global {
  // globalSetup and globalTeardown share this global; test files never see it.
  var __gatehouseMoto: MotoHandle | undefined;
}

type EmulatorModule = typeof import('../../scripts/emulator.mjs');

// ts-jest compiles this file to CommonJS, which turns a literal import() into require(); Node 20 cannot
// require an ES module. A Function body is not compiled, so this stays a real dynamic import.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<EmulatorModule>;

/**
 * Starts moto for the whole jest run and points every AWS SDK client at it through the environment,
 * which the test workers inherit. With GATEHOUSE_TEST_AWS_ENDPOINT already set (e.g. from
 * `node scripts/emulator.mjs start`, for watch mode) that endpoint is used and nothing is started.
 */
export default async function globalSetup(): Promise<void> {
  let endpoint = process.env.GATEHOUSE_TEST_AWS_ENDPOINT;
  if (!endpoint) {
    const { startMoto } = await importEsm(pathToFileURL(path.resolve(__dirname, '../../scripts/emulator.mjs')).href);
    globalThis.__gatehouseMoto = await startMoto();
    endpoint = globalThis.__gatehouseMoto.endpoint;
  }
  // Service-specific endpoints and a session token would beat or muddle the settings below.
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_ENDPOINT_URL_') || key === 'AWS_SESSION_TOKEN' || key === 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS') {
      delete process.env[key];
    }
  }
  Object.assign(process.env, {
    GATEHOUSE_TEST_AWS_ENDPOINT: endpoint,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}
