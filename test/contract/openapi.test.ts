import { APIGatewayClient, DeleteRestApiCommand, GetResourcesCommand, ImportRestApiCommand, type Resource } from '@aws-sdk/client-api-gateway';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig, usagePlanKeyed } from '../../contract/stack-config';
import { type OpenApiDocument, openApiDocument, pathParameters } from '../../contract/openapi';
import { gatewayResponsesExtension } from '../../lib/gateway-responses';

/**
 * The OpenAPI document of a route table, imported through API Gateway's wire API (ImportRestApi, on the emulator)
 * with failOnWarnings, which validates it against the OpenAPI 3.0 specification first: the plain document a
 * team hands its callers, and the one with API Gateway's extensions the stack deploys. Every route must come out
 * as a resource and method. (The emulator checks the OpenAPI schema and builds resources and methods; it does not
 * interpret API Gateway's authorizer extensions: the template tests in test/lib check what those say.)
 */
const ROOT = path.resolve(__dirname, '../..');
const example = parseStackConfig(JSON.parse(readFileSync(path.join(ROOT, 'config/gatehouse.example.json'), 'utf8')));
const routes = example.authorizer.routes;
const client = new APIGatewayClient({ maxAttempts: 2 });
afterAll(() => client.destroy());

const plain = openApiDocument(routes, { title: 'plain' });
const withAws = openApiDocument(routes, {
  title: 'aws',
  keyed: (r) => usagePlanKeyed(example.authorizer, r),
  aws: {
    integrationUri: (h) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${h}/invocations`,
    authorizerUri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:authorizer/invocations',
    resultTtlSeconds: 300,
    gatewayResponses: gatewayResponsesExtension(),
  },
});

/** Imports `doc` and answers the methods API Gateway built, as `METHOD /path`. */
async function imported(doc: OpenApiDocument): Promise<string[]> {
  const api = await client.send(new ImportRestApiCommand({ body: new TextEncoder().encode(JSON.stringify(doc)), failOnWarnings: true }));
  try {
    const { items = [] } = await client.send(new GetResourcesCommand({ restApiId: api.id!, limit: 500 }));
    return items.flatMap((r: Resource) => Object.keys(r.resourceMethods ?? {}).map((m) => `${m} ${r.path}`)).sort();
  } finally {
    await client.send(new DeleteRestApiCommand({ restApiId: api.id! }));
  }
}

describe('openApiDocument', () => {
  const expected = routes.map((r) => `${r.method} ${r.path}`).sort();

  it('is a valid OpenAPI 3.0 document that API Gateway imports route for route (plain)', async () => {
    expect(await imported(plain)).toEqual(expected);
  });

  it('is a valid OpenAPI 3.0 document that API Gateway imports route for route (with its extensions)', async () => {
    expect(await imported(withAws)).toEqual(expected);
  });

  it('would be refused if it were not valid OpenAPI (the check above can fail)', async () => {
    const broken = { ...plain, paths: { '/x': { get: { responses: 'none' } } } } as unknown as OpenApiDocument;
    await expect(imported(broken)).rejects.toThrow();
  });

  it('names no authorizer and no API Gateway extension in the plain document', () => {
    expect(JSON.stringify(plain)).not.toContain('x-amazon-apigateway');
    expect(JSON.stringify(plain)).not.toContain('api_key');
  });

  it('says in each operation which credentials and scopes it takes', () => {
    expect(plain.paths['/v1/customers']!.get!.summary).toBe('Accepts: user, apiKey; scopes: customers:read');
    expect(plain.paths['/health']!.get!.summary).toBe('Public');
    expect(plain.paths['/internal/jobs']!.post!.security).toEqual([{ ServiceAuthorizer: [] }]);
  });

  it('spells ANY as API Gateway does, and a greedy path parameter by its name', () => {
    const any = openApiDocument([{ ...routes[1]!, method: 'ANY', path: '/v1/files/{proxy+}' }], { title: 't' });
    expect(Object.keys(any.paths['/v1/files/{proxy+}']!)).toEqual(['x-amazon-apigateway-any-method']);
    expect(pathParameters('/v1/{org}/files/{proxy+}')).toEqual(['org', 'proxy']);
  });
});
