/**
 * Structured JSON logging, one line per call. The authorizer logs one line per decision; fields are chosen by the
 * caller and must never hold credential material (the log audit test enforces that).
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * Writes JSON lines to stdout (Lambda ships them to CloudWatch as they are). A dozen lines instead of a logging
 * library keep the authorizer's bundle and cold start small; Powertools Logger fits the handlers.
 */
export function jsonLogger(service: string, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const svc = JSON.stringify(service);
  // Formatting a Date is a good part of a line's cost: once per millisecond is enough.
  let at = -1;
  let iso = '';
  const log = (level: string) => (message: string, fields?: LogFields) => {
    const t = Date.now();
    if (t !== at) [at, iso] = [t, new Date(t).toISOString()];
    const head = `{"level":"${level}","timestamp":"${iso}","service":${svc},"message":${JSON.stringify(message)}`;
    write(`${head}${fields ? serializeFields(fields) : ''}}\n`);
  };
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

/**
 * A field value serialized once and reused (the EMF directive of a decision line is the same within a
 * millisecond): jsonLogger writes `json` as it is; anything else that serializes the fields gets `value` (toJSON).
 */
export class JsonFragment {
  constructor(
    readonly json: string,
    readonly value: unknown,
  ) {}

  toJSON(): unknown {
    return this.value;
  }
}

const RESERVED = new Set(['level', 'timestamp', 'service', 'message']);

/** `,"k":v,...` for the fields: one JSON.stringify for the plain ones, fragments as they are. */
function serializeFields(fields: LogFields): string {
  let plain: LogFields | undefined;
  let fragments = '';
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    // A field named like one of the line's own keys is written as `field_<name>`: it can neither replace the
    // line's level, time, service or message nor repeat a key.
    const name = RESERVED.has(key) ? `field_${key}` : key;
    if (value instanceof JsonFragment) fragments += `,${JSON.stringify(name)}:${value.json}`;
    else (plain ??= {})[name] = value;
  }
  const body = plain ? JSON.stringify(plain) : '{}';
  return (body.length > 2 ? `,${body.slice(1, -1)}` : '') + fragments;
}
