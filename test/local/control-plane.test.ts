import { APIGatewayClient, FlushStageAuthorizersCacheCommand, GetRestApisCommand } from '@aws-sdk/client-api-gateway';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type AuthorizerConfigInput, parseConfig } from '../../contract/config';
import { flushStageAuthorizersCache } from '../../control/authorizer-cache';
import { type LambdaHandler, type LocalGateway, createLocalGateway } from '../../local/gateway';
import { type Fixture, createFixture } from '../support/fixture';

/**
 * The local gateway's control plane: API Gateway's `FlushStageAuthorizersCache`, called with the AWS SDK exactly as
 * against AWS (only `endpoint` differs), empties the local gateway's authorizer result cache.
 */
const ROUTES: AuthorizerConfigInput['routes'] = [{ method: 'GET', path: '/v1/me', accepts: ['user', 'apiKey'], handler: 'echo' }];
const echo: LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult> = async (event) => ({
  statusCode: 200,
  body: JSON.stringify(event.requestContext.authorizer ?? {}),
});

let fx: Fixture;
let gateway: LocalGateway;
let base: string;
let client: APIGatewayClient;
beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
  // The authorizer's own API-key cache is off, so only API Gateway's result cache stands between a revocation and
  // the next request.
  const config = { ...fx.config, routes: ROUTES, apiKeys: { prefix: 'gh', cacheTtlSeconds: 0 } };
  const authorize = fx.authorizer(config);
  gateway = createLocalGateway({
    routes: parseConfig(config).routes,
    authorizer: (event) => authorize(event),
    handlers: { echo },
    resultTtlSeconds: 300,
    stageName: 'prod',
    restApiId: 'a1b2c3d4e5',
  });
  base = await gateway.listen();
  client = new APIGatewayClient({ endpoint: gateway.controlPlaneUrl!, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await gateway?.close();
  await fx?.close();
});

const me = async (key: string) => (await fetch(`${base}/v1/me`, { headers: { Authorization: `Bearer ${key}` } })).status;

describe('local control plane', () => {
  it("listens on its own loopback port, next to the gateway's", () => {
    expect(gateway.controlPlaneUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.controlPlaneUrl).not.toBe(base);
    expect([gateway.restApiId, gateway.stageName]).toEqual(['a1b2c3d4e5', 'prod']);
  });

  it('ends a revoked key at once: cached Allow, revoke, still allowed (cached), flush, refused', async () => {
    const { key, record } = await fx.putApiKey({ tenantId: 'acme' });

    expect(await me(key)).toBe(200);
    await fx.putApiKey({ ...record, status: 'revoked' }, key);
    const calls = gateway.authorizerCalls();
    expect(await me(key)).toBe(200);
    expect(gateway.authorizerCalls()).toBe(calls);

    await flushStageAuthorizersCache(client, 'a1b2c3d4e5', 'prod');

    expect(await me(key)).toBe(401);
    expect(gateway.authorizerCalls()).toBe(calls + 1);
  });

  it("answers the SDK's own command with 202, and an unknown API or stage with NotFoundException, flushing nothing", async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    await me(key);
    const calls = gateway.authorizerCalls();

    for (const [restApiId, stageName] of [
      ['other-api', 'prod'],
      ['a1b2c3d4e5', 'dev'],
    ]) {
      await expect(client.send(new FlushStageAuthorizersCacheCommand({ restApiId, stageName }))).rejects.toMatchObject({
        name: 'NotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    }
    await expect(client.send(new GetRestApisCommand({}))).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(await me(key)).toBe(200);
    expect(gateway.authorizerCalls()).toBe(calls);

    const out = await client.send(new FlushStageAuthorizersCacheCommand({ restApiId: 'a1b2c3d4e5', stageName: 'prod' }));
    expect(out.$metadata.httpStatusCode).toBe(202);
    expect(await me(key)).toBe(200);
    expect(gateway.authorizerCalls()).toBe(calls + 1);
  });

  it('stops with the gateway', async () => {
    const other = createLocalGateway({ routes: parseConfig({ ...fx.config, routes: ROUTES }).routes, authorizer: async () => ({}) as never, handlers: { echo }, resultTtlSeconds: 0 });
    await other.listen();
    const url = other.controlPlaneUrl!;
    expect((await fetch(`${url}/restapis/local/stages/local/cache/authorizers`, { method: 'DELETE' })).status).toBe(202);

    await other.close();

    await expect(fetch(`${url}/restapis/local/stages/local/cache/authorizers`, { method: 'DELETE' })).rejects.toThrow();
  });
});
