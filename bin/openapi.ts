#!/usr/bin/env node
/**
 * `npm run openapi -- [config.json]`: prints the OpenAPI 3.0 document of a configuration's route table (default
 * config/gatehouse.example.json): the API your callers see, with each route's credentials and scopes. The stack
 * deploys the same document with API Gateway's extensions (contract/openapi.ts); this one has none, for docs,
 * client generators and API tools.
 */
import { readFileSync } from 'node:fs';
import { openApiDocument } from '../contract/openapi';
import { parseStackConfig } from '../contract/stack-config';
import { ConfigError } from '../contract/config-error';

const file = process.argv[2] ?? 'config/gatehouse.example.json';
try {
  const config = parseStackConfig(JSON.parse(readFileSync(file, 'utf8')), file);
  const document = openApiDocument(config.authorizer.routes, {
    title: 'Gatehouse API',
    ...(config.authorizer.membership ? { tenantHeader: config.authorizer.membership.header } : {}),
  });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`openapi: ${err instanceof ConfigError || err instanceof SyntaxError ? e.message : `cannot read ${file} (${e.code ?? e.name})`}\n`);
  process.exitCode = 2;
}
