/**
 * Lambda's recursive loop detection, as the local event-source emulator models it.
 *
 * On AWS, the SDK's recursion-detection middleware copies the invocation's X-Ray trace header
 * into every request a function makes; SQS keeps it with the message (the `AWSTraceHeader`
 * system attribute) and Lambda reads it back on the next invocation. Its `Lineage` field counts
 * the invocations of each function in the chain; a function set to `Terminate` is stopped once
 * it would run more than 16 times in one chain, and the event goes to the dead-letter queue
 * (for an SQS trigger, the queue's redrive target):
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html and
 * https://aws.amazon.com/about-aws/whats-new/2023/07/aws-lambda-detects-recursive-loops-lambda-functions/
 *
 * Locally every handler runs in one process and the embedded SQS server keeps no
 * `AWSTraceHeader`, so the chain travels as a message attribute ({@link LINEAGE_ATTRIBUTE}),
 * never in the body: the event source runs each invocation inside {@link runWithLineage}, and
 * a middleware on the SQS client ({@link propagateLineage}) stamps whatever the handler sends
 * during that invocation with the next count. Messages sent outside an invocation (producers,
 * the CLI, tests) start a chain.
 *
 * A batch holds records of several chains; the invocation carries the longest chain of its
 * records, as one trace header serves one invocation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';

/** Message attribute of the local chain: `<function>:<invocations>` pairs joined by `;`. */
const LINEAGE_ATTRIBUTE = 'tappass.lineage';

/** Invocations of each function (by name) in one chain. */
type Lineage = ReadonlyMap<string, number>;

const EMPTY: Lineage = new Map();

/**
 * The lineage a message attribute value spells; an absent or malformed value is a new chain.
 *
 * @example
 * parseLineage('delivery:3;ingest:1').get('delivery'); // 3
 */
const parseLineage = (value: string | undefined): Lineage => {
  if (!value) return EMPTY;
  const lineage = new Map<string, number>();
  for (const pair of value.split(';')) {
    const at = pair.lastIndexOf(':');
    const count = Number(pair.slice(at + 1));
    if (at > 0 && Number.isInteger(count) && count > 0) lineage.set(pair.slice(0, at), count);
  }
  return lineage;
};

/** The attribute value of a lineage (sorted, so equal lineages read the same). */
const formatLineage = (lineage: Lineage): string =>
  [...lineage.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, count]) => `${name}:${count}`)
    .join(';');

/** The longest chain of each function over several lineages (the records of one batch). */
const mergeLineages = (lineages: readonly Lineage[]): Lineage => {
  const merged = new Map<string, number>();
  for (const lineage of lineages) {
    for (const [name, count] of lineage) merged.set(name, Math.max(merged.get(name) ?? 0, count));
  }
  return merged;
};

/** The lineage of what `functionName` sends during an invocation with `lineage`. */
const nextLineage = (lineage: Lineage, functionName: string): Lineage =>
  new Map([...lineage, [functionName, (lineage.get(functionName) ?? 0) + 1]]);

/** The lineage a received message carries (its {@link LINEAGE_ATTRIBUTE}). */
const lineageOf = (attributes: Record<string, MessageAttributeValue> | undefined): Lineage =>
  parseLineage(attributes?.[LINEAGE_ATTRIBUTE]?.StringValue);

const current = new AsyncLocalStorage<string>();

/**
 * Runs an invocation of `functionName` whose records carry `lineage`: the SQS sends it makes
 * (through a client passed to {@link propagateLineage}) carry the next count.
 */
const runWithLineage = <T>(lineage: Lineage, functionName: string, run: () => T): T =>
  current.run(formatLineage(nextLineage(lineage, functionName)), run);

type Attributes = Record<string, MessageAttributeValue>;

const stamped = (attributes: Attributes | undefined, value: string): Attributes => ({
  ...attributes,
  [LINEAGE_ATTRIBUTE]: { DataType: 'String', StringValue: value },
});

/**
 * The queues that trigger a function, per client: only messages sent to them carry the chain,
 * as only they start an invocation; the archive and the ingest DLQ keep what was written.
 */
const triggerQueues = new WeakMap<SQSClient, Set<string>>();

/**
 * Adds the lineage of the running invocation to every `SendMessage` / `SendMessageBatch` made
 * through `sqs` to `triggerQueueUrl` (a queue an event source polls), as the AWS SDK adds the
 * trace header. The middleware is added once per client; each event source adds its queue.
 */
const propagateLineage = (sqs: SQSClient, triggerQueueUrl: string): void => {
  const known = triggerQueues.get(sqs);
  if (known !== undefined) {
    known.add(triggerQueueUrl);
    return;
  }
  const queues = new Set([triggerQueueUrl]);
  triggerQueues.set(sqs, queues);
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const value = current.getStore();
      const queueUrl = (args.input as { QueueUrl?: unknown }).QueueUrl;
      if (value === undefined || typeof queueUrl !== 'string' || !queues.has(queueUrl)) {
        return next(args);
      }
      const input = args.input as {
        MessageAttributes?: Attributes;
        Entries?: { MessageAttributes?: Attributes }[];
      };
      if (context.commandName === 'SendMessageCommand') {
        return next({
          ...args,
          input: {
            ...input,
            MessageAttributes: stamped(input.MessageAttributes, value),
          } as typeof args.input,
        });
      }
      if (context.commandName === 'SendMessageBatchCommand' && Array.isArray(input.Entries)) {
        const entries = input.Entries.map((entry) => ({
          ...entry,
          MessageAttributes: stamped(entry.MessageAttributes, value),
        }));
        return next({ ...args, input: { ...input, Entries: entries } as typeof args.input });
      }
      return next(args);
    },
    { step: 'initialize', name: 'localLambdaLineage' },
  );
};

export type { Lineage };
export {
  formatLineage,
  LINEAGE_ATTRIBUTE,
  lineageOf,
  mergeLineages,
  nextLineage,
  parseLineage,
  propagateLineage,
  runWithLineage,
};
