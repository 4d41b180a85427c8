/**
 * Secrets never leave in pieces: masking runs before every cut, every form of a secret is
 * masked (as is, percent-encoded, JSON-escaped, a secret URL's path and query values), and a cut
 * that ends inside a secret leaves none of it. The property drives random secrets, echoed by an
 * in-memory receiver at random offsets and cut at random lengths, through every place text is
 * kept: the dead letter, the `webhook.dlq` event, the dead_lettered notice as logged, and the
 * test-export report and its printed output.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { printResponse } from '../../cli/testExport.js';
import type { ExportConfig } from '../../shared/config/types.js';
import { createObservability } from '../../shared/observability/observability.js';
import { testDelivery } from '../../shared/pipeline/delivery/testDelivery.js';
import {
  buildDeadLetter,
  dlqEvent,
  newDeliveryMessage,
  RESPONSE_SNIPPET_BYTES,
} from '../../shared/pipeline/messages/index.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import { classifyFor } from '../../shared/request/presets/index.js';
import { substituteUrlVariables } from '../../shared/request/variables.js';
import {
  MIN_URL_PART_CHARS,
  maskSendResult,
  maskThenCut,
  redactSecrets,
  urlCredentialParts,
} from '../../shared/secrets/masking.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import type { HttpClient, OutgoingRequest, SendResult } from '../../shared/transport/http.js';
import { exportWithTemplate, templateEvent } from '../helpers/templateFixtures.js';

const RUN = 6;

/** Every run of {@link RUN} characters of `secret`. */
const runsOf = (secret: string): string[] =>
  Array.from({ length: Math.max(0, secret.length - RUN + 1) }, (_, at) =>
    secret.slice(at, at + RUN),
  );

/** The first run of a secret found in `text`, or undefined. */
const leakIn = (text: string, secrets: readonly string[]): string | undefined =>
  secrets.flatMap(runsOf).find((run) => text.includes(run));

const NOW = new Date('2026-04-17T10:15:35.000Z');

describe('Function: maskThenCut()', () => {
  it('masks a secret that a cut at the snippet limit would split', () => {
    // Prepare: the secret starts 10 bytes before the 1 KiB limit.
    const secret = 'R0UT1NG-KEY-0123456789abcdef';
    const body = `${'x'.repeat(RESPONSE_SNIPPET_BYTES - 10)}${secret} and more`;

    // Act
    const snippet = maskThenCut(body, [secret], { maxBytes: RESPONSE_SNIPPET_BYTES });

    // Assess
    expect(leakIn(snippet, [secret])).toBeUndefined();
    expect(snippet).toContain('***');
    expect(Buffer.byteLength(snippet)).toBeLessThanOrEqual(RESPONSE_SNIPPET_BYTES);
  });

  it.each([
    ['4 or more characters of a secret left by an earlier cut', 'echo R0UT', 'echo ***'],
    ['a longer prefix', 'echo R0UT1NG-K', 'echo ***'],
    ['3 characters (no secret)', 'echo R0U', 'echo R0U'],
    ['text that is no prefix', 'echo plain', 'echo plain'],
  ])('drops %s at the end of text cut already', (_case, text, expected) => {
    // Act
    const masked = maskThenCut(text, ['R0UT1NG-KEY-0123456789abcdef'], { alreadyCut: true });

    // Assess
    expect(masked).toBe(expected);
  });

  it('keeps the end of text that was not cut', () => {
    // Act
    const masked = maskThenCut('ends with R0UT1NG', ['R0UT1NG-KEY-0123456789abcdef']);

    // Assess
    expect(masked).toBe('ends with R0UT1NG');
  });
});

describe('Function: redactSecrets() on percent-encoded echoes', () => {
  const secret = 'abc/def+ghi=JKL9';

  it.each([
    ['an encoder with other safe characters (Python quote)', 'bad token abc/def%2Bghi%3DJKL9'],
    ['lower-case hex', 'bad token abc%2fdef%2bghi%3dJKL9'],
    ['a value encoded twice', 'bad token abc%252Fdef%252Bghi%253DJKL9'],
    ['encoded text around it', 'x %E2%82%AC y abc%2Fdef%2Bghi%3DJKL9 z'],
  ])('masks %s', (_case, text) => {
    // Act
    const masked = redactSecrets(text, [secret]);

    // Assess
    expect(masked).toContain('***');
    expect(masked).not.toMatch(/def|ghi|JKL9/);
  });

  it('leaves a stray or undecodable % as it is', () => {
    // Act, Assess
    expect(redactSecrets('100% sure, %E2%82 broken', [secret])).toBe('100% sure, %E2%82 broken');
  });
});

describe('Function: urlCredentialParts()', () => {
  it(`lists the path, and the segments and query values of ${MIN_URL_PART_CHARS}+ characters`, () => {
    // Act
    const parts = urlCredentialParts(
      'https://hooks.slack.com/services/T0001111/B0002222/XXXXyyyyZZZZ?sig=abc%2Fdefghi&v=1',
    );

    // Assess
    expect(parts).toEqual(
      expect.arrayContaining([
        '/services/T0001111/B0002222/XXXXyyyyZZZZ',
        'services',
        'T0001111',
        'B0002222',
        'XXXXyyyyZZZZ',
        'abc/defghi',
        'abc%2Fdefghi',
      ]),
    );
    expect(parts).not.toContain('1');
    expect(parts).not.toContain('hooks.slack.com');
  });

  it('lists nothing for a value that is not an http(s) URL', () => {
    // Act & Assess
    expect(urlCredentialParts('s3cr3t/with/slashes')).toEqual([]);
    expect(urlCredentialParts('mailto:someone@example.com')).toEqual([]);
  });

  it('masks a 404 page that echoes the path of a secret URL', () => {
    // Prepare
    const url = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

    // Act
    const page = redactSecrets(
      '<pre>Cannot POST /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX</pre>',
      [url],
    );
    const segment = redactSecrets('unknown webhook B00000000', [url]);

    // Assess
    expect(page).toBe('<pre>Cannot POST ***</pre>');
    expect(segment).toBe('unknown webhook ***');
  });
});

describe('Function: substituteUrlVariables()', () => {
  const values = { T: 'a&b=1#x', BASE: 'https://x.test/p?a=1', PATH: 'one/two', Q: 'a=1&b=2' };

  it.each([
    [
      'a query value, percent-encoded',
      'https://x.test/?k=${T}&z=1',
      'https://x.test/?k=a%26b%3D1%23x&z=1',
    ],
    ['a value after a substituted ?', '${BASE}&k=${T}', 'https://x.test/p?a=1&k=a%26b%3D1%23x'],
    ['the path, as is', 'https://x.test/${PATH}', 'https://x.test/one/two'],
    ['the whole query, as is', 'https://x.test/?${Q}', 'https://x.test/?a=1&b=2'],
    ['a query key, as is', 'https://x.test/?${PATH}=1', 'https://x.test/?one/two=1'],
    ['the fragment, as is', 'https://x.test/#${T}', 'https://x.test/#a&b=1#x'],
    ['the whole URL, as is', '${BASE}', 'https://x.test/p?a=1'],
  ])('substitutes %s', (_case, template, expected) => {
    // Act
    const url = substituteUrlVariables(template, values, 'e');

    // Assess
    expect(url).toBe(expected);
  });

  it('keeps every query parameter whatever the value holds (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (token) => {
        // Act
        const url = new URL(
          substituteUrlVariables('https://x.test/?k=${T}&z=1', { T: token }, 'e'),
        );

        // Assess
        expect([...url.searchParams.keys()]).toEqual(['k', 'z']);
        expect(url.searchParams.get('k')).toBe(token);
        expect(url.hash).toBe('');
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The property: every place text is kept.

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALPHABETS = [
  ALPHANUMERIC,
  `${ALPHANUMERIC}-_.~`,
  // URL-special characters.
  `${ALPHANUMERIC}&=?#/%+ :@;,`,
  // JSON-special characters.
  `${ALPHANUMERIC}"\\\n\t\u2028`,
  `${ALPHANUMERIC}éü日本🔑`,
];
/** Text around the echo: none of it is in a secret's alphabet, so a run found is a leak. */
const FILLER = '.:;,()[]<>! ';

const chars = (alphabet: string) => fc.constantFrom(...Array.from(alphabet));
const secretArb = fc
  .constantFrom(...ALPHABETS)
  .chain((alphabet) => fc.string({ unit: chars(alphabet), minLength: 8, maxLength: 48 }));
const segmentArb = fc.string({ unit: chars(`${ALPHANUMERIC}-_`), minLength: 8, maxLength: 32 });
const fillerArb = fc.string({ unit: chars(FILLER), maxLength: 1500 });

/** What a receiver quotes back of the request. */
const ECHOES = ['raw', 'url-encoded', 'json-escaped', 'path', 'url', 'header', 'body'] as const;
type Echo = (typeof ECHOES)[number];

const echoOf = (echo: Echo, request: OutgoingRequest, token: string): string => {
  const url = new URL(request.url);
  switch (echo) {
    case 'raw':
      return token;
    case 'url-encoded':
      return encodeURIComponent(token);
    case 'json-escaped':
      return JSON.stringify(token).slice(1, -1);
    case 'path':
      return `Cannot POST ${url.pathname}${url.search}`;
    case 'url':
      return request.url;
    case 'header':
      return `Authorization: ${request.headers.Authorization ?? ''}`;
    case 'body':
      return request.body;
  }
};

/** A body cut after `length` characters, never between the halves of a surrogate pair. */
const cutAt = (body: string, length: number): string => {
  const cut = body.slice(0, length);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
};

interface Case {
  readonly token: string;
  readonly segments: readonly string[];
  readonly echo: Echo;
  readonly asJson: boolean;
  readonly before: string;
  readonly after: string;
  readonly cut: number;
}

/** A receiver in memory: answers 400 with the echo at the case's offset, cut at its length. */
const echoingClient = (testCase: Case, sent: SendResult[]): HttpClient => ({
  send: async (request) => {
    const echo = echoOf(testCase.echo, request, testCase.token);
    const text = `${testCase.before}${echo}${testCase.after}`;
    const body = testCase.asJson
      ? JSON.stringify({ status: 'invalid event', errors: [text] })
      : text;
    const snippet = cutAt(body, testCase.cut);
    const result: SendResult = {
      status: 400,
      latencyMs: 1,
      bodySnippet: snippet,
      bodyTruncated: snippet.length < body.length,
      errorClass: 'http_status',
      errorMessage: 'HTTP 400',
      headers: { location: request.url, 'x-echo': encodeURIComponent(testCase.token) },
    };
    sent.push(result);
    return result;
  },
  close: async () => undefined,
});

/**
 * An export whose URL is a secret, with a token in its query, its body and (when HTTP can carry
 * it: printable ASCII) a header.
 */
const exportFor = (token: string): ExportConfig => {
  const base = exportWithTemplate('alerts', '{"routing_key": "${TOKEN}", "summary": "x"}');
  return {
    ...base,
    webhook: {
      ...base.webhook,
      // Named, so PagerDuty's `errors` are quoted (cut at 200 characters) in the reason.
      preset: 'pagerduty',
      url: '${HOOK_URL}?k=${TOKEN}',
      headers: /^[\x20-\x7e]*$/.test(token) ? { Authorization: 'Token token=${TOKEN}' } : {},
    },
  };
};

/** The dead_lettered notice as the delivery function logs it. */
const loggedNotice = (notice: Parameters<ReturnType<typeof createObservability>['notify']>[0]) => {
  const lines: string[] = [];
  const capture = (message: string, attributes: unknown) =>
    lines.push(`${message} ${JSON.stringify(attributes)}`);
  const logger = { error: capture, warn: capture, info: capture, debug: capture };
  createObservability({ functionName: 'test', logger: logger as unknown as Logger }).notify(notice);
  return lines.join('\n');
};

describe('Property: no run of 6 characters of a secret survives', () => {
  it('in the dead letter, webhook.dlq, the notice and the test-export report and output', async () => {
    const cases = fc.record({
      token: secretArb,
      segments: fc.array(segmentArb, { minLength: 1, maxLength: 3 }),
      echo: fc.constantFrom(...ECHOES),
      asJson: fc.boolean(),
      before: fillerArb,
      after: fillerArb,
      cut: fc.nat({ max: 4000 }),
    });

    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        // Prepare
        const hookUrl = `https://hooks.example.test/services/${testCase.segments.join('/')}`;
        const variables = { TOKEN: testCase.token, HOOK_URL: hookUrl };
        const secretValues = Object.values(variables);
        const exportConfig = exportFor(testCase.token);
        const event = templateEvent();
        const request = await prepareRequest(exportConfig, event, variables);
        // The forms that must not survive: the values, what the receiver echoes of them, and the
        // credential parts of the secret URL.
        const echoed = echoOf(testCase.echo, request, testCase.token);
        const secrets = [
          testCase.token,
          encodeURIComponent(testCase.token),
          JSON.stringify(testCase.token).slice(1, -1),
          hookUrl,
          ...testCase.segments,
          ...(testCase.echo === 'raw' || testCase.echo === 'url-encoded' ? [echoed] : []),
        ];
        const sent: SendResult[] = [];

        // Act: test-export.
        const report = await testDelivery({
          exportConfig,
          event,
          secrets: new EnvSecretResolver(variables),
          http: echoingClient(testCase, sent),
        });
        const printed: string[] = [];
        printResponse({ ok: true, report }, 'test', {
          out: (line) => printed.push(line),
          err: (line) => printed.push(line),
        });
        // Act: the delivery function, from the raw result (buildDeadLetter masks on its own)
        // and from the masked one the engine classifies.
        const raw = sent[0];
        if (raw === undefined) throw new Error('nothing sent');
        const masked = maskSendResult(raw, secretValues);
        const verdict = classifyFor(exportConfig, masked, request.url);
        const reason = 'reason' in verdict ? verdict.reason : 'delivered';
        const letters = [raw, masked].map((result) =>
          buildDeadLetter({
            message: newDeliveryMessage(event, exportConfig.name),
            reason: 'permanent',
            detail: `${reason}; not retried (permanent failure)`,
            attempts: 1,
            result,
            secretValues,
            now: NOW,
          }),
        );
        const kept = letters.flatMap((letter) => [
          JSON.stringify(letter),
          letter.response_snippet ?? '',
          letter.detail,
          JSON.stringify(dlqEvent(letter, NOW)),
          loggedNotice({
            type: 'dead_lettered',
            export: letter.export,
            auditId: letter.event.audit_id,
            reason: letter.reason,
            detail: letter.detail,
            attempts: letter.attempts,
          }),
        ]);

        // Assess
        for (const text of [JSON.stringify(report), printed.join('\n'), reason, ...kept]) {
          expect(leakIn(text, secrets)).toBeUndefined();
        }
        expect(Buffer.byteLength(letters[0]?.response_snippet ?? '')).toBeLessThanOrEqual(
          RESPONSE_SNIPPET_BYTES,
        );
      }),
      { numRuns: 300 },
    );
  });
});
