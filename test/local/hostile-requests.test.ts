import { request as httpRequest } from 'node:http';
import type { LogFields, Logger } from '../../contract/log';
import { createLocalGateway } from '../../local/gateway';
import { localHandlers } from '../../local/handlers';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { bearer, call, exampleConfig, quietLogger } from '../support/local';

/**
 * Issue 18's findings on the local gateway, over HTTP against local mode: requests a hostile or careless client
 * sends (names of Object.prototype members, broken percent-encoding, bodies that are large or never end) get the
 * answer API Gateway gives, never a 500; and every 500 the gateway does give carries a request id and a log line.
 */
const gatewayLines: { message: string; fields?: LogFields }[] = [];
const capture: Logger = { info: () => undefined, warn: () => undefined, error: (message, fields) => void gatewayLines.push({ message, ...(fields ? { fields } : {}) }) };

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

/**
 * Where the kinds of API differ: the authorizer's own refusals (401 on REST, a Deny behind an HTTP API) and the
 * gateway's bodies (the stack's gateway responses, or the HTTP API's `{"message":"..."}`).
 */
const KINDS = {
  rest: {
    refused: 401,
    refusedBody: { error: 'unauthorized' },
    unauthorized: { error: 'unauthorized', requestId: expect.any(String) },
    tooLarge: { error: 'REQUEST_TOO_LARGE', requestId: expect.any(String) },
  },
  http: { refused: 403, refusedBody: { message: 'Forbidden' }, unauthorized: { message: 'Unauthorized' }, tooLarge: { message: 'Request Entity Too Large' } },
} as const;

describe.each(['rest', 'http'] as const)('%s API', (api) => {
  const kind = KINDS[api];
  let env: LocalEnvironment;
  let base: string;
  beforeAll(async () => {
    env = await provisionLocal({ stackConfig: exampleConfig(), port: 0, logger: quietLogger, gatewayLogger: capture, api });
    base = env.credentials.baseUrl;
  });
  afterAll(() => env.close());

  describe('names of Object.prototype members are names like any other', () => {
    // Computed keys: a literal `__proto__:` key would set the object's prototype instead of adding a header.
    const named = (name: string, extra: Record<string, string> = {}) => ({ [name]: 'x', ...extra });

    it.each(PROTOTYPE_NAMES)('a header named %s: 401 without a credential, 200 with one', async (name) => {
      expect((await call(base, 'GET', '/v1/me', named(name))).status).toBe(401);
      expect((await call(base, 'GET', '/v1/me', named(name, bearer(env.credentials.apiKeyRead)))).status).toBe(200);
    });

    it.each(PROTOTYPE_NAMES)('a query parameter named %s: 401 without a credential, 200 with one', async (name) => {
      expect((await call(base, 'GET', `/v1/me?${name}=1&${name}=2`)).status).toBe(401);
      expect((await call(base, 'GET', `/v1/me?${name}=1`, bearer(env.credentials.apiKeyRead))).status).toBe(200);
    });

    it.each(PROTOTYPE_NAMES)('a header named %s on a cookie route (the uncached authorizer): refused without a cookie, 200 with it', async (name) => {
      const cookie = { Cookie: `${env.credentials.tokenCookie}=${env.credentials.userTokenHs256}` };
      expect((await call(base, 'GET', `/v1/session?${name}=1`, named(name))).status).toBe(kind.refused);
      expect((await call(base, 'GET', `/v1/session?${name}=1`, named(name, cookie))).status).toBe(200);
    });
  });

  describe('a path parameter that is not valid percent-encoding', () => {
    it('is authorized like any request and reaches the handler as sent (which refuses the id: 400), never a 500', async () => {
      expect((await call(base, 'GET', '/v1/customers/%E0%A4%A')).status).toBe(kind.refused);
      expect((await call(base, 'GET', '/v1/customers/%E0%A4%A', bearer(env.credentials.apiKeyRead))).status).toBe(400);
      expect((await call(base, 'GET', '/v1/customers/%', bearer(env.credentials.apiKeyRead))).status).toBe(400);
    });
  });

  /**
   * Sends headers and, optionally, part of a body without ending it; resolves with the answer as soon as it arrives
   * (then drops the connection). An answer to a request whose body is still open shows the body was not waited for.
   */
  function partialRequest(method: string, p: string, headers: Record<string, string | number>, chunk?: Buffer): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}${p}`, { method, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString('utf8')) });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
      if (chunk) req.write(chunk);
    });
  }

  describe('bodies: credentials are checked before the body is read', () => {
    const chunked = { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' };

    it('refuses an anonymous request on a route with identity sources while its body is still being sent', async () => {
      const res = await partialRequest('POST', '/internal/jobs', chunked, Buffer.alloc(64 * 1024, 0x20));
      expect(res).toMatchObject({ status: 401, body: kind.unauthorized });
    });

    it('refuses an anonymous request on an uncached route (cookie and bearer, no identity sources) while its body is still being sent', async () => {
      const res = await partialRequest('POST', '/v1/customers', chunked, Buffer.alloc(64 * 1024, 0x20));
      expect(res).toMatchObject({ status: kind.refused, body: kind.refusedBody });
    });

    it('answers 413 REQUEST_TOO_LARGE at once to a declared length over 10 MB, before reading any of it', async () => {
      const res = await partialRequest('POST', '/v1/customers', { 'Content-Type': 'application/json', 'Content-Length': 10 * 1024 * 1024 + 1 });
      expect(res).toMatchObject({ status: 413, body: kind.tooLarge });
    });

    it('answers 413 REQUEST_TOO_LARGE to an authorized chunked body once it passes 10 MB', async () => {
      const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
      const res = await partialRequest('POST', '/v1/customers', { ...chunked, ...bearer(env.credentials.apiKeyWrite) }, big);
      expect(res).toMatchObject({ status: 413, body: kind.tooLarge });
    });

    it('still reads and passes the body of an authorized request', async () => {
      const res = await call(base, 'POST', '/v1/customers', bearer(env.credentials.apiKeyWrite), { name: 'Ada Lovelace' });
      expect(res).toMatchObject({ status: 201, body: { name: 'Ada Lovelace' } });
    });
  });
});

describe('every 500 carries the request id and writes one log line with a reason', () => {
  const allow = { principalId: 'p', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['*'] }] } };

  it.each([
    ['the authorizer throws', 'authorizer_error', { authorizer: async () => Promise.reject(new Error('boom')) }, '/v1/me'],
    ['the gateway itself fails (a static route throws)', 'gateway_error', { authorizer: async () => allow, staticRoutes: { '/boom': () => { throw new TypeError('broken'); } } }, '/boom'],
  ] as const)('%s', async (_what, reason, faults, p) => {
    const lines: { message: string; fields?: LogFields }[] = [];
    const gateway = createLocalGateway({
      routes: exampleConfig().routes as never,
      handlers: localHandlers({ dynamodb: {} as never, tableName: 'unused', apiKeyPrefix: 'gh', environment: 'test' }),
      resultTtlSeconds: 0,
      logger: { ...quietLogger, error: (message: string, fields?: LogFields) => void lines.push({ message, ...(fields ? { fields } : {}) }) },
      ...(faults as object),
    } as never);
    const url = await gateway.listen();
    try {
      const res = await call(url, 'GET', p, bearer('a.b.c'));
      const requestId = res.headers.get('x-amzn-requestid');
      expect(res).toMatchObject({ status: 500, body: { error: 'internal_error', requestId } });
      expect(lines).toEqual([{ message: 'gateway 5xx', fields: expect.objectContaining({ requestId, status: 500, reason: expect.stringContaining(reason) }) }]);
    } finally {
      await gateway.close();
    }
  });

  it('logged none for the 4xx answers of this file', () => {
    expect(gatewayLines).toEqual([]);
  });
});
