/**
 * A team's own handler, built and deployed by the stack from this file (the configuration's `handlers.orders.entry`)
 * and run by local mode from the same file: nothing under lib/ or lambdas/ changes. It imports only the toolkit,
 * which reads the caller the authorizer validated (auth.tenantId, auth.kind, auth.scopes) and answers JSON with the
 * same errors and logs as the built-in handlers.
 */
import { HttpError, httpHandler, httpRouter, json, jsonLogger } from 'gatehouse/toolkit';

const logger = jsonLogger('orders');

/** The orders of the caller's tenant: here a greeting in place of a query keyed by auth.tenantId. */
const listOrders = httpHandler(
  ({ auth }) => {
    if (!auth.tenantId) throw new HttpError(403, 'forbidden', 'orders belong to a tenant', { reason: 'TENANT_REQUIRED' });
    return json(200, { tenantId: auth.tenantId, kind: auth.kind, principalId: auth.principalId, orders: [] });
  },
  { logger, scopes: ['orders:read'], kinds: ['user', 'apiKey'] },
);

export const handler = httpRouter({ 'GET /v1/orders': listOrders }, { logger });
