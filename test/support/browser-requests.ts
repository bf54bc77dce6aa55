import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** What the API received and answered, as the browser suite checks it: cookie names only, never their values. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly origin: string | undefined;
  readonly cookies: readonly string[];
  readonly authorization: boolean;
  /** The answer's status (set once it is sent). */
  status?: number;
}

export interface RequestLog {
  /** A mark to read from: the requests received after it. */
  mark(): number;
  /** The requests received since `mark`, each once its answer is sent. */
  since(mark: number): Promise<ReceivedRequest[]>;
  stop(): void;
}

/** Listens alongside a server's own request listener, and records what each request carried and got. */
export function recordRequests(server: Server): RequestLog {
  const received: ReceivedRequest[] = [];
  const answered: Promise<void>[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const cookie = req.headers.cookie ?? '';
    const entry: ReceivedRequest = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]!,
      origin: req.headers.origin,
      cookies: cookie
        .split(';')
        .map((c) => c.trim().split('=')[0]!)
        .filter(Boolean),
      authorization: req.headers.authorization !== undefined,
    };
    received.push(entry);
    answered.push(
      new Promise<void>((resolve) => {
        const done = () => {
          entry.status = res.statusCode;
          resolve();
        };
        res.once('finish', done);
        res.once('close', done);
      }),
    );
  };
  server.on('request', listener);
  return {
    mark: () => received.length,
    async since(mark) {
      await Promise.all(answered.slice(mark));
      return received.slice(mark);
    },
    stop: () => server.off('request', listener),
  };
}
