import type { RouteConfig } from '../../contract/config';

/** What of the request names its route: the method and API Gateway's resource template (`/v1/items/{id}`). */
export interface RouteRequest {
  readonly httpMethod: string;
  readonly resource: string;
}

/**
 * The configured routes by method and resource, for the decisions that depend on the request's own route (its
 * cookie; in membership mode, whether the answer is keyed by the tenant header).
 */
export class RouteIndex {
  // Built once: routeOf runs per request (cookie routes, membership mode). Routes are unique by method and path.
  private readonly byKey: ReadonlyMap<string, RouteConfig>;
  private readonly cookies: boolean;

  constructor(routes: readonly RouteConfig[]) {
    this.byKey = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
    this.cookies = routes.some((r) => r.cookie !== undefined);
  }

  /** The configured route of a request (exact method first, then ANY), or undefined for one not in the table. */
  routeOf(event: RouteRequest): RouteConfig | undefined {
    return this.byKey.get(`${event.httpMethod} ${event.resource}`) ?? this.byKey.get(`ANY ${event.resource}`);
  }

  /** The cookie that may carry a user's JWT on the request's route; no lookup at all when no route takes one. */
  cookieOf(event: RouteRequest): string | undefined {
    return this.cookies ? this.routeOf(event)?.cookie : undefined;
  }
}
