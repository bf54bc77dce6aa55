import { summarizeError } from '../../contract/aws-error';
import { JsonFragment, type LogFields, type Logger } from '../../contract/log';
import { emfFields } from '../shared/metrics';
import type { Credential } from './classify';
import type { AuthError, ReasonCode } from './errors';
import { type Principal, principalId } from './principal';
import type { PolicyAnswer } from './policy-memo';
import type { AnswerFormat } from './request';

/** How a decision ended: an Allow, a Deny policy (403), a 401, or a 500. */
export type Decision = 'allow' | 'deny' | 'unauthorized' | 'error';

/** What of the request the decision line names: never a header, never credential material. */
export interface DecisionRequest {
  readonly requestContext?: { readonly requestId?: string } | null;
  readonly httpMethod: string;
  readonly resource: string;
}

/**
 * The decision log: one line per decision, `decision`, with the request, the credential kind, the principal (ids
 * only), the decision and its reason code, and the latency. The same line is the EMF data point of the decision
 * metrics. One instance per request: the steps fill its fields in as they learn them, and `finish` writes the line.
 */
export class DecisionLog {
  // Field order is the line's order: request, kind (and source), principal, then what `finish` adds.
  private readonly fields: LogFields;
  private readonly started: number;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    event: DecisionRequest,
  ) {
    this.started = performance.now();
    this.fields = {
      requestId: event.requestContext?.requestId,
      method: event.httpMethod,
      resource: event.resource,
    };
  }

  /**
   * Records the answer format when it is not REST's (`payload: '2.0'` for an HTTP API event), so that a line's
   * `decision` (the status the client got: on HTTP APIs a 401 reason is answered with a Deny) reads unambiguously.
   */
  format(format: AnswerFormat): void {
    if (format === 'http-2.0') this.fields.payload = '2.0';
  }

  /** Records the credential's kind (a JWT is a `user`), and `source: cookie` for a JWT taken from a cookie. */
  credential(credential: Credential): void {
    this.fields.kind = credential.kind === 'jwt' ? 'user' : credential.kind;
    if (credential.kind === 'jwt' && credential.source === 'cookie') this.fields.source = 'cookie';
  }

  /** Records who the principal is (ids only); called again when membership mode changes the principal's tenant. */
  principal(p: Principal): void {
    Object.assign(this.fields, principalFields(p));
  }

  /** Writes the line of a decision that reached the policy answer: allowed, or no route (or not this one) permitted. */
  answer(answer: PolicyAnswer): void {
    if (!answer.allowsAny) this.finish('deny', 'NO_ROUTE_PERMITTED');
    else if (answer.here === 'Deny') this.finish('deny', 'ROUTE_NOT_PERMITTED');
    else this.finish('allow', 'ALLOWED');
  }

  /** Writes the line of a refusal: its reason code and detail, and the name and code of a dependency error behind it. */
  refusal(decision: Exclude<Decision, 'allow'>, e: AuthError): void {
    this.finish(decision, e.code, { ...e.detail, ...causeFields(e.cause) });
  }

  /** Writes the line (ERROR for `error`, INFO otherwise). */
  finish(decision: Decision, reason: ReasonCode | 'ALLOWED', extra?: LogFields): void {
    const fields = this.fields;
    const latencyMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    const log = decision === 'error' ? this.logger.error : this.logger.info;
    // Filled in place (no spread copies: this runs on every decision). The same line is the EMF data point.
    fields.kind ??= 'none';
    fields.decision = decision;
    fields.reason = reason;
    if (extra) Object.assign(fields, extra);
    fields.latencyMs = latencyMs;
    fields._aws = emfDirective(this.now());
    fields.Decisions = 1;
    fields.DecisionLatency = latencyMs;
    log('decision', fields);
  }
}

function principalFields(p: Principal): LogFields {
  switch (p.kind) {
    case 'user':
      return { issuer: p.issuerId, principalId: p.subject, tenantId: p.tenantId };
    case 'apiKey':
      return { principalId: p.keyId, keyId: p.keyId, tenantId: p.tenantId };
    case 'service':
      return { principalId: principalId(p), service: p.service };
    case 'signed':
      return { principalId: principalId(p), signer: p.signer };
  }
}

/** The name and code of a dependency error: enough to diagnose, never a message that could echo input. */
function causeFields(cause: unknown): LogFields {
  const c = summarizeError(cause);
  if (!c) return {};
  return {
    ...(c.name !== undefined ? { causeName: c.name } : {}),
    ...(c.code !== undefined ? { causeCode: c.code } : {}),
    ...(c.status !== undefined ? { causeStatus: c.status } : {}),
  };
}

/** Decisions counted by decision, by decision and credential kind, and by reason code; latency by decision. */
let lastDirective: { at: number; fragment: JsonFragment } | undefined;

/** The `_aws` member of a decision line at `timestamp`, serialized once per millisecond. */
function emfDirective(timestamp: number): JsonFragment {
  if (lastDirective?.at !== timestamp) {
    const value = { Timestamp: timestamp, CloudWatchMetrics: DECISION_METRICS };
    lastDirective = { at: timestamp, fragment: new JsonFragment(JSON.stringify(value), value) };
  }
  return lastDirective.fragment;
}

/** The EMF directive of a decision line (its values, `Decisions` and `DecisionLatency`, are fields of the line). */
const DECISION_METRICS = emfFields(
  [
    { name: 'Decisions', unit: 'Count', value: 1 },
    { name: 'DecisionLatency', unit: 'Milliseconds', value: 0 },
  ],
  [['decision'], ['decision', 'kind'], ['reason']],
  0,
)._aws.CloudWatchMetrics;
