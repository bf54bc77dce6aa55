import { App, CfnOutput } from 'aws-cdk-lib';
import path from 'node:path';
import { GatehouseStack, type StackConfigInput } from 'gatehouse';

/**
 * An app of its own with Gatehouse installed from npm: the stack from a configuration written in code (typed as the
 * JSON file's shape; `configFile: 'gatehouse.json'` reads a file instead), and the team's handler next to it, routed
 * by the configuration (`handlers.orders.entry`, relative to `baseDir`).
 */
const config: StackConfigInput = {
  environment: 'live',
  issuers: [{ type: 'workos', clientId: 'client_01HEXAMPLE' }],
  routes: [
    { method: 'GET', path: '/health', public: true, handler: 'health' },
    { method: 'GET', path: '/v1/me', accepts: ['user'], handler: 'me' },
    { method: 'GET', path: '/v1/orders/{id}', accepts: ['user'], scopes: ['orders:read'], handler: 'orders' },
  ],
  handlers: { orders: { entry: 'handlers/orders.ts', description: 'Example: the orders of the caller tenant' } },
  deployment: { stageName: 'prod', deletionProtection: false },
};

const app = new App();
const stack = new GatehouseStack(app, 'ExampleGatehouse', {
  config,
  baseDir: path.join(__dirname, '..'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// The team's handler is built like Gatehouse's own (arm64, bundled by esbuild from this app's node_modules, its own
// role and log group, no table access); grants beyond that are the app's, in code. The stack's pieces are readonly
// properties: the table, the API, the authorizer, the handlers, alarms, dashboard.
const orders = stack.handlerFunction('orders');
stack.table.table.grantReadData(orders);
new CfnOutput(stack, 'OrdersFunctionName', { value: orders.functionName });
new CfnOutput(stack, 'DashboardName', { value: stack.dashboard.dashboard.dashboardName });

app.synth();
