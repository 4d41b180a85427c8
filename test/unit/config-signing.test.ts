// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` in plain strings is the config syntax under test.
/**
 * The `webhook.signing` key: `${VAR}`-only secrets, the rotation forms, normalization to
 * `{ secrets: [...] }`, the headers signing owns, and the variables an export then needs.
 */
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import { exportVariableNames } from '../../shared/request/variables.js';

/** A one-export config whose webhook has `signing` (YAML lines, indented) and extra headers. */
const configWith = (signingLines: string, headerLines = ''): string =>
  [
    'exports:',
    '  - name: siem',
    '    destination: webhook',
    '    webhook:',
    '      url: https://siem.example.com/hook',
    ...(headerLines === '' ? [] : ['      headers:', headerLines]),
    '      signing:',
    signingLines,
    '',
  ].join('\n');

const parse = async (yaml: string) => {
  const result = await parseConfig(yaml, 'observability.yaml');
  return { ...result, messages: result.issues.map(formatIssue) };
};

describe('Function: parseConfig() with webhook.signing', () => {
  it.each([
    ['secret', '        secret: "${SIGNING_SECRET}"', ['${SIGNING_SECRET}']],
    [
      'secret + previous_secret',
      '        secret: "${SIGNING_SECRET}"\n        previous_secret: "${SIGNING_SECRET_OLD}"',
      ['${SIGNING_SECRET}', '${SIGNING_SECRET_OLD}'],
    ],
    [
      'secrets',
      '        secrets: ["${SIGNING_SECRET}", "${SIGNING_SECRET_OLD}"]',
      ['${SIGNING_SECRET}', '${SIGNING_SECRET_OLD}'],
    ],
  ])('normalizes %s to secrets, newest first', async (_form, lines, secrets) => {
    // Act
    const { config, messages } = await parse(configWith(lines));

    // Assess
    expect(messages).toEqual([]);
    expect(config?.exports[0]?.webhook.signing).toEqual({ secrets });
  });

  it('refuses a secret written literally, without echoing it', async () => {
    // Prepare
    const literal = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    // Act
    const { config, messages } = await parse(configWith(`        secret: "${literal}"`));

    // Assess
    expect(config).toBeUndefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^observability\.yaml:7:17 exports\[0\]\.webhook\.signing\.secret: is not a \$\{VAR\} reference; put the secret in a \$\{VAR\}/,
    );
    expect(messages.join('\n')).not.toContain('MfKQ9r8');
  });

  it.each([
    [
      'text around a reference',
      '        secret: "whsec_${SIGNING_SECRET}"',
      'signing.secret: must be exactly one ${VAR} reference and nothing else',
    ],
    [
      'a malformed reference',
      '        secret: "${SIGNING-SECRET}"',
      'signing.secret: "${SIGNING-SECRET}" is not a valid reference',
    ],
    ['no secret at all', '        {}', 'signing: needs a secret: write secret: "${'],
    [
      'secret and secrets together',
      '        secret: "${A}"\n        secrets: ["${B}"]',
      'signing.secrets: give either secret (and previous_secret) or secrets, not both',
    ],
    [
      'previous_secret with secrets',
      '        secrets: ["${A}"]\n        previous_secret: "${B}"',
      'signing.previous_secret: goes with secret',
    ],
    [
      'the same variable twice',
      '        secrets: ["${A}", "${A}"]',
      'signing.secrets: names the same ${VAR} twice',
    ],
    [
      'three secrets',
      '        secrets: ["${A}", "${B}", "${C}"]',
      'signing.secrets: has more than 2 secrets',
    ],
    ['an empty secrets list', '        secrets: []', 'signing.secrets: is an empty list'],
    [
      'a misspelt key',
      '        secert: "${A}"',
      'signing.secert: unknown key "secert"; did you mean "secret"?',
    ],
  ])('reports %s', async (_case, lines, expected) => {
    // Act
    const { config, messages } = await parse(configWith(lines));

    // Assess
    expect(config).toBeUndefined();
    expect(messages.join('\n')).toContain(expected);
  });

  it('refuses the Standard Webhooks headers in headers when signing sets them', async () => {
    // Act
    const { messages } = await parse(
      configWith(
        '        secret: "${SIGNING_SECRET}"',
        '        Webhook-Signature: "static"\n        webhook-id: "fixed"\n        X-Team: ops',
      ),
    );

    // Assess
    expect(messages).toEqual([
      'observability.yaml:7:28 exports[0].webhook.headers.Webhook-Signature: is set by signing for every request; remove "Webhook-Signature" from headers',
      'observability.yaml:8:21 exports[0].webhook.headers.webhook-id: is set by signing for every request; remove "webhook-id" from headers',
    ]);
  });
});

describe('Function: exportVariableNames() with signing', () => {
  it('lists the signing secrets, so they are resolved, provisioned and redacted', async () => {
    // Prepare
    const { config } = await parse(
      configWith(
        '        secret: "${SIGNING_SECRET}"\n        previous_secret: "${SIGNING_SECRET_OLD}"',
        '        Authorization: "Bearer ${TOKEN}"',
      ),
    );
    const exportConfig = config?.exports[0];
    if (exportConfig === undefined) throw new Error('the test config did not parse');

    // Act
    const names = exportVariableNames(exportConfig);

    // Assess
    expect(names).toEqual(['TOKEN', 'SIGNING_SECRET', 'SIGNING_SECRET_OLD']);
  });
});
