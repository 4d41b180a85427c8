import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { LocalPipeline } from '../../local/pipeline.js';
import { localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { parseConfig } from '../../shared/config/index.js';
import type { PipelineNotice } from '../../shared/pipeline/notices.js';
import { EnvSecretResolver } from '../../shared/secrets.js';
import { always, startReceiver } from '../helpers/receivers.js';

describe('smoke', () => {
  it('delivers one event end to end', async () => {
    const server = await startEmbeddedSqs();
    const receiver = await startReceiver(always({ status: 200 }));
    const failing = await startReceiver(always({ status: 503 }));
    const sqs = localSqsClient(server.endpoint);
    const yaml = `exports:
  - name: ok
    destination: webhook
    webhook:
      url: ${receiver.url}/hook
      headers:
        Authorization: "Bearer \${TOKEN}"
  - name: bad
    destination: webhook
    webhook:
      url: ${failing.url}/hook
    filters:
      event_kinds: [policy_block]
    retry:
      max_attempts: 2
      backoff_seconds: [0]
  - name: dlq-watch
    destination: webhook
    webhook:
      url: ${receiver.url}/dlq
    filters:
      event_kinds: [webhook.dlq]
`;
    const parsed = await parseConfig(yaml, 'test.yaml');
    expect(parsed.issues).toEqual([]);
    const notices: PipelineNotice[] = [];
    const pipeline = await LocalPipeline.start({
      sqs,
      config: parsed.config!,
      secrets: new EnvSecretResolver({ TOKEN: 'sekret' }),
      notify: (n) => notices.push(n),
      pollWaitSeconds: 1,
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: pipeline.queues.ingest,
        MessageBody: JSON.stringify({
          audit_id: 'ae_1',
          timestamp: '2026-04-17T10:15:03Z',
          event_kind: 'policy_block',
          severity: 'error',
          agent_id: 'bot',
        }),
      }),
    );
    await receiver.waitForRequests(3, 20000);
    await pipeline.stop();
    await server.stop();
    await receiver.close();
    await failing.close();
    console.log(notices.map((n) => JSON.stringify(n)).join('\n'));
    expect(failing.requests).toHaveLength(2);
  });
});
