import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { createPipelineQueues } from '../../local/pipeline.js';
import {
  type EmbeddedSqsServer,
  escapeAstralInJson,
  localSqsClient,
  startEmbeddedSqs,
} from '../../local/sqsServer.js';
import { configFromYaml, exportsYaml } from '../helpers/pipeline.js';

describe('Function: createPipelineQueues()', () => {
  let server: EmbeddedSqsServer;

  beforeAll(async () => {
    server = await startEmbeddedSqs();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('brings queues kept from an earlier run with other settings to the new ones', async () => {
    // Prepare
    const sqs = localSqsClient(server.endpoint);
    const config = await configFromYaml(
      exportsYaml([{ name: 'hook', url: 'http://127.0.0.1:9/' }]),
    );
    await createPipelineQueues(sqs, config, 'rerun', 30);

    // Act
    const queues = await createPipelineQueues(sqs, config, 'rerun', 45);

    // Assess
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.delivery('hook'),
        AttributeNames: ['VisibilityTimeout'],
      }),
    );
    expect(attributes.Attributes?.VisibilityTimeout).toBe('45');
  });
});

describe('Function: localSqsClient()', () => {
  let server: EmbeddedSqsServer;

  beforeAll(async () => {
    server = await startEmbeddedSqs();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('carries emoji in JSON bodies, which the embedded server would refuse raw', async () => {
    // Prepare
    const sqs = localSqsClient(server.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'emoji' }));
    const event = { audit_id: 'ae_1', summary: 'blocked 🚫 by policy 🔒', nested: ['👍'] };

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));

    // Assess
    expect(JSON.parse(received.Messages?.[0]?.Body ?? 'null')).toEqual(event);
  });

  it('leaves a body that is not JSON as it is', () => {
    // Act & Assess
    expect(escapeAstralInJson('plain 🚫 text')).toBe('plain 🚫 text');
    expect(escapeAstralInJson('{"a":"x"}')).toBe('{"a":"x"}');
  });
});
