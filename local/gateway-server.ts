import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../contract/log';
import type { ApiKind } from '../contract/stack-config';
import { type ControlPlane, createControlPlane } from './control-plane';

/** A local gateway: its HTTP server, stage and control plane. */
export interface LocalGateway {
  readonly server: Server;
  /** Which API Gateway API it emulates: `rest` (local/gateway.ts) or `http` (local/gateway-v2.ts). */
  readonly api: ApiKind;
  readonly restApiId: string;
  readonly stageName: string;
  /**
   * The control plane's URL once `listen` has resolved: give it as `endpoint` to an APIGatewayClient, and
   * `FlushStageAuthorizersCache` for this gateway's rest API id and stage empties the authorizer result cache.
   */
  readonly controlPlaneUrl: string | undefined;
  /** Authorizer invocations so far (cache hits do not count). */
  authorizerCalls(): number;
  /** Empties the authorizer result cache (what the control plane's flush does). */
  flushAuthorizerCache(): void;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** What the server shell needs of a gateway: where it is deployed, its result cache, and its request pipeline. */
export interface GatewayShell {
  readonly api: ApiKind;
  readonly apiId: string;
  readonly stage: string;
  /** The stage's authorizer result cache (local/authorizer-cache.ts): its call count and its flush. */
  readonly authorizers: { readonly calls: number; flush(): void };
  /** Port of the control plane, always on loopback. @default 0 */
  readonly controlPlanePort?: number;
  readonly log: Logger;
  /** One request, answered in full (refusals included). A rejection is a fault of the gateway itself. */
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
  /** Answers a fault of the gateway itself (a rejected `handle`) with the kind's generic 500, before any header was sent. */
  fault(req: IncomingMessage, res: ServerResponse, requestId: string, reason: string): void;
}

/**
 * The HTTP server and control plane around a gateway's pipeline, the same for both kinds of API: a request id per
 * request, a fault of the gateway answered as a 500 (or the connection cut once headers are out), and the control
 * plane's flush emptying the result cache.
 */
export function serveGateway(shell: GatewayShell): LocalGateway {
  const { authorizers, log } = shell;
  const controlPlane: ControlPlane = createControlPlane({ restApiId: shell.apiId, stageName: shell.stage, flushAuthorizersCache: () => authorizers.flush() });
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    shell.handle(req, res, requestId).catch((err: unknown) => {
      const reason = `gateway_error: ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? ''}`.slice(0, 300);
      if (!res.headersSent) return shell.fault(req, res, requestId, reason);
      log.error('gateway 5xx', { requestId, status: res.statusCode, reason });
      res.destroy();
    });
  });

  return {
    server,
    api: shell.api,
    restApiId: shell.apiId,
    stageName: shell.stage,
    get controlPlaneUrl() {
      return controlPlane.url;
    },
    authorizerCalls: () => authorizers.calls,
    flushAuthorizerCache: () => authorizers.flush(),
    async listen(port = 0, host = '127.0.0.1') {
      const url = await new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`));
      });
      // The control plane stays on loopback whatever the gateway listens on: its flush takes no credentials.
      try {
        await controlPlane.listen(shell.controlPlanePort ?? 0, '127.0.0.1');
      } catch (err) {
        await closeServer(server);
        throw err;
      }
      return url;
    },
    async close() {
      await Promise.all([closeServer(server), controlPlane.close()]);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
