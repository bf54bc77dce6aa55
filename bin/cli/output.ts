/** How the command-line tool prints: aligned text for people, one JSON document for scripts (`--json`). */
export interface Io {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

export class Printer {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** Prints `data` as JSON with --json, else `text()` (a function, so no text is built for scripts). */
  result(data: unknown, text: () => string): void {
    this.io.stdout(this.json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
  }

  /** A note for people (stderr, so --json output on stdout stays one document). */
  note(s: string): void {
    if (!this.json) this.io.stderr(`${s}\n`);
  }
}

/** Rows as an aligned table with a header; an empty list says so. */
export function table(rows: readonly object[], columns: readonly string[], empty = '(none)'): string {
  if (!rows.length) return empty;
  const cells = rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: readonly string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function cell(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.join(',') : '-';
  return String(v);
}

export const isoSeconds = (epochSeconds: number | undefined) => (epochSeconds === undefined ? undefined : new Date(epochSeconds * 1000).toISOString());
