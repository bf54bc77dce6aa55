import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ControlPlaneOptions {
  /** The local gateway's REST API id (the `{restapi_id}` it answers to). */
  readonly restApiId: string;
  /** The local gateway's stage. */
  readonly stageName: string;
  /** Empties the stage's authorizer result cache. */
  readonly flushAuthorizersCache: () => void;
}

export interface ControlPlane {
  readonly server: Server;
  /** `http://host:port` once listening: the `endpoint` to give an APIGatewayClient. */
  readonly url: string | undefined;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

const FLUSH = /^\/restapis\/([^/]+)\/stages\/([^/]+)\/cache\/authorizers$/;

/**
 * The one API Gateway control-plane call local mode needs: `FlushStageAuthorizersCache`
 * (`DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers`, 202), so the command-line tool's own SDK
 * call, with `endpoint` pointed here, empties the local gateway's authorizer result cache. Anything else is a 404
 * NotFoundException in API Gateway's REST-JSON error shape (`x-amzn-ErrorType` and a `message`), which the SDK
 * turns into a `NotFoundException`. It checks no signature: it listens on loopback only, and flushing a cache
 * never lets anyone in.
 */
export function createControlPlane(opts: ControlPlaneOptions): ControlPlane {
  let url: string | undefined;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const notFound = (message: string) => {
      const body = JSON.stringify({ message });
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotFoundException', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const m = FLUSH.exec(path);
    if (req.method !== 'DELETE' || !m) return notFound('Resource not found');
    const [restApiId, stageName] = [safeDecode(m[1]!), safeDecode(m[2]!)];
    if (restApiId !== opts.restApiId) return notFound('Invalid API identifier specified');
    if (stageName !== opts.stageName) return notFound('Invalid stage identifier specified');
    opts.flushAuthorizersCache();
    res.writeHead(202, { 'content-length': 0 });
    res.end();
  }

  const server = createServer((req, res) => {
    // The request has no body worth reading; drain it so the connection can be reused.
    req.resume();
    req.on('end', () => handle(req, res));
  });

  return {
    server,
    get url() {
      return url;
    },
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: p } = server.address() as AddressInfo;
          url = `http://${host.includes(':') ? `[${host}]` : host}:${p}`;
          resolve(url);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
