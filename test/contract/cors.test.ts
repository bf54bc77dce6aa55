import { ConfigError } from '../../contract/config-error';
import {
  CORS_EXPOSED_HEADERS,
  CORS_REQUEST_HEADERS,
  allowedOrigin,
  corsPolicy,
  corsPolicyFromJson,
  corsProblems,
  corsResponseHeaders,
  corsSchema,
  preflightHeaders,
  preflightMethods,
} from '../../contract/cors';
import { preflightTemplate } from '../../contract/openapi-cors';

const APP = 'http://localhost:5173';
const section = (raw: unknown) => corsSchema.parse(raw);

describe('cors section', () => {
  it('takes exact origins or "*", never a path or a trailing slash, and fills the defaults', () => {
    expect(section({ allowOrigins: [APP] })).toEqual({ allowOrigins: [APP], allowCredentials: false, allowHeaders: [], exposeHeaders: [], maxAgeSeconds: 600 });
    for (const bad of ['http://localhost:5173/', 'https://app.example.com/app', 'localhost:5173', 'ftp://x.example', '']) {
      expect(corsSchema.safeParse({ allowOrigins: [bad] }).success).toBe(false);
    }
    expect(corsSchema.safeParse({ allowOrigins: [] }).success).toBe(false);
  });

  it('refuses credentials with "*", "*" in a list, and an origin twice', () => {
    expect(corsProblems(section({ allowOrigins: ['*'], allowCredentials: true }))).toEqual(['cors.allowCredentials: credentials need a list of exact origins, never "*"']);
    expect(corsProblems(section({ allowOrigins: ['*', APP] }))).toEqual(['cors.allowOrigins: "*" stands alone (any origin), not in a list']);
    expect(corsProblems(section({ allowOrigins: [APP, APP] }))).toEqual(['cors.allowOrigins: each origin once']);
    expect(corsProblems(section({ allowOrigins: [APP], allowCredentials: true }))).toEqual([]);
  });
});

describe('corsPolicy', () => {
  it("allows Gatehouse's request headers, the deployment's extra ones and the configured ones, each once whatever its case", () => {
    const policy = corsPolicy(section({ allowOrigins: [APP], allowHeaders: ['x-csrf-token', 'X-Request-Id'], exposeHeaders: ['X-Trace', 'retry-after'] }), ['X-CSRF-Token', 'X-Tenant-Id']);
    expect(policy.allowHeaders).toEqual([...CORS_REQUEST_HEADERS, 'X-CSRF-Token', 'X-Tenant-Id', 'X-Request-Id']);
    expect(policy.exposeHeaders).toEqual([...CORS_EXPOSED_HEADERS, 'X-Trace']);
    expect(policy.origins).toEqual([APP]);
    expect(corsPolicy(section({ allowOrigins: ['*'] })).origins).toBe('*');
  });
});

describe('the headers of an answer', () => {
  const policy = corsPolicy(section({ allowOrigins: [APP, 'https://app.example.com'], allowCredentials: true, maxAgeSeconds: 60 }));

  it('match origins exactly: scheme, host and port, with case', () => {
    expect(allowedOrigin(policy, APP)).toBe(APP);
    for (const other of ['https://localhost:5173', 'http://localhost:5174', 'http://LOCALHOST:5173', 'http://localhost', undefined, 'null']) {
      expect(allowedOrigin(policy, other)).toBeUndefined();
    }
    expect(allowedOrigin(corsPolicy(section({ allowOrigins: ['*'] })), undefined)).toBe('*');
  });

  it('give an allowed origin its headers, another only Vary: Origin', () => {
    expect(corsResponseHeaders(policy, APP)).toEqual({
      'Access-Control-Allow-Origin': APP,
      Vary: 'Origin',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS.join(', '),
    });
    expect(corsResponseHeaders(policy, 'https://evil.example')).toEqual({ Vary: 'Origin' });
  });

  it('answer a preflight with methods, headers and max age for an allowed origin only', () => {
    expect(preflightHeaders(policy, APP, ['GET', 'OPTIONS'])).toEqual({
      'Access-Control-Allow-Origin': APP,
      Vary: 'Origin',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET, OPTIONS',
      'Access-Control-Allow-Headers': policy.allowHeaders.join(', '),
      'Access-Control-Max-Age': '60',
    });
    expect(preflightHeaders(policy, 'https://evil.example', ['GET'])).toEqual({ Vary: 'Origin' });
  });

  it("allow a path's preflight the methods of its routes, every method for ANY", () => {
    const routes = [
      { method: 'GET', path: '/v1/things' },
      { method: 'POST', path: '/v1/things' },
      { method: 'DELETE', path: '/v1/things/{id}' },
      { method: 'ANY', path: '/v1/proxy/{proxy+}' },
    ];
    expect(preflightMethods(routes, '/v1/things')).toEqual(['GET', 'POST', 'OPTIONS']);
    expect(preflightMethods(routes, '/v1/things/{id}')).toEqual(['DELETE', 'OPTIONS']);
    expect(preflightMethods(routes, '/v1/proxy/{proxy+}')).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  });
});

describe('corsPolicyFromJson (the bundled gatehouse-cors.json)', () => {
  it('reads back what the stack writes', () => {
    const policy = corsPolicy(section({ allowOrigins: [APP], allowCredentials: true }), ['X-CSRF-Token']);
    expect(corsPolicyFromJson(JSON.stringify(policy), 'gatehouse-cors.json')).toEqual(policy);
  });

  it('refuses text that is not a policy, naming the file and the fields, never quoting the text', () => {
    expect(() => corsPolicyFromJson('{"origins": "secret-ish', 'gatehouse-cors.json')).toThrow(new ConfigError('gatehouse-cors.json: not valid JSON'));
    expect(() => corsPolicyFromJson('{"origins": [], "credentials": "yes"}', 'gatehouse-cors.json')).toThrow(/^gatehouse-cors\.json: not a CORS policy \(origins, credentials, allowHeaders/);
  });
});

describe('preflightTemplate (the deployed preflight\'s VTL)', () => {
  it('sets the headers inside one #if over the exact origins, on one line (an empty 204 body)', () => {
    const policy = corsPolicy(section({ allowOrigins: [APP, 'https://app.example.com'], allowCredentials: true }));
    const vtl = preflightTemplate(['GET', 'OPTIONS'], policy);
    expect(vtl).not.toContain('\n');
    expect(vtl).toContain(`#if($o=='${APP}'||$o=='https://app.example.com')`);
    expect(vtl).toContain('#set($context.responseOverride.header.Access-Control-Allow-Origin=$o)');
    expect(vtl).toContain("#set($context.responseOverride.header.Access-Control-Allow-Credentials='true')");
    expect(vtl).toContain("#set($context.responseOverride.header.Access-Control-Allow-Methods='GET, OPTIONS')");
    // Each header is overridden once: API Gateway answers 5xx to a second override of the same header.
    for (const h of ['Allow-Origin', 'Allow-Credentials', 'Allow-Methods', 'Allow-Headers', 'Max-Age']) {
      expect(vtl.split(`responseOverride.header.Access-Control-${h}=`).length - 1).toBe(1);
    }
  });

  it('refuses a value that could break out of its quotes', () => {
    const policy = { ...corsPolicy(section({ allowOrigins: [APP] })), allowHeaders: ["X-Evil')#set($x = 1)"] };
    expect(() => preflightTemplate(['GET'], policy)).toThrow(/cannot be placed in the preflight's mapping template/);
  });
});
