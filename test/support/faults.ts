/**
 * Fault injection for the authorizer's dependencies. Faults the emulator and the loopback servers can produce are
 * produced on the wire (a dead port, a server that never answers, a DynamoDB throttling response); SDK middleware
 * is used only where that is the only way to get the fault on demand on a client a test passes in.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createServer as createHttpServer } from 'node:http';
import { type Socket, createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CLIENT_OPTIONS } from '../../lambdas/authorizer/aws';

/** A loopback port nothing listens on (discard): connections are refused at once. */
export const DEAD_ENDPOINT = 'http://127.0.0.1:9';

type Stack = { middlewareStack: { add: (mw: never, opts: never) => void } };
type Next = (args: { request?: unknown; input?: unknown }) => Promise<unknown>;
type Ctx = { commandName?: string };

function addMiddleware(client: Stack, name: string, opts: { step: string; priority?: string }, mw: (next: Next, ctx: Ctx) => Next): void {
  client.middlewareStack.add(mw as never, { name, ...opts } as never);
}

/**
 * Counts every attempt a client makes, retries included: the middleware sits in the finalizeRequest step below the
 * retry middleware (priority low), so it runs once per attempt, not once per send.
 */
export function countAttempts<C extends Stack>(client: C): { client: C; attempts: (command?: string) => number; reset: () => void } {
  const seen: string[] = [];
  addMiddleware(client, 'gatehouseAttemptCounter', { step: 'finalizeRequest', priority: 'low' }, (next, ctx) => async (args) => {
    seen.push(String(ctx.commandName));
    return next(args);
  });
  return { client, attempts: (command) => (command ? seen.filter((c) => c === command).length : seen.length), reset: () => void seen.splice(0) };
}

/**
 * A Secrets Manager client on the emulator whose endpoint can be switched to a dead port and back: the same
 * client, so the authorizer's cache and single-flight state stay as they were, only the network goes away.
 */
export function switchableSecretsManager(opts: SwitchableOptions = {}) {
  return switchable(new SecretsManagerClient({ maxAttempts: opts.maxAttempts ?? 1, ...(opts.deployed ? CLIENT_OPTIONS : {}) }), opts.downUrl);
}

/** As {@link switchableSecretsManager}, for DynamoDB. */
export function switchableDynamoDb(opts: SwitchableOptions = {}) {
  return switchable(new DynamoDBClient({ maxAttempts: opts.maxAttempts ?? 1, ...(opts.deployed ? CLIENT_OPTIONS : {}) }), opts.downUrl);
}

export interface SwitchableOptions {
  readonly maxAttempts?: number;
  /** Where requests go while down (default: a dead port); a {@link hangingServer}'s url makes a hang. */
  readonly downUrl?: string;
  /** The deployed clients' attempts and timeouts (lambdas/authorizer/aws.ts CLIENT_OPTIONS); overrides maxAttempts. */
  readonly deployed?: boolean;
}

function switchable<C extends Stack>(client: C, downUrl = DEAD_ENDPOINT) {
  const down = new URL(downUrl);
  let isDown = false;
  addMiddleware(client, 'gatehouseEndpointSwitch', { step: 'build' }, (next) => async (args) => {
    if (isDown) {
      const request = args.request as { hostname: string; port?: number };
      request.hostname = down.hostname;
      request.port = Number(down.port);
    }
    return next(args);
  });
  const counted = countAttempts(client);
  return { client, setDown: (d: boolean) => void (isDown = d), attempts: counted.attempts, reset: counted.reset };
}

/**
 * A DynamoDB client on the emulator whose attempts fail with ProvisionedThroughputExceededException (HTTP 400), as
 * DynamoDB answers a throttled request, while `throttled(commandName, key)` says so. The error is thrown below the
 * retry middleware, so the SDK retries it as it would the real answer; attempts are counted the same way.
 */
export function throttlingDynamoDb(opts: { maxAttempts: number; throttled?: (command: string, input: unknown) => boolean }) {
  const client = new DynamoDBClient({ maxAttempts: opts.maxAttempts });
  let throttledAttempts = 0;
  const counted = countAttempts(client);
  let active = true;
  const throttled = opts.throttled ?? (() => true);
  client.middlewareStack.add(
    ((next: Next, ctx: Ctx) => async (args: { input?: unknown }) => {
      if (active && throttled(String(ctx.commandName), args.input)) {
        throttledAttempts++;
        throw new ProvisionedThroughputExceededException({
          message: 'The level of configured provisioned throughput for the table was exceeded.',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    }) as never,
    { step: 'deserialize', name: 'gatehouseThrottle' } as never,
  );
  return {
    client,
    attempts: counted.attempts,
    throttledAttempts: () => throttledAttempts,
    setActive: (a: boolean) => void (active = a),
    reset: () => {
      counted.reset();
      throttledAttempts = 0;
    },
  };
}

export interface FaultServer {
  readonly url: string;
  /** Connections (TCP) or requests (HTTP) received. */
  readonly hits: () => number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never answers: only the client's own timeouts end a request. */
export async function hangingServer(): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  let hits = 0;
  const server = createTcpServer((s) => {
    hits++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP server that answers every request as DynamoDB answers a throttled one (HTTP 400, awsJson 1.0). */
export function throttlingDynamoDbServer(): Promise<FaultServer> {
  return dynamoDbErrorServer('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.');
}

/**
 * An HTTP server that answers every request with one DynamoDB error (awsJson 1.0: the `x-amzn-errortype` header and
 * a `__type`/`message` body), for answers the emulator does not give on demand: throttling, expired credentials,
 * and an IAM denial (moto answers JSON services' auth failures in XML, which the SDK cannot read).
 */
export async function dynamoDbErrorServer(type: string, message: string, status = 400): Promise<FaultServer> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Runs `fn` with environment variables set (undefined: unset), then restores them. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** A clock the test moves: real time plus an offset. */
export function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms: number) => void (offset += ms),
    seconds: () => Math.floor((Date.now() + offset) / 1000),
  };
}
