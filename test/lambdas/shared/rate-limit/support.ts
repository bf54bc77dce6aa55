/** Helpers shared by the rate-limit tests: a Gatehouse table on the emulator, a settable clock, the bucket item. */
import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatehouseTable } from '../../../../local/create-table';
import { rateLimitItemKey } from '../../../../lambdas/shared/rate-limit/limiter';
import { dynamoClient, uniqueName } from '../../../support/aws';

/** A fresh Gatehouse table (same schema, index and TTL attribute as the deployed one) on the emulator. */
export async function rateLimitTable(): Promise<{ tableName: string; client: DynamoDBClient }> {
  const client = dynamoClient();
  const tableName = await createGatehouseTable(client, uniqueName('gatehouse-rl'));
  return { tableName, client };
}

/** A clock the test sets: milliseconds since the epoch, starting at a fixed whole second. */
export function settableClock(startMs = Date.UTC(2026, 10, 3, 12, 0, 0)) {
  let t = startMs;
  return {
    now: () => t,
    set: (ms: number) => void (t = ms),
    advance: (ms: number) => void (t += ms),
    start: startMs,
  };
}

/** A tenant id no other test uses. */
export const tenant = (label = 't') => `${label}-${randomBytes(4).toString('hex')}`;

/** The raw bucket item of `tenantId`, read consistently. */
export async function readBucket(client: DynamoDBClient, tableName: string, tenantId: string): Promise<Record<string, AttributeValue> | undefined> {
  const k = rateLimitItemKey(tenantId);
  const out = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: k.pk }, sk: { S: k.sk } }, ConsistentRead: true }));
  return out.Item;
}

/**
 * A loopback HTTP proxy to the emulator that applies one request at a time, in arrival order.
 *
 * DynamoDB applies conditional writes to one item one at a time; moto 5.2.5 does not: its threaded server checks an
 * UpdateItem's condition, then evaluates the update expression (`tat + :interval` reads tat again) and writes, with
 * no lock, so concurrent requests interleave and updates get lost (measured: 201 to 211 admissions of a burst of 200
 * from 20 concurrent clients, with tat advanced only 200 times). Behind this proxy the clients still send
 * concurrently and their multi-call paths still interleave; only the emulator applies each call whole, as DynamoDB
 * does.
 */
export async function serializingProxy(target = process.env.AWS_ENDPOINT_URL!): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  let requests = 0;
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const out = httpRequest(
        { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', resolve);
          up.on('error', () => resolve());
        },
      );
      out.on('error', () => {
        res.writeHead(502).end();
        resolve();
      });
      out.end(body);
    });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      queue = queue.then(() => forward(req, Buffer.concat(chunks), res));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
