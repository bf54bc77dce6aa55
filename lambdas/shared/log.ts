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
  const log = (level: string) => (message: string, fields?: LogFields) =>
    write(`${JSON.stringify({ level, timestamp: new Date().toISOString(), service, message, ...fields })}\n`);
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}
