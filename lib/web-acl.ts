import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface GatehouseWebAclProps {
  /** The REST API stage the web ACL guards. */
  readonly stage: Stage;
  /** Requests from one IP address per 5 minutes before AWS WAF blocks that address (AWS WAF allows 10 and up). */
  readonly ratePer5MinutesPerIp: number;
  /** AWS managed rule groups (vendor AWS) by name, each a rule of its own, in this order after the rate rule. */
  readonly managedRules: readonly string[];
  /** Prefix of the CloudWatch metric names AWS WAF publishes (per rule and for the ACL). */
  readonly metricPrefix: string;
}

/**
 * An AWS WAF web ACL in front of the stage, so that the crudest floods never reach API Gateway's throttle nor the
 * authorizer: a rate-based rule per source IP first (cheapest, and it stops one address from spending the stage's
 * throttle for everyone), then AWS managed rule groups (known exploit payloads, bad inputs). Requests that no rule
 * blocks are allowed: authentication stays the authorizer's job. Each rule publishes CloudWatch metrics and keeps
 * sampled requests; full WAF logging is left to the deployment (it needs a log destination named aws-waf-logs-*).
 */
export class GatehouseWebAcl extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: GatehouseWebAclProps) {
    super(scope, id);
    const visibility = (name: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: `${props.metricPrefix}-${name}`,
      sampledRequestsEnabled: true,
    });
    const rateRule: CfnWebACL.RuleProperty = {
      name: 'RatePerIp',
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.ratePer5MinutesPerIp, evaluationWindowSec: 300 } },
      visibilityConfig: visibility('RatePerIp'),
    };
    const managed = props.managedRules.map(
      (name, i): CfnWebACL.RuleProperty => ({
        name,
        priority: i + 1,
        // `none`: the group's own actions (block) apply; `count` would only observe.
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        visibilityConfig: visibility(name),
      }),
    );
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Gatehouse: per-IP rate limit and AWS managed rule groups before API Gateway and its authorizer',
      rules: [rateRule, ...managed],
      visibilityConfig: visibility('WebAcl'),
    });
    // The stage ARN holds the stage's Ref, so CloudFormation associates only once the stage exists.
    new CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });
  }
}
