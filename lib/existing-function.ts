import { Annotations, Aspects, Aws, CfnCondition, Fn, type IAspect, Stack, Token } from 'aws-cdk-lib';
import { CfnPermission, Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct, IConstruct } from 'constructs';

/**
 * A team's existing Lambda function (`handlers.<name>.functionArn`): the API integrates to it, and the stack adds
 * API Gateway's invoke permission, scoped to this API, to the function's resource policy
 * (lib/gatehouse-api.ts grantInvoke). Lambda's AddPermission works only in the function's own account, so:
 *
 * - the stack names its account and Region (`env`) and they are the function's: the permission is an
 *   `AWS::Lambda::Permission` of this stack;
 * - they differ: CDK would skip `addPermission` on the imported function (its `sameEnvironment` is false), so it is
 *   told to skip quietly and synth warns instead, with the `aws lambda add-permission` command the function's owner
 *   runs;
 * - the stack is environment-agnostic (the usual `cdk deploy` of Gatehouse): CDK cannot tell and would skip it too
 *   (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda.FunctionAttributes.html#sameenvironment).
 *   The permission is then created under a CloudFormation condition (deployed to the function's account and
 *   Region), and synth warns with the command for the other case.
 */
export function importExistingFunction(scope: Construct, id: string, functionArn: string): IFunction {
  const stack = Stack.of(scope);
  const [, partition, , region, account] = functionArn.split(':') as [string, string, string, string, string];
  const agnostic = Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region);
  const same = agnostic || (stack.account === account && stack.region === region);
  const fn = LambdaFunction.fromFunctionAttributes(scope, id, { functionArn, sameEnvironment: same, skipPermissions: !same });
  if (agnostic) {
    const inFunctionEnvironment = new CfnCondition(fn, 'InFunctionEnvironment', {
      expression: Fn.conditionAnd(Fn.conditionEquals(Aws.ACCOUNT_ID, account), Fn.conditionEquals(Aws.REGION, region)),
    });
    Aspects.of(fn).add(new OnlyInFunctionEnvironment(inFunctionEnvironment));
  }
  if (!same || agnostic) {
    const where = agnostic ? `If ${functionArn} is not in the account and Region this stack is deployed to, the` : 'The';
    Annotations.of(fn).addWarningV2(
      'gatehouse:existingFunctionPermission',
      `${where} stack cannot let API Gateway invoke it (Lambda adds permissions only in the function's own account): ` +
        `after deploying, run with the function owner's credentials: ${addPermissionCommand(functionArn, partition, stack, id)}`,
    );
  }
  return fn;
}

/** The command that grants this stack's API the right to invoke `functionArn` (the RestApiId output fills in the id). */
function addPermissionCommand(functionArn: string, partition: string, stack: Stack, name: string): string {
  const known = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
  const sourceArn = `arn:${partition}:execute-api:${known(stack.region, '<stack region>')}:${known(stack.account, '<stack account>')}:<RestApiId output>/*/*/*`;
  return (
    `aws lambda add-permission --function-name ${functionArn} --statement-id gatehouse-${stack.stackName}-${name} ` +
    `--action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn "${sourceArn}"`
  );
}

/** Puts every permission created on the imported function under the condition (they run in its account only). */
class OnlyInFunctionEnvironment implements IAspect {
  constructor(private readonly condition: CfnCondition) {}

  visit(node: IConstruct): void {
    if (node instanceof CfnPermission) node.cfnOptions.condition = this.condition;
  }
}
