import { Socket, createServer } from 'node:net';
import type { LogFields, Logger } from '../../contract/log';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { bearer, call, exampleConfig, quietLogger } from '../support/local';

/**
 * Issue 18: local mode through an emulator outage, over HTTP. A TCP proxy stands between local mode and the
 * emulator and can stall: it keeps accepting connections and sends nothing more, the way a hung dependency looks.
 * Cached decisions keep being served, as on API Gateway, and every other request answers within the deployed
 * functions' timeouts instead of hanging.
 */
interface StallableProxy {
  readonly url: string;
  stall(): void;
  close(): Promise<void>;
}

async function stallableProxy(target: URL): Promise<StallableProxy> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    return s;
  };
  const server = createServer((client) => {
    track(client);
    if (stalled) return; // accepted, never answered
    const upstream = track(new Socket());
    upstream.connect(Number(target.port), target.hostname);
    client.on('data', (d) => void (stalled || upstream.write(d)));
    upstream.on('data', (d) => void (stalled || client.write(d)));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stall: () => void (stalled = true),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let proxy: StallableProxy;
let env: LocalEnvironment;
let base: string;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
const lines: { message: string; fields?: LogFields }[] = [];
const capture: Logger = { ...quietLogger, error: (message: string, fields?: LogFields) => void lines.push({ message, ...(fields ? { fields } : {}) }) };

beforeAll(async () => {
  proxy = await stallableProxy(new URL(savedEndpoint!));
  // Every client local mode builds reads the emulator's address from the standard SDK environment.
  process.env.AWS_ENDPOINT_URL = proxy.url;
  env = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger, gatewayLogger: capture });
  base = env.credentials.baseUrl;
});
afterAll(async () => {
  await env?.close();
  await proxy?.close();
  process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

const timed = async (p: string, headers: Record<string, string>) => {
  const start = Date.now();
  const res = await call(base, 'GET', p, headers);
  return { ...res, ms: Date.now() - start };
};

describe('an emulator that stops answering', () => {
  it('keeps serving cached decisions (usage plan included), and answers new ones within the deployed bounds', async () => {
    const { apiKeyRead, apiKeyWrite } = env.credentials;
    expect((await call(base, 'GET', '/v1/me', bearer(apiKeyRead))).status).toBe(200);
    // Past the usage-plan lookup's 2 s freshness: the stalled emulator would now be asked again.
    await new Promise((r) => setTimeout(r, 2_200));
    proxy.stall();

    // A cached decision: no authorizer call, the usage plan from memory; the /v1/me handler's rate limiter gives
    // up on its table after about 1 s and lets the request through (onLimiterError: open, the default).
    for (let i = 0; i < 2; i++) {
      const cached = await timed('/v1/me', bearer(apiKeyRead));
      expect({ status: cached.status, fast: cached.ms < 3_000 }).toEqual({ status: 200, fast: true });
    }

    // A decision not cached: the authorizer's key read gives up after its 2 attempts of 1 s, and the answer is a
    // 500 with its request id and a log line, not a hung connection.
    const fresh = await timed('/v1/me', bearer(apiKeyWrite));
    expect(fresh.ms).toBeLessThan(6_000);
    expect(fresh).toMatchObject({ status: 500, body: { error: 'internal_error', requestId: fresh.headers.get('x-amzn-requestid') } });
    expect(lines).toContainEqual({ message: 'gateway 5xx', fields: expect.objectContaining({ requestId: fresh.body.requestId, reason: 'authorizer_error' }) });
  }, 30_000);
});
