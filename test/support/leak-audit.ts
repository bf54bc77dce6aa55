/**
 * What a log audit needs: a vault of the secret material a test run used, searched for as every 16-character
 * window of each secret part, and a capture of everything the process writes (stdout, stderr, console, warnings).
 */
import { format } from 'node:util';

/** Shorter than this, a substring of a secret is not enough to replay it; this long or longer, it may be. */
export const LEAK_WINDOW = 16;

export interface Leak {
  /** What leaked (never the value itself). */
  readonly label: string;
  /** Where in the searched text. */
  readonly at: number;
}

/**
 * The secret parts of every credential used: a JWT's signature, an API key's body, a whole secret (and its bytes
 * as hex, base64 and a Buffer's JSON, the ways a careless log prints bytes). Held as 16-character windows, so a
 * search costs one lookup per position of the searched text, however many secrets there are.
 */
export class SecretVault {
  private readonly windows = new Map<string, string>();
  private parts = 0;

  /** Registers one secret part (at least LEAK_WINDOW characters) under a label. */
  add(label: string, part: string): void {
    if (part.length < LEAK_WINDOW) throw new Error(`${label}: a secret part must be at least ${LEAK_WINDOW} characters`);
    this.parts++;
    for (let i = 0; i + LEAK_WINDOW <= part.length; i++) this.windows.set(part.slice(i, i + LEAK_WINDOW), label);
  }

  /** A secret value (HS256 secret, service secret, private key member), and its UTF-8 bytes in other spellings. */
  secret(label: string, value: string): string {
    const bytes = Buffer.from(value, 'utf8');
    this.add(label, value);
    this.add(`${label} (hex)`, bytes.toString('hex'));
    this.add(`${label} (base64)`, bytes.toString('base64'));
    this.add(`${label} (Buffer JSON)`, [...bytes].join(','));
    return value;
  }

  /** A JWT: its signature segment is what makes it replayable. Returns the token. */
  jwt(token: string, label = 'jwt signature'): string {
    const signature = token.split('.')[2] ?? '';
    if (signature.length >= LEAK_WINDOW) this.add(label, signature);
    return token;
  }

  /** An API key `<prefix>_<env>_<body><checksum>`: the body (with its checksum) is the secret. Returns the key. */
  apiKey(key: string, label = 'api key body'): string {
    this.add(label, key.split('_').slice(2).join('_'));
    return key;
  }

  /** Every place in `text` where a window of a registered secret occurs, one per label. */
  scan(text: string): Leak[] {
    const found = new Map<string, number>();
    for (let i = 0; i + LEAK_WINDOW <= text.length; i++) {
      const label = this.windows.get(text.slice(i, i + LEAK_WINDOW));
      if (label !== undefined && !found.has(label)) found.set(label, i);
    }
    return [...found].map(([label, at]) => ({ label, at }));
  }

  get size(): { parts: number; windows: number } {
    return { parts: this.parts, windows: this.windows.size };
  }
}

export interface Captured {
  /** `stdout`, `stderr`, `console.warn`, `warning`, or a label the test adds (`thrown`, `result`, ...). */
  readonly source: string;
  readonly text: string;
}

/**
 * Captures (and swallows) everything written to process.stdout and process.stderr, every console call and every
 * process warning until the returned function is called. Writes from code under test and from libraries alike.
 */
export function captureOutput(into: Captured[]): () => void {
  const restore: (() => void)[] = [];
  for (const [source, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      into.push({ source, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => void into.push({ source: `console.${method}`, text: format(...args) });
    restore.push(() => {
      console[method] = original;
    });
  }
  const onWarning = (w: Error) => into.push({ source: 'warning', text: `${w.name}: ${w.message}\n${w.stack ?? ''}` });
  process.on('warning', onWarning);
  restore.push(() => process.off('warning', onWarning));
  return () => {
    for (const r of restore.reverse()) r();
  };
}
