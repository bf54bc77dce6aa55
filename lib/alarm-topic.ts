import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** @default - no subscription: subscribe through the topic's ARN (the stack's AlarmTopicArn output) */
  readonly email?: string;
}

/**
 * The SNS topic the alarms notify when the configuration asks the stack to create one: TLS only, encrypted with a
 * key of its own. CloudWatch alarms cannot publish to a topic encrypted with the AWS managed `aws/sns` key (its
 * policy cannot be changed to let CloudWatch use it), so the choice is a customer managed key or no encryption at
 * rest. The key costs about 1 USD a month; it keeps the topic compliant where an organisation requires encrypted
 * topics (AWS Config `sns-encrypted-kms`, cdk-nag AwsSolutions-SNS2) without an exception to explain.
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const cloudwatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    this.key = new Key(this, 'Key', {
      description: `Encrypts the ${stack.stackName} alarm topic; CloudWatch may use it to publish alarms`,
      enableKeyRotation: true,
      // The key protects only this topic's messages in flight: nothing is left to decrypt once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // What CloudWatch needs to publish to an encrypted topic (SNS developer guide, "Key management": compatibility
    // with AWS services). The key encrypts nothing else, so it reveals nothing else.
    this.key.addToResourcePolicy(new PolicyStatement({ principals: [cloudwatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }));
    this.topic = new Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // Only this account's alarms in this Region may publish (the confused-deputy conditions CloudWatch supports).
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }
}
