/**
 * The ingest queue's resource-policy statements for the config's `producers:`: who outside the
 * stack may send audit events to it. The stack's producer policy covers principals of the
 * stack's own account; these cover other accounts, roles, and SNS topics or EventBridge rules,
 * which cannot be given an IAM policy of ours.
 */
import {
  AccountPrincipal,
  ArnPrincipal,
  type IPrincipal,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { ProducerConfig } from '../shared/config/types.js';

/** The principal a producer entry stands for. */
const principalOf = (producer: ProducerConfig): IPrincipal => {
  if ('account' in producer) return new AccountPrincipal(producer.account);
  if ('role_arn' in producer) return new ArnPrincipal(producer.role_arn);
  return new ServicePrincipal(producer.service);
};

/**
 * One `sqs:SendMessage` statement per producer on the queue; a service may send only for its
 * `source_arn` (the `aws:SourceArn` condition), so no other topic or rule of any account can
 * use the grant (the confused-deputy problem).
 *
 * @example
 * for (const statement of producerStatements(config.producers ?? [], queue.queueArn)) {
 *   queue.addToResourcePolicy(statement);
 * }
 */
const producerStatements = (
  producers: readonly ProducerConfig[],
  queueArn: string,
): PolicyStatement[] =>
  producers.map(
    (producer, index) =>
      new PolicyStatement({
        sid: `Producer${index}`,
        actions: ['sqs:SendMessage'],
        principals: [principalOf(producer)],
        resources: [queueArn],
        ...('service' in producer
          ? { conditions: { ArnEquals: { 'aws:SourceArn': producer.source_arn } } }
          : {}),
      }),
  );

export { producerStatements };
