import { HttpError, httpHandler, json, jsonLogger } from 'gatehouse/toolkit';

/**
 * GET /v1/orders/{id}: a team's own handler. The authorizer has checked the caller; httpHandler hands the route
 * the caller's validated context (tenant, subject, scopes), refuses callers without the scope, and answers errors
 * as JSON with the same headers as Gatehouse's own handlers.
 */
export const handler = httpHandler(
  ({ auth, event }) => {
    const id = event.pathParameters?.id;
    if (!id) throw new HttpError(400, 'bad_request', 'missing order id');
    return json(200, { id, tenant: auth.tenantId, status: 'shipped' });
  },
  { logger: jsonLogger('orders'), scopes: ['orders:read'] },
);
