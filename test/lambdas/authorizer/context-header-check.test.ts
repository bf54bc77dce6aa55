import { checkNoContextHeaders } from '../../../lambdas/authorizer/context-header-check';
import { reasonOf } from './steps';

/** The first step of every decision: a client's own X-Gatehouse-* header is refused, by name, in any case. */
describe('client X-Gatehouse-* headers', () => {
  it.each([
    ['X-Gatehouse-Context', { headers: { 'X-Gatehouse-Context': 'eyJraW5kIjoidXNlciJ9' } }],
    ['a per-field name of old', { headers: { 'X-Gatehouse-Roles': 'admin' } }],
    ['lower case', { headers: { 'x-gatehouse-scopes': 'orders:write' } }],
    ['upper case, empty value', { headers: { 'X-GATEHOUSE-ANYTHING': '' } }],
    ['the bare prefix', { headers: { 'x-gatehouse-': 'x' } }],
    ['multiValueHeaders only', { headers: {}, multiValueHeaders: { 'x-gatehouse-tenant-id': ['globex'] } }],
    ['headers only, multiValueHeaders null', { headers: { 'X-Gatehouse-Request-Id': 'r' }, multiValueHeaders: null }],
  ])('refuses %s (CONTEXT_HEADER_FROM_CLIENT)', async (_name, req) => {
    expect(await reasonOf(() => checkNoContextHeaders(req))).toBe('CONTEXT_HEADER_FROM_CLIENT');
  });

  it('lets every other header through, and requests without headers', () => {
    const headers = { Authorization: 'Bearer x', 'X-Gatehouse': 'x', 'Gatehouse-Context': 'x', 'X-Gatehousex': 'x', 'X-Tenant-Id': 'acme', 'X-Forwarded-For': '1.2.3.4' };
    expect(() => checkNoContextHeaders({ headers, multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) })).not.toThrow();
    expect(() => checkNoContextHeaders({})).not.toThrow();
    expect(() => checkNoContextHeaders({ headers: null, multiValueHeaders: null })).not.toThrow();
  });

  it('logs the header name, never its value', async () => {
    let detail: unknown;
    try {
      checkNoContextHeaders({ headers: { 'X-Gatehouse-Context': 'secret-looking-value' } });
    } catch (err) {
      detail = (err as { detail?: unknown }).detail;
    }
    expect(detail).toEqual({ header: 'X-Gatehouse-Context' });
  });
});
