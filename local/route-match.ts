import type { RouteConfig } from '../contract/config';

/** A route of the table matched to a request, with its path parameters. */
export interface RouteMatch {
  readonly route: RouteConfig;
  readonly pathParameters: Record<string, string> | null;
}

interface Segment {
  readonly literal?: string;
  readonly param?: string;
  readonly greedy?: boolean;
}

function segments(path: string): Segment[] {
  if (path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => {
      const m = /^\{([^}+]+)(\+)?\}$/.exec(s);
      return m ? { param: m[1]!, greedy: m[2] === '+' } : { literal: s };
    });
}

/**
 * Finds the route API Gateway REST would pick for a method and path: resources are matched segment by segment,
 * a literal segment beats a `{param}`, which beats a greedy `{proxy+}`; then the method, with ANY as the fallback.
 * `resourceExists` tells a missing method (API Gateway: 403 "Missing Authentication Token") from a missing path.
 */
export function matchRoute(routes: readonly RouteConfig[], method: string, path: string): RouteMatch | undefined {
  const parts = path === '/' || path === '' ? [] : path.replace(/^\//, '').split('/');
  let best: { score: number[]; match: RouteMatch } | undefined;
  for (const route of routes) {
    if (route.method !== method && route.method !== 'ANY') continue;
    const params = matchSegments(segments(route.path), parts);
    if (!params) continue;
    // Rank by specificity per segment (literal 2, param 1, greedy 0), then an exact method over ANY.
    const score = [...segments(route.path).map((s) => (s.literal !== undefined ? 2 : s.greedy ? 0 : 1)), route.method === method ? 1 : 0];
    if (!best || compare(score, best.score) > 0) {
      best = { score, match: { route, pathParameters: Object.keys(params).length ? params : null } };
    }
  }
  return best?.match;
}

function matchSegments(pattern: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i]!;
    if (seg.greedy) {
      const rest = parts.slice(i);
      if (!rest.length || rest.some((p) => p === '')) return undefined;
      params[seg.param!] = rest.map(decodeSegment).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    if (seg.literal !== undefined) {
      if (seg.literal !== part) return undefined;
    } else params[seg.param!] = decodeSegment(part);
  }
  return parts.length === pattern.length ? params : undefined;
}

/**
 * A path parameter as API Gateway hands it to the integration: percent-decoded. A segment that is not valid
 * percent-encoding (`%E0%A4%A`, a lone `%`) is passed as it was sent rather than failing the request: the
 * authorizer still decides, and the handler validates the value as it validates any other.
 */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
