/**
 * The production timeouts of the AWS clients (shared/awsClientSettings.ts) against a server on
 * 127.0.0.1 that never answers, and one that sends its headers and then stalls its body: both
 * calls end with an error after the client's tries, instead of holding the invocation.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AWS_CALL_LIMITS, awsClientConfig } from '../../shared/awsClientSettings.js';
import { SecretStoreError } from '../../shared/secrets/errors.js';
import { SsmSecretResolver } from '../../shared/secrets/resolvers.js';
import { startFakeSsm } from '../helpers/fakeSsm.js';

type Stall = 'no-answer' | 'body-stalls';

const startStallingServer = async (stall: Stall) => {
  let requests = 0;
  const open = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    requests += 1;
    request.resume();
    open.add(response);
    if (stall === 'body-stalls') {
      response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
      response.write('{"MessageId":');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

describe('AWS client timeouts', () => {
  it.each(['no-answer', 'body-stalls'] as Stall[])(
    'ends an SQS call whose server %s after every try, with a timeout error',
    async (stall) => {
      // Prepare
      const server = await startStallingServer(stall);
      const sqs = new SQSClient({
        ...awsClientConfig('sqs', { region: 'us-east-1' }),
        endpoint: server.url,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });

      try {
        // Act
        const error = await sqs
          .send(
            new SendMessageCommand({
              QueueUrl: `${server.url}/000000000000/q`,
              MessageBody: '{}',
            }),
          )
          .then(
            () => undefined,
            (caught: unknown) => caught as Error,
          );

        // Assess
        expect(error).toBeInstanceOf(Error);
        expect(error?.name).toMatch(/Timeout/);
        expect(server.requests()).toBe(AWS_CALL_LIMITS.sqs.maxAttempts);
      } finally {
        sqs.destroy();
        await server.close();
      }
    },
    60_000,
  );

  it("ends a hung SSM lookup by the client's own timeouts, before the resolver's bound", async () => {
    // Prepare: every GetParameters hangs.
    const ssm = await startFakeSsm({ parameters: { '/tappass/t/TOKEN': 'tok' } });
    ssm.failNext('hang', 10);
    const client = new SSMClient({
      ...awsClientConfig('ssm', { region: 'us-east-1' }),
      endpoint: ssm.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const resolver = new SsmSecretResolver({ client, parameterPrefix: '/tappass/t' });

    try {
      // Act
      const error = await resolver.resolve(['TOKEN'], 'alerts').then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );

      // Assess: the SDK's timeout on each of its tries, not the resolver's own bound.
      expect(error).toBeInstanceOf(SecretStoreError);
      expect(error?.message).toContain('(TimeoutError)');
      expect(ssm.calls.filter((call) => call.answer === 'hang')).toHaveLength(
        AWS_CALL_LIMITS.ssm.maxAttempts,
      );
    } finally {
      client.destroy();
      await ssm.close();
    }
  }, 30_000);
});
