import fc from 'fast-check';
import { readCookie, singleHeader } from '../../../lambdas/authorizer/classify';
import { fromPayloadV2, isPayloadV2 } from '../../../lambdas/authorizer/payload-v2';
import { authorizerEvent } from '../../support/fixture';
import { httpApiArnPrefix, v2Event } from '../v2-event';
import { refusalOf } from './steps';

/** The payload 2.0 adapter alone: an HTTP API event as the pipeline's request, or INTERNAL_ERROR for a malformed one. */
describe('payload 2.0 detection', () => {
  it('tells an HTTP API payload 2.0 event by its version', () => {
    expect(isPayloadV2(v2Event())).toBe(true);
  });

  it.each([
    ['a REST event', authorizerEvent({})],
    ['an HTTP API payload 1.0 event', { ...authorizerEvent({}), version: '1.0' }],
    ['a version that is a number', { ...v2Event(), version: 2 }],
    ['null', null],
    ['a string', '2.0'],
  ])('does not take %s for one', (_name, event) => {
    expect(isPayloadV2(event)).toBe(false);
  });
});

describe('payload 2.0 mapping', () => {
  it('takes the route ARN as the method ARN, the method, the route template, the path, the request id', () => {
    const event = v2Event({ method: 'DELETE', path: '/v1/customers/42', route: '/v1/customers/{id}', headers: { Authorization: 'Bearer x' } });

    const r = fromPayloadV2(event);

    expect(r).toMatchObject({
      methodArn: `${httpApiArnPrefix()}/DELETE/v1/customers/42`,
      httpMethod: 'DELETE',
      resource: '/v1/customers/{id}',
      requestContext: { requestId: event.requestContext.requestId, path: '/prod/v1/customers/42' },
      headers: { authorization: 'Bearer x' },
      multiValueHeaders: null,
    });
  });

  it('takes the template of an ANY route, with the request\'s own method', () => {
    const r = fromPayloadV2(v2Event({ method: 'PATCH', routeMethod: 'ANY', path: '/v1/session', route: '/v1/session' }));

    expect({ method: r.httpMethod, resource: r.resource }).toEqual({ method: 'PATCH', resource: '/v1/session' });
  });

  it('maps the $default route to no template and the $default stage to a path without a stage', () => {
    const event = { ...v2Event({ stage: '$default' }), routeKey: '$default' };

    const r = fromPayloadV2(event);

    expect({ resource: r.resource, path: r.requestContext?.path, arn: r.methodArn }).toEqual({
      resource: '$default',
      path: '/v1/me',
      arn: `${httpApiArnPrefix('$default')}/GET/v1/me`,
    });
  });

  it('puts the cookies back as one Cookie header, which the cookie reader reads as on REST', () => {
    const r = fromPayloadV2(v2Event({ headers: { Cookie: 'theme=dark; sb-access-token=a.b.c', 'X-CSRF-Token': 't' } }));

    expect(r.headers).toEqual({ 'x-csrf-token': 't', cookie: 'theme=dark; sb-access-token=a.b.c' });
    expect(readCookie(r, 'sb-access-token')).toBe('a.b.c');
    expect(readCookie(r, 'theme')).toBe('dark');
  });

  it('refuses a cookie that appears twice (CREDENTIAL_MULTIPLE), across two Cookie headers too', async () => {
    const r = fromPayloadV2(v2Event({ headers: [['Cookie', 'sb-access-token=a.b.c'], ['Cookie', 'sb-access-token=d.e.f']] }));

    expect((await refusalOf(() => readCookie(r, 'sb-access-token'))).code).toBe('CREDENTIAL_MULTIPLE');
  });

  it('reads cookies from `cookies` only, never a second time from a Cookie header left in the map', () => {
    const event = v2Event({ headers: { Cookie: 'sb-access-token=a.b.c' } });
    const r = fromPayloadV2({ ...event, headers: { ...event.headers, Cookie: 'sb-access-token=a.b.c' } });

    expect(readCookie(r, 'sb-access-token')).toBe('a.b.c');
  });

  it('keeps a Cookie header when the event has no cookies field', () => {
    const { cookies: _, ...event } = v2Event();
    const r = fromPayloadV2({ ...event, headers: { cookie: 'sb-access-token=a.b.c' } } as never);

    expect(readCookie(r, 'sb-access-token')).toBe('a.b.c');
  });

  it('reads a repeated header as one comma-joined value, which is no valid credential', () => {
    const r = fromPayloadV2(v2Event({ headers: [['Authorization', 'Bearer a'], ['Authorization', 'Bearer b']] }));

    expect(singleHeader(r, 'Authorization')).toBe('Bearer a,Bearer b');
  });

  it('decodes the raw query into every value of every key, not the comma-joined map', () => {
    const r = fromPayloadV2(v2Event({ rawQueryString: 'a=1&a=2&b=x%2Cy&c=%E2%9C%93&d=a+b&e' }));

    expect(r.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], b: ['x,y'], c: ['✓'], d: ['a b'], e: [''] });
    expect(r.queryStringParameters).toBeNull();
    expect(fromPayloadV2(v2Event()).multiValueQueryStringParameters).toBeNull();
  });
});

describe('malformed payload 2.0 events', () => {
  const good = v2Event({ headers: { Authorization: 'Bearer secret-token-value' } });
  const cases: [string, unknown][] = [
    ['no routeArn', { ...good, routeArn: undefined }],
    ['a routeArn that is not a string', { ...good, routeArn: 42 }],
    ['an empty routeArn', { ...good, routeArn: '' }],
    ['no routeKey', { ...good, routeKey: undefined }],
    ['a route key whose method is not the request\'s', { ...good, routeKey: 'POST /v1/me' }],
    ['a route key that is neither `METHOD /path` nor $default', { ...good, routeKey: 'GET' }],
    ['no rawPath', { ...good, rawPath: undefined }],
    ['a rawPath without a leading slash', { ...good, rawPath: 'v1/me' }],
    ['a rawQueryString that is not a string', { ...good, rawQueryString: ['a=1'] }],
    ['headers that are not an object', { ...good, headers: 'authorization: Bearer x' }],
    ['headers that are an array', { ...good, headers: [['authorization', 'Bearer x']] }],
    ['headers that are null', { ...good, headers: null }],
    ['no headers', { ...good, headers: undefined }],
    ['a header value that is not a string', { ...good, headers: { authorization: ['Bearer x'] } }],
    ['cookies that are not an array', { ...good, cookies: 'a=1' }],
    ['a cookie that is not a string', { ...good, cookies: [1] }],
    ['no requestContext', { ...good, requestContext: undefined }],
    ['no requestContext.http', { ...good, requestContext: { ...good.requestContext, http: undefined } }],
    ['no method', { ...good, requestContext: { ...good.requestContext, http: { ...good.requestContext.http, method: undefined } } }],
    ['a request id that is not a string', { ...good, requestContext: { ...good.requestContext, requestId: {} } }],
    ['a type other than REQUEST', { ...good, type: 'TOKEN' }],
  ];

  it.each(cases)('refuses an event with %s as INTERNAL_ERROR, naming the field and never a value', async (_name, event) => {
    const e = await refusalOf(() => fromPayloadV2(event as never));

    expect(e.code).toBe('INTERNAL_ERROR');
    expect(e.detail?.cause).toMatch(/^payload-2\.0\.[a-zA-Z.]+$/);
    expect(JSON.stringify(e.detail)).not.toContain('secret-token-value');
  });

  it('maps any event or refuses it as INTERNAL_ERROR: nothing else, whatever a field holds', () => {
    const fields = ['type', 'routeArn', 'routeKey', 'rawPath', 'rawQueryString', 'cookies', 'headers', 'requestContext'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.oneof(fc.jsonValue(), fc.constant(undefined)), (field, value) => {
        const event = { ...good, [field]: value };
        let mapped;
        try {
          mapped = fromPayloadV2(event as never);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('INTERNAL_ERROR');
          return;
        }
        // Mapped: every field the pipeline reads has its type.
        expect(typeof mapped.methodArn).toBe('string');
        expect(typeof mapped.httpMethod).toBe('string');
        expect(typeof mapped.resource).toBe('string');
        for (const v of Object.values(mapped.headers ?? {})) expect(typeof v).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
