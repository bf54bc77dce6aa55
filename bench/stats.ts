/**
 * Statistics and formatting. Timings are collected per iteration in batches; a figure is the median over batches
 * of each batch's own p50 / p99 / rate, so one noisy batch (another process on the shared machine, a GC) moves the
 * result little. Ratios are of medians measured in the same run, interleaved round by round.
 */

/** The p-th percentile (0-100) of an ascending array, linear between closest ranks. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

/** One batch: per-iteration times in microseconds, and the batch's wall time in milliseconds. */
export interface Batch {
  readonly samplesUs: Float64Array;
  readonly elapsedMs: number;
}

export interface Summary {
  /** Median over batches of the batch p50, microseconds. */
  readonly p50: number;
  /** Median over batches of the batch p99, microseconds. */
  readonly p99: number;
  /** Median over batches of iterations per second (back-to-back, one at a time). */
  readonly perSecond: number;
  readonly iterations: number;
  readonly batches: number;
}

export function summarize(batches: readonly Batch[]): Summary {
  const p50s: number[] = [];
  const p99s: number[] = [];
  const rates: number[] = [];
  let iterations = 0;
  for (const b of batches) {
    const sorted = Float64Array.from(b.samplesUs).sort();
    p50s.push(percentile(sorted, 50));
    p99s.push(percentile(sorted, 99));
    rates.push((b.samplesUs.length / b.elapsedMs) * 1000);
    iterations += b.samplesUs.length;
  }
  return { p50: median(p50s), p99: median(p99s), perSecond: median(rates), iterations, batches: batches.length };
}

/** A duration in microseconds, 3 significant figures. */
export function us(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} ms`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} ms`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} µs`;
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`;
}

/** A difference of durations in milliseconds with its sign (+12.3 ms, −4.56 ms). */
export function msDiff(v: number): string {
  return v < 0 ? `−${ms(-v)}` : `+${ms(v)}`;
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

/** An integer with thousands separators (1,234,567). */
export function int(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
}

export function num(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export const met = (ok: boolean | undefined): string => (ok === undefined ? '—' : ok ? 'yes' : '**no**');

/** A Markdown table, columns padded so it also reads well in a terminal. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [line(headers), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** A sampler of ranks 0..n-1 with P(k) proportional to 1 / (k+1)^s (Zipf), from a seeded random source. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A small seeded PRNG (mulberry32), so the request mix is the same in every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
