/**
 * An existing HTTP API (Express 5) behind Gatehouse: the gateway checks the caller and proxies the request here with
 * the caller's context in one header, X-Gatehouse-Context (base64url-encoded JSON: kind, principalId, tenantId,
 * scopes, ...; README, "Put Gatehouse in front of your API"), so this server keeps no credentials of its own. The
 * gateway writes that header on every request it forwards, over any copy a client sent; on a public route it says
 * `{"kind":"public"}`. Every route here needs a caller, so a request without the header, with one that does not
 * decode, or with kind "public" is refused. Deployed, trust the header only on requests that came through the
 * gateway: give the stage a client certificate and check it (README), or keep the server off the internet.
 *
 * Run it: node scripts/run.mjs examples/express-backend/server.ts   (listens on 127.0.0.1:8000, or $PORT)
 * then:   npm start -- --config examples/express-backend/gatehouse.json
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';

/** The caller as the gateway describes it. */
export interface Caller {
  /** user, apiKey, service or signed (never public: those requests are refused). */
  readonly kind: string;
  readonly principalId: string;
  /** '' for a caller without one (a service). */
  readonly tenantId: string;
  readonly scopes: readonly string[];
  readonly requestId: string;
}

interface Order {
  readonly id: string;
  readonly item: string;
  readonly quantity: number;
  readonly createdBy: string;
}

/** The caller X-Gatehouse-Context names, or undefined without one (absent, not base64url JSON, or a public route). */
function callerOf(req: Request): Caller | undefined {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(Buffer.from(req.get('X-Gatehouse-Context') ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const text = (key: string) => (typeof c?.[key] === 'string' ? (c[key] as string) : '');
  if (!text('kind') || text('kind') === 'public' || !text('principalId')) return undefined;
  return {
    kind: text('kind'),
    principalId: text('principalId'),
    tenantId: text('tenantId'),
    scopes: text('scopes').split(' ').filter(Boolean),
    requestId: req.get('X-Gatehouse-Request-Id') ?? '',
  };
}

export interface OrdersAppOptions {
  /** Called with each request's headers as the server received them (the tests assert what reached the backend). */
  readonly onRequest?: (headers: Readonly<Record<string, string | string[] | undefined>>) => void;
}

/** The orders API: each tenant's orders, in memory. */
export function createOrdersApp(opts: OrdersAppOptions = {}): express.Express {
  const orders = new Map<string, Order[]>();
  const app = express();
  app.use((req: Request, _res: Response, next: NextFunction) => {
    opts.onRequest?.({ ...req.headers });
    next();
  });
  // Every route here needs a caller the gateway checked: without a context, or with the public one, there is none.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(req);
    if (!caller) return void res.status(401).json({ error: 'unauthorized', message: 'requests come through the gateway' });
    res.locals.caller = caller;
    next();
  });
  app.use(express.json());

  app.get('/v1/orders', (_req: Request, res: Response) => {
    const caller = res.locals.caller as Caller;
    if (!caller.tenantId) return void res.status(403).json({ error: 'forbidden', message: 'orders belong to a tenant' });
    res.json({ tenantId: caller.tenantId, caller: { kind: caller.kind, principalId: caller.principalId, scopes: caller.scopes }, orders: orders.get(caller.tenantId) ?? [] });
  });

  app.post('/v1/orders', (req: Request, res: Response) => {
    const caller = res.locals.caller as Caller;
    // The gateway already checked the route's scopes; a finer rule of the API's own reads caller.scopes.
    if (!caller.tenantId) return void res.status(403).json({ error: 'forbidden', message: 'orders belong to a tenant' });
    const body = (req.body ?? {}) as { item?: unknown; quantity?: unknown };
    if (typeof body.item !== 'string' || !body.item) return void res.status(400).json({ error: 'bad_request', message: 'item is a non-empty string' });
    const quantity = typeof body.quantity === 'number' && Number.isInteger(body.quantity) && body.quantity > 0 ? body.quantity : 1;
    const order: Order = { id: randomUUID(), item: body.item, quantity, createdBy: caller.principalId };
    orders.set(caller.tenantId, [...(orders.get(caller.tenantId) ?? []), order]);
    res.status(201).json({ tenantId: caller.tenantId, order });
  });

  return app;
}

// Run directly (node scripts/run.mjs examples/express-backend/server.ts): listen on loopback.
if (/server\.(ts|mjs|js|cjs)$/.test(process.argv[1] ?? '')) {
  const port = Number(process.env.PORT ?? 8000);
  createOrdersApp().listen(port, '127.0.0.1', () => process.stdout.write(`orders API on http://127.0.0.1:${port}\n`));
}
