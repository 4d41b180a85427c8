/**
 * The config's `producers:` become statements of the ingest queue's resource policy, allowing
 * only `sqs:SendMessage`, a service only for its source ARN.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { configFromYaml, exportYaml, logicalId, synthStack } from './stackFactory.js';

const PRODUCERS_YAML = [
  'exports:',
  exportYaml('plain'),
  'producers:',
  '  - account: "111122223333"',
  '  - role_arn: arn:aws:iam::444455556666:role/audit-writer',
  '  - service: sns.amazonaws.com',
  '    source_arn: arn:aws:sns:eu-west-1:111122223333:tappass-audit',
  '  - service: events.amazonaws.com',
  '    source_arn: arn:aws:events:eu-west-1:111122223333:rule/tappass-audit',
].join('\n');

describe('Stack: producers in the ingest queue policy', () => {
  it('allows sqs:SendMessage to an account, a role, and services for their source ARN', async () => {
    // Prepare
    const config = await configFromYaml(PRODUCERS_YAML);

    // Act
    const { stack, template } = synthStack(config);

    // Assess
    const ingest = { Ref: logicalId(stack, stack.queues.ingest) };
    const allow = (sid: string, principal: unknown, extra: Record<string, unknown> = {}) =>
      Match.objectLike({
        Sid: sid,
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: principal,
        Resource: { 'Fn::GetAtt': [ingest.Ref, 'Arn'] },
        ...extra,
      });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ingest],
      PolicyDocument: {
        Statement: Match.arrayWith([
          allow('Producer0', {
            AWS: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']],
            },
          }),
          allow('Producer1', { AWS: 'arn:aws:iam::444455556666:role/audit-writer' }),
          allow(
            'Producer2',
            { Service: 'sns.amazonaws.com' },
            {
              Condition: {
                ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:eu-west-1:111122223333:tappass-audit' },
              },
            },
          ),
          allow(
            'Producer3',
            { Service: 'events.amazonaws.com' },
            {
              Condition: {
                ArnEquals: {
                  'aws:SourceArn': 'arn:aws:events:eu-west-1:111122223333:rule/tappass-audit',
                },
              },
            },
          ),
        ]),
      },
    });
  });

  it('adds no producer statement without producers', async () => {
    // Prepare
    const config = await configFromYaml(['exports:', exportYaml('plain')].join('\n'));

    // Act
    const { template } = synthStack(config);

    // Assess
    const documents = Object.values(template.findResources('AWS::SQS::QueuePolicy')).map(
      (resource) => JSON.stringify(resource),
    );
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) expect(document).not.toContain('Producer');
  });
});
