import { type CompiledRoute, type PolicyDocument, type PolicyPrincipal, buildPolicy, evaluatePolicy, routeDecision } from './policy';

/** What a decision needs from the route table for one principal shape, one stage and one method ARN. */
export interface PolicyAnswer {
  /** The policy for every route (frozen: shared by every request of the same shape). */
  readonly policyDocument: PolicyDocument;
  /** Whether the principal may call any route at all. */
  readonly allowsAny: boolean;
  /** The policy's verdict on this request's method ARN, as API Gateway evaluates it. */
  readonly here: 'Allow' | 'Deny';
}

interface ShapeEntry {
  readonly allowsAny: boolean;
  readonly policies: Map<string, { readonly policyDocument: PolicyDocument; readonly verdicts: Map<string, 'Allow' | 'Deny'> }>;
}

/**
 * Memoizes the route-table work of a decision. The policy depends only on the principal's kind, scopes and service or signer
 * (never on who it is), and on the stage's ARN prefix; its verdict on a method ARN depends on nothing else. So a
 * warm container computes each once per distinct shape, prefix and ARN instead of on every request. Bounded: a
 * map that outgrows its limit is emptied (the work is cheap to redo; attacker-chosen ARNs cannot grow memory).
 */
export class PolicyMemo {
  private readonly shapes = new Map<string, ShapeEntry>();

  constructor(
    private readonly routes: readonly CompiledRoute[],
    private readonly limits = { shapes: 1000, prefixes: 8, arns: 512 },
  ) {}

  answer(prefix: string, principal: PolicyPrincipal, methodArn: string): PolicyAnswer {
    const key = shapeKey(principal);
    let shape = this.shapes.get(key);
    let decision: ReturnType<typeof routeDecision> | undefined;
    if (!shape) {
      decision = routeDecision(this.routes, principal);
      if (this.shapes.size >= this.limits.shapes) this.shapes.clear();
      this.shapes.set(key, (shape = { allowsAny: decision.allow.length > 0, policies: new Map() }));
    }
    let policy = shape.policies.get(prefix);
    if (!policy) {
      const policyDocument = deepFreeze(buildPolicy(prefix, decision ?? routeDecision(this.routes, principal)));
      if (shape.policies.size >= this.limits.prefixes) shape.policies.clear();
      shape.policies.set(prefix, (policy = { policyDocument, verdicts: new Map() }));
    }
    let here = policy.verdicts.get(methodArn);
    if (!here) {
      here = evaluatePolicy(policy.policyDocument, methodArn);
      if (policy.verdicts.size >= this.limits.arns) policy.verdicts.clear();
      policy.verdicts.set(methodArn, here);
    }
    return { policyDocument: policy.policyDocument, allowsAny: shape.allowsAny, here };
  }
}

// Scopes are a set: the same scopes in another order are the same shape. `\n` cannot occur in a scope or a name.
function shapeKey(p: PolicyPrincipal): string {
  const scopes = p.scopes.length > 1 ? [...p.scopes].sort().join(' ') : (p.scopes[0] ?? '');
  return `${p.kind}\n${p.service ?? p.signer ?? ''}\n${scopes}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
