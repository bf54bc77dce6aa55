import { corsPolicy } from '../../contract/cors';
import { httpApiCors, httpApiIntegrationCount, httpAuthorizer, httpBackendRequestParameters } from '../../contract/openapi-http';
import { PUBLIC_CONTEXT } from '../../contract/backend-headers';

/** The HTTP API's extensions as contract/openapi-http.ts writes them (the whole document: test/lib/http-api-stack.test.ts). */
const aws = { authorizerUri: 'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/fn/invocations', resultTtlSeconds: 120 };

describe('httpAuthorizer', () => {
  it('caches only an authorizer that has an identity source and is cacheable, with IAM policy answers always', () => {
    expect(httpAuthorizer({ name: 'user', headers: ['Authorization'], cached: true }, aws)).toEqual({
      type: 'request',
      authorizerUri: aws.authorizerUri,
      authorizerPayloadFormatVersion: '2.0',
      enableSimpleResponses: false,
      identitySource: '$request.header.Authorization',
      authorizerResultTtlInSeconds: 120,
    });
    // API Gateway caches nothing without an identity source, even where the route's answers could be cached.
    expect(httpAuthorizer({ name: 'request', headers: [], cached: true }, aws).authorizerResultTtlInSeconds).toBe(0);
    expect(httpAuthorizer({ name: 'signed', headers: ['Authorization'], cached: false }, aws).authorizerResultTtlInSeconds).toBe(0);
  });
});

describe('httpApiCors', () => {
  const policy = corsPolicy({ allowOrigins: ['*'], allowCredentials: false, allowHeaders: ['X-Trace'], exposeHeaders: [], maxAgeSeconds: 60 });

  it('allows the methods of the whole route table, with OPTIONS, once each', () => {
    expect(httpApiCors(policy, [{ method: 'GET' }, { method: 'POST' }, { method: 'GET' }]).allowMethods).toEqual(['GET', 'POST', 'OPTIONS']);
  });

  it('allows every method when a route takes ANY, and any origin for "*"', () => {
    const cors = httpApiCors(policy, [{ method: 'ANY' }]);
    expect(cors).toMatchObject({ allowMethods: ['*'], allowOrigins: ['*'], allowCredentials: false, maxAge: 60 });
    expect(cors.allowHeaders).toContain('X-Trace');
  });
});

describe('httpApiIntegrationCount', () => {
  it('counts one integration per handler and one per backend route', () => {
    const routes = [{ handler: 'me' }, { handler: 'me' }, { handler: 'orders' }, { backend: 'inventory' }, { backend: 'inventory' }];
    expect(httpApiIntegrationCount(routes)).toBe(4);
  });
});

describe('httpBackendRequestParameters', () => {
  it('overwrites the context header from the authorizer, or with the public context on a public route', () => {
    expect(httpBackendRequestParameters({ public: false })['overwrite:header.X-Gatehouse-Context']).toBe('$context.authorizer.gatehouseContext');
    expect(httpBackendRequestParameters({ public: true })).toEqual({
      'overwrite:header.X-Gatehouse-Context': PUBLIC_CONTEXT,
      'overwrite:header.X-Gatehouse-Request-Id': '$context.requestId',
    });
  });
});
