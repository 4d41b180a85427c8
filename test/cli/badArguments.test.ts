/**
 * Every command given bad arguments, run as a user runs it (a child process): each failure is
 * one line on stderr and the documented exit code (docs/cli.md, cli/io.ts), never a stack
 * trace, a help dump or SDK internals (`$response`, `SyntaxError`, `TypeError`, exception
 * class names). Endpoints that are not SQS are plain HTTP servers on 127.0.0.1 answering HTML.
 */

import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { closedPortUrl } from '../../local/receivers.js';
import { runCli } from '../helpers/cli.js';
import { useTestStack } from '../helpers/testStack.js';

const USAGE = 2;
const FAILED = 1;

/** What a CLI failure must never print. */
const INTERNALS =
  /^\s{4}at |\$response|\$metadata|SyntaxError|TypeError|RangeError|ServiceException|Deserialization|CredentialsProviderError|Usage:|Invalid URL|Region is missing/m;

const stack = useTestStack();
let dir: string;
/** Paths and URLs the rows use, filled in `beforeAll`. */
const at = {
  config: '',
  event: '',
  bigNumberEvent: '',
  exponentEvent: '',
  notJsonEvent: '',
  missing: '',
  html: '',
  html404: '',
  closed: '',
  busyPort: '',
};

/** Environment for the Lambda client of `test-export --stage`: an HTML page, never AWS. */
const lambdaAtHtml = (): NodeJS.ProcessEnv => ({
  AWS_ENDPOINT_URL_LAMBDA: at.html,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
});

const event = (extra: string): string =>
  `{"audit_id":"ae_args","timestamp":"2026-04-17T10:15:03Z","event_kind":"policy_block","severity":"error"${extra}}`;

beforeAll(async () => {
  dir = await stack.tempDir('cli-bad-args-');
  const receiver = await stack.receiver({ status: 200 });
  const html = await stack.receiver({
    status: 200,
    headers: { 'content-type': 'text/html' },
    body: '<html><body><h1>Welcome</h1></body></html>',
  });
  const html404 = await stack.receiver({
    status: 404,
    headers: { 'content-type': 'text/html' },
    body: '<html><body>Not Found</body></html>',
  });
  // A port something else holds, for `start --port`.
  const busy = stack.add(createServer().listen(0, '127.0.0.1'), (server) => {
    server.close();
  });
  await new Promise((resolve) => busy.once('listening', resolve));
  at.busyPort = String((busy.address() as { port: number }).port);
  at.html = html.url;
  at.html404 = html404.url;
  at.closed = await closedPortUrl();
  at.config = join(dir, 'observability.yaml');
  await writeFile(
    at.config,
    `exports:\n  - name: hook\n    destination: webhook\n    webhook:\n      url: "${receiver.url}/hook"\n`,
  );
  at.event = join(dir, 'event.json');
  await writeFile(at.event, event(''));
  at.bigNumberEvent = join(dir, 'big-number.json');
  await writeFile(at.bigNumberEvent, event(',"details":{"ids":[1,1234567890123456789]}'));
  at.exponentEvent = join(dir, 'exponent.json');
  await writeFile(at.exponentEvent, event(',"score":1e400'));
  at.notJsonEvent = join(dir, 'not-json.json');
  await writeFile(at.notJsonEvent, '{"audit_id": ');
  at.missing = join(dir, 'missing.json');
});

interface Row {
  readonly args: () => readonly string[];
  readonly code: number;
  /** What the one line says. */
  readonly says: RegExp;
  readonly env?: () => NodeJS.ProcessEnv;
}

const rows: Record<string, Row> = {
  'no such command': { args: () => ['frobnicate'], code: USAGE, says: /unknown command/ },
  'validate: unknown option': {
    args: () => ['validate', '--bogus'],
    code: USAGE,
    says: /unknown option '--bogus'/,
  },
  'validate: missing config file': {
    args: () => ['validate', '--config', at.missing],
    code: USAGE,
    says: /cannot read the config file \(no such file\)/,
  },
  'validate: a directory as config': {
    args: () => ['validate', '--config', dir],
    code: USAGE,
    says: /cannot read the config file/,
  },
  'validate: --config without a value': {
    args: () => ['validate', '--config'],
    code: USAGE,
    says: /argument missing/,
  },
  'render: no --export': {
    args: () => ['render', '--config', at.config],
    code: USAGE,
    says: /--export/,
  },
  'render: unknown export': {
    args: () => ['render', '--config', at.config, '--export', 'nope'],
    code: USAGE,
    says: /no export named "nope"; the config has: hook/,
  },
  'render: missing config file': {
    args: () => ['render', '--config', at.missing, '--export', 'hook'],
    code: USAGE,
    says: /no such file/,
  },
  'render: missing --event file': {
    args: () => ['render', '--config', at.config, '--export', 'hook', '--event', at.missing],
    code: USAGE,
    says: /cannot read the event file \(no such file\)/,
  },
  'render: --event not JSON': {
    args: () => ['render', '--config', at.config, '--export', 'hook', '--event', at.notJsonEvent],
    code: USAGE,
    says: /not JSON/,
  },
  'render: --event with an integer above 2^53': {
    args: () => [
      'render',
      ...['--config', at.config, '--export', 'hook', '--event', at.bigNumberEvent],
    ],
    code: USAGE,
    says: /details\.ids\[1\]: the event holds the number 1234567890123456789, which cannot be kept exactly \(it would arrive as 1234567890123456800\); send it as a string/,
  },
  'render: --event with 1e400': {
    args: () => [
      'render',
      ...['--config', at.config, '--export', 'hook', '--event', at.exponentEvent],
    ],
    code: USAGE,
    says: /score: the event holds the number 1e400, which cannot be kept exactly \(it would arrive as null\)/,
  },
  'test-export: unknown export': {
    args: () => ['test-export', '--config', at.config, '--export', 'nope'],
    code: USAGE,
    says: /nope/,
  },
  'test-export: --event with an integer above 2^53': {
    args: () => [
      'test-export',
      ...['--config', at.config, '--export', 'hook', '--event', at.bigNumberEvent],
    ],
    code: USAGE,
    says: /the event holds the number 1234567890123456789, which cannot be kept exactly/,
  },
  'test-export: a stage name that cannot be one': {
    args: () => ['test-export', '--export', 'hook', '--stage', 'Not A Stage!'],
    code: USAGE,
    says: /stage "Not A Stage!" cannot be used/,
  },
  'test-export: a Lambda endpoint that answers HTML': {
    args: () => ['test-export', '--export', 'hook', '--stage', 'prod'],
    env: lambdaAtHtml,
    code: USAGE,
    says: /tappass-prod-delivery answered with something that is not JSON: the Lambda endpoint is not AWS Lambda/,
  },
  'test-export: a Lambda endpoint that answers HTML 404': {
    args: () => ['test-export', '--export', 'hook', '--stage', 'prod'],
    env: () => ({ ...lambdaAtHtml(), AWS_ENDPOINT_URL_LAMBDA: at.html404 }),
    code: USAGE,
    says: /could not invoke tappass-prod-delivery: the Lambda endpoint sent HTTP 404 that is not a Lambda response/,
  },
  'push: no file argument': {
    args: () => ['push'],
    code: USAGE,
    says: /missing required argument/,
  },
  'push: missing file': {
    args: () => ['push', at.missing],
    code: USAGE,
    says: /cannot read \(no such file\)/,
  },
  'push: --endpoint not-a-url': {
    args: () => ['push', at.event, '--endpoint', 'not-a-url'],
    code: USAGE,
    says: /^--endpoint "not-a-url" is not an http\(s\) URL; for example --endpoint http:\/\/127\.0\.0\.1:4566$/,
  },
  'push: --endpoint of another scheme': {
    args: () => ['push', at.event, '--endpoint', 'ftp://127.0.0.1/'],
    code: USAGE,
    says: /is not an http\(s\) URL/,
  },
  'push: an endpoint that answers HTML': {
    args: () => ['push', at.event, '--endpoint', at.html],
    code: USAGE,
    says: /is not an SQS endpoint: it sent HTTP 200 that is not an SQS response; check --endpoint/,
  },
  'push: --queue-url on an endpoint that answers HTML 404': {
    args: () => [
      'push',
      ...[at.event, '--endpoint', at.html404, '--queue-url', `${at.html404}/000000000000/q`],
    ],
    code: USAGE,
    says: /nothing sent: .* is not an SQS endpoint: it sent HTTP 404/,
  },
  'push: --queue-url not-a-url': {
    args: () => ['push', at.event, '--queue-url', 'not-a-url'],
    code: USAGE,
    says: /^--queue-url "not-a-url" is not a queue URL; for example https:\/\/sqs\./,
  },
  'push: --region that is not one': {
    args: () => [
      'push',
      ...[at.event, '--queue-url', 'https://sqs.eu-west-1.amazonaws.com/1/q', '--region', 'moon'],
    ],
    code: USAGE,
    says: /--region "moon" is not an AWS region/,
  },
  'push: nothing listening at the endpoint': {
    args: () => ['push', at.event, '--endpoint', at.closed],
    code: USAGE,
    says: /no SQS server answers at http:\/\/127\.0\.0\.1:\d+/,
  },
  'push: an event with an integer above 2^53': {
    args: () => ['push', at.bigNumberEvent, '--endpoint', at.html],
    code: FAILED,
    says: /the event: details\.ids\[1\]: the event holds the number 1234567890123456789, which cannot be kept exactly .*; nothing sent$/,
  },
  'push: a stage name that cannot be one': {
    args: () => ['push', at.event, '--stage', 'Bad!'],
    code: USAGE,
    says: /stage "Bad!" cannot be used/,
  },
  'dlq: no subcommand action': {
    args: () => ['dlq', 'frob'],
    code: USAGE,
    says: /unknown command/,
  },
  'dlq list: --endpoint not-a-url': {
    args: () => ['dlq', 'list', '--endpoint', 'not-a-url'],
    code: USAGE,
    says: /--endpoint "not-a-url" is not an http\(s\) URL/,
  },
  'dlq list: an endpoint that answers HTML': {
    args: () => ['dlq', 'list', '--endpoint', at.html],
    code: USAGE,
    says: /is not an SQS endpoint: it sent HTTP 200/,
  },
  'dlq list: a stage name that cannot be one': {
    args: () => ['dlq', 'list', '--stage', 'Bad!'],
    code: USAGE,
    says: /stage "Bad!" cannot be used/,
  },
  'dlq show: no id': {
    args: () => ['dlq', 'show'],
    code: USAGE,
    says: /missing required argument 'id'/,
  },
  'dlq show: an endpoint that answers HTML 404': {
    args: () => ['dlq', 'show', 'ae_1', '--endpoint', at.html404],
    code: USAGE,
    says: /is not an SQS endpoint: it sent HTTP 404/,
  },
  'dlq redrive: --endpoint not-a-url': {
    args: () => ['dlq', 'redrive', '--endpoint', 'http//missing-colon'],
    code: USAGE,
    says: /is not an http\(s\) URL/,
  },
  'dlq redrive: nothing listening at the endpoint': {
    args: () => ['dlq', 'redrive', '--endpoint', at.closed],
    code: USAGE,
    says: /no SQS server answers at/,
  },
  'start: --port not a number': {
    args: () => ['start', '--port', 'abc'],
    code: USAGE,
    says: /a port is an integer from 0 to 65535 \(see --help\)$/,
  },
  'start: --port out of range': {
    args: () => ['start', '--port', '70000'],
    code: USAGE,
    says: /a port is an integer from 0 to 65535/,
  },
  'start: --port already taken': {
    args: () => ['start', '--config', at.config, '--port', at.busyPort],
    code: USAGE,
    says: new RegExp(`port ${'\\d+'}|in use|EADDRINUSE`),
  },
  'start: missing config file': {
    args: () => ['start', '--config', at.missing],
    code: USAGE,
    says: /no such file/,
  },
  'start: --visibility-timeout 0': {
    args: () => ['start', '--visibility-timeout', '0'],
    code: USAGE,
    says: /a visibility timeout is a whole number of seconds, 1 to 43200/,
  },
  'schema: unknown option': {
    args: () => ['schema', '--bogus'],
    code: USAGE,
    says: /unknown option '--bogus'/,
  },
  'schema: an argument it does not take': {
    args: () => ['schema', 'extra'],
    code: USAGE,
    says: /too many arguments/,
  },
};

describe('Command: every command, given bad arguments', () => {
  it.concurrent.each(Object.entries(rows))(
    '%s: one line, the documented exit code, no internals',
    async (_name, row) => {
      // Act
      const { code, stderr } = await runCli(row.args(), {
        ...(row.env ? { env: row.env() } : {}),
        timeoutMs: 60_000,
      });

      // Assess
      const lines = stderr.split('\n').filter((line) => line.trim() !== '');
      expect({ code, lines: lines.length }).toEqual({ code: row.code, lines: 1 });
      expect(lines[0]).toMatch(row.says);
      expect(stderr).not.toMatch(INTERNALS);
    },
    90_000,
  );
});
