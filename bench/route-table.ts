/**
 * Route tables of a given size, shaped as a REST API of resource areas has them: list, create, read, update and
 * delete per area, a scope per area and verb, users and API keys; every tenth area's writes also take the session
 * cookie. Used by `npm run size:stack` and by the template test of a real-size API (test/lib/api-at-scale.test.ts).
 */
export type RouteDoc = Record<string, unknown>;

/** The `base` routes followed by generated ones, `count` in all. */
export function routeTable(base: readonly RouteDoc[], count: number): RouteDoc[] {
  const routes: RouteDoc[] = base.slice(0, count);
  for (let area = 0; routes.length < count; area++) {
    const path = `/v1/area${area}`;
    const read = { accepts: ['user', 'apiKey'], scopes: [`area${area}:read`], handler: 'customers' };
    const write = { accepts: ['user', 'apiKey'], scopes: [`area${area}:write`], handler: 'customers', ...(area % 10 === 0 ? { cookie: 'sb-access-token' } : {}) };
    for (const r of [
      { method: 'GET', path, ...read },
      { method: 'POST', path, ...write },
      { method: 'GET', path: `${path}/{id}`, ...read },
      { method: 'PATCH', path: `${path}/{id}`, ...write },
      { method: 'DELETE', path: `${path}/{id}`, ...write },
    ]) {
      if (routes.length < count) routes.push(r);
    }
  }
  return routes;
}
