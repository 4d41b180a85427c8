/**
 * `producers:` in observability.yaml: every form is accepted and typed as exactly one form;
 * malformed entries are in test/fixtures/bad-configs/producers-*.yaml.
 */
import { parseConfig } from '../../shared/config/index.js';

const EXPORTS = [
  'exports:',
  '  - { name: alerts, destination: webhook, webhook: { url: "https://example.com/hook" } }',
];

describe('Config: producers', () => {
  it('accepts an account, a role, an SNS topic and an EventBridge rule', async () => {
    // Prepare
    const yaml = [
      ...EXPORTS,
      'producers:',
      '  - account: "011122223333"',
      '  - role_arn: arn:aws:iam::111122223333:role/team/audit-writer',
      '  - service: sns.amazonaws.com',
      '    source_arn: arn:aws:sns:eu-west-1:111122223333:tappass-audit',
      '  - service: events.amazonaws.com',
      '    source_arn: arn:aws:events:eu-west-1:111122223333:rule/tappass-audit',
    ].join('\n');

    // Act
    const { config, issues } = await parseConfig(yaml, 'producers.yaml');

    // Assess
    expect(issues).toEqual([]);
    expect(config?.producers).toEqual([
      { account: '011122223333' },
      { role_arn: 'arn:aws:iam::111122223333:role/team/audit-writer' },
      {
        service: 'sns.amazonaws.com',
        source_arn: 'arn:aws:sns:eu-west-1:111122223333:tappass-audit',
      },
      {
        service: 'events.amazonaws.com',
        source_arn: 'arn:aws:events:eu-west-1:111122223333:rule/tappass-audit',
      },
    ]);
  });

  it('leaves producers absent when the key is', async () => {
    // Act
    const { config } = await parseConfig(EXPORTS.join('\n'), 'plain.yaml');

    // Assess
    expect(config).toBeDefined();
    expect(config?.producers).toBeUndefined();
  });
});
