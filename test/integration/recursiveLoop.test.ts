/**
 * Lambda's recursive loop detection, as the event-source emulator models it
 * (`local/lineage.ts`): every retry is a message the delivery function sends to its own trigger
 * queue, so an export with 20 attempts is a chain of 20 delivery invocations. Under Lambda's
 * default (`Terminate`) the 17th is stopped and the record goes to the export's DLQ; the
 * deployed setting (`Allow`, from the topology) lets the delivery finish.
 */
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import {
  LAMBDA_RECURSION_LIMIT,
  RECURSIVE_LOOP,
  type StageTopology,
} from '../../shared/sqs/topology.js';
import { auditEvent, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

const ATTEMPTS = 20;

/** The topology with the delivery function at Lambda's default, which the stack overrides. */
const deliveryTerminates = (topology: StageTopology): StageTopology => ({
  ...topology,
  functions: {
    ...topology.functions,
    delivery: { ...topology.functions.delivery, recursiveLoop: RECURSIVE_LOOP.terminate },
  },
});

/** An export of 20 attempts without backoff, to a receiver that fails 19 times, then accepts. */
const startExport = async (adjustTopology?: (topology: StageTopology) => StageTopology) => {
  const receiver = await stack.receiver((index) =>
    index < ATTEMPTS - 1 ? { status: 503 } : { status: 200 },
  );
  const harness = await stack.pipeline({
    yaml: exportsYaml([
      {
        name: 'pager',
        url: `${receiver.url}/hook`,
        maxAttempts: ATTEMPTS,
        backoffSeconds: [0],
        eventKinds: ['policy_block'],
        // 19 failures in a row would rightly pause the export; this test is about the chain.
        breaker: false,
      },
    ]),
    ...(adjustTopology ? { adjustTopology } : {}),
  });
  return { receiver, harness };
};

describe('Class: EventSourceMapping (recursive loop detection)', () => {
  it('gives the delivery function recursiveLoop Allow and the others Terminate in the topology', async () => {
    // Act
    const { harness } = await startExport();

    // Assess
    const { functions } = harness.pipeline.topology;
    expect(functions.delivery.recursiveLoop).toBe(RECURSIVE_LOOP.allow);
    expect(functions.ingest.recursiveLoop).toBe(RECURSIVE_LOOP.terminate);
    expect(functions.dlq.recursiveLoop).toBe(RECURSIVE_LOOP.terminate);
  });

  it('cuts a 20-attempt delivery after 16 invocations when the delivery function terminates loops', async () => {
    // Prepare
    const { receiver, harness } = await startExport(deliveryTerminates);

    // Act
    await harness.pushEvents([auditEvent()]);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 1, {
      what: 'the stopped delivery archived',
      timeoutMs: 60_000,
    });
    await harness.waitForIdle();

    // Assess
    expect(receiver.requests).toHaveLength(LAMBDA_RECURSION_LIMIT);
    const stopped = harness.pipeline.mappings.reduce(
      (sum, mapping) => sum + mapping.stats.recursionStopped,
      0,
    );
    expect(stopped).toBe(1);
    const letters = (await harness.drainArchive()).map((message) => message.json as DeadLetter);
    expect(letters).toEqual([expect.objectContaining({ export: 'pager', reason: 'redrive' })]);
  });

  it('delivers on the 20th attempt with the deployed setting (Allow)', async () => {
    // Prepare
    const { receiver, harness } = await startExport();

    // Act
    await harness.pushEvents([auditEvent()]);
    await receiver.waitForRequests(ATTEMPTS, 60_000);
    await harness.waitForIdle();

    // Assess
    expect(receiver.requests).toHaveLength(ATTEMPTS);
    expect(harness.noticesOf('dead_letter_archived')).toHaveLength(0);
    expect(await harness.drainArchive()).toEqual([]);
  });
});
