import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  AWS_CALL_LIMITS,
  type AwsService,
  awsClientConfig,
  worstCaseCallMs,
} from '../../shared/awsClientSettings.js';
import { LOOKUP_TIMEOUT_MS } from '../../shared/secrets/resolvers.js';
import { PLAIN_FUNCTION_TIMEOUT_SECONDS } from '../../shared/sqs/queueSettings.js';

describe('AWS client settings', () => {
  it.each(['sqs', 'ssm', 'lambda'] as AwsService[])(
    'gives %s clients a connection and a request timeout that throws',
    (service) => {
      const config = awsClientConfig(service, { region: 'eu-west-1' });

      expect(config.region).toBe('eu-west-1');
      expect(config.requestHandler.connectionTimeout).toBeGreaterThan(0);
      expect(config.requestHandler.requestTimeout).toBeGreaterThan(0);
      expect(config.requestHandler.throwOnRequestTimeout).toBe(true);
      // Also once the headers are in: a stalled body ends the call too.
      expect(config.requestHandler.socketTimeout).toBe(config.requestHandler.requestTimeout);
      expect(config.maxAttempts).toBe(AWS_CALL_LIMITS[service].maxAttempts);
    },
  );

  it('builds SDK clients whose request handler carries the timeouts', async () => {
    const sqs = new SQSClient(awsClientConfig('sqs', { region: 'eu-west-1' }));
    const ssm = new SSMClient(awsClientConfig('ssm', { region: 'eu-west-1' }));

    const handlerConfig = async (client: SQSClient | SSMClient) =>
      (
        client.config.requestHandler as unknown as {
          configProvider: Promise<Record<string, unknown>>;
        }
      ).configProvider;

    await expect(handlerConfig(sqs)).resolves.toMatchObject({
      connectionTimeout: AWS_CALL_LIMITS.sqs.connectionTimeoutMs,
      requestTimeout: AWS_CALL_LIMITS.sqs.requestTimeoutMs,
      throwOnRequestTimeout: true,
    });
    await expect(handlerConfig(ssm)).resolves.toMatchObject({
      requestTimeout: AWS_CALL_LIMITS.ssm.requestTimeoutMs,
    });
    sqs.destroy();
    ssm.destroy();
  });

  it('bounds one SQS or SSM call, every try timing out, well within the shortest function timeout', () => {
    const shortestFunctionMs = PLAIN_FUNCTION_TIMEOUT_SECONDS * 1000;

    expect(worstCaseCallMs(AWS_CALL_LIMITS.sqs)).toBeLessThanOrEqual(shortestFunctionMs / 2);
    expect(worstCaseCallMs(AWS_CALL_LIMITS.ssm)).toBeLessThanOrEqual(shortestFunctionMs / 4);
  });

  it("lets the SSM client's own timeouts act before the resolver's lookup bound", () => {
    expect(worstCaseCallMs(AWS_CALL_LIMITS.ssm)).toBeLessThan(LOOKUP_TIMEOUT_MS);
  });

  it("gives a test invocation longer than Lambda's longest function timeout", () => {
    expect(AWS_CALL_LIMITS.lambda.requestTimeoutMs).toBeGreaterThan(900_000);
    expect(AWS_CALL_LIMITS.lambda.maxAttempts).toBe(1);
  });
});
