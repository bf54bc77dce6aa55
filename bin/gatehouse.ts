#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../contract/stack-config';
import { GatehouseStack } from '../lib/gatehouse-stack';
import { ConfigError } from '../contract/config-error';
import { DEFAULT_STACK_NAME } from '../contract/stack-outputs';

/**
 * The CDK app. The configuration comes from the `gatehouse:config` context: a path to a JSON file (cdk.json points
 * at config/gatehouse.example.json; override with `-c gatehouse:config=path`) or the document itself.
 */
const app = new App();
const source: unknown = app.node.tryGetContext('gatehouse:config') ?? 'config/gatehouse.example.json';
try {
  const [doc, origin] = typeof source === 'string' ? [JSON.parse(readFileSync(source, 'utf8')), source] : [source, 'context gatehouse:config'];
  // Handler entries are relative to the configuration file (to the working folder for a document given inline).
  const config = parseStackConfig(doc, origin, typeof source === 'string' ? path.dirname(path.resolve(source)) : process.cwd());
  new GatehouseStack(app, app.node.tryGetContext('gatehouse:stackName') ?? DEFAULT_STACK_NAME, {
    config,
    description: `Gatehouse: API Gateway (${config.deployment.api === 'http' ? 'HTTP API' : 'REST'}) with a Lambda authorizer for JWTs, API keys and service secrets`,
  });
} catch (err) {
  if (err instanceof ConfigError || err instanceof SyntaxError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
