import { App, CfnOutput } from 'aws-cdk-lib';
import path from 'node:path';
import { GatehouseFunction, GatehouseStack, type StackConfigInput } from 'gatehouse';

/**
 * An app of its own with Gatehouse installed from npm: the stack from a configuration written in code (typed as the
 * JSON file's shape; `configFile: 'gatehouse.json'` reads a file instead), and the team's handler next to it.
 */
const config: StackConfigInput = {
  environment: 'live',
  issuers: [{ type: 'workos', clientId: 'client_01HEXAMPLE' }],
  routes: [
    { method: 'GET', path: '/health', public: true, handler: 'health' },
    { method: 'GET', path: '/v1/me', accepts: ['user'], handler: 'me' },
  ],
  deployment: { stageName: 'prod', deletionProtection: false },
};

const app = new App();
const stack = new GatehouseStack(app, 'ExampleGatehouse', {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// The team's handler, built like Gatehouse's own (arm64, bundled by esbuild from this app's node_modules, its own
// role and log group). The entry is an absolute path in this app.
const orders = new GatehouseFunction(stack, 'Orders', {
  entry: path.join(__dirname, '..', 'handlers', 'orders.ts'),
  description: 'Example: the orders of the caller tenant',
  environment: { TABLE_NAME: stack.table.table.tableName },
});

// The stack's pieces are readonly properties: the table, the API, the authorizer, the handlers, alarms, dashboard.
stack.table.table.grantReadData(orders.function);
new CfnOutput(stack, 'OrdersFunctionName', { value: orders.function.functionName });
new CfnOutput(stack, 'DashboardName', { value: stack.dashboard.dashboard.dashboardName });

app.synth();
