import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { GSI1, TABLE_KEYS, TTL_ATTRIBUTE } from '../contract/table';

export interface GatehouseTableProps {
  /** @default true - the table cannot be deleted, and is retained if the stack is */
  readonly deletionProtection?: boolean;
  /** @default - an AWS managed key (aws/dynamodb) */
  readonly encryptionKey?: IKey;
}

/**
 * The one table of API keys (by hash), tenants, members, revoked sessions and tenant data: string keys `pk`/`sk`,
 * one index `gsi1` for listing, on-demand capacity, encryption at rest, point-in-time recovery, and a `ttl`
 * attribute for records that expire on their own. Item shapes: contract/table.ts.
 */
export class GatehouseTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: GatehouseTableProps = {}) {
    super(scope, id);
    const protect = props.deletionProtection ?? true;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: protect,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Listing (a tenant's API keys, all tenants, a user's memberships); the request path never queries it.
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1.name,
      partitionKey: { name: GSI1.partition, type: AttributeType.STRING },
      sortKey: { name: GSI1.sort, type: AttributeType.STRING },
    });
  }
}
