/**
 * `test-export`: sends one event (a synthetic one that passes the export's filters, or
 * `--event <file>`) to one export, once, and prints the request with secret values masked,
 * the answer and what the pipeline would do with it. From this machine with `${VAR}`s from
 * the environment and `.env`, or with `--stage` through the deployed delivery function, so the
 * deployed secrets and network path are what is tested. Both print the same report.
 */
import { STATUS_CODES } from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Command } from 'commander';
import { environmentWithDotEnv } from '../local/stack.js';
import { awsClientConfig } from '../shared/awsClientSettings.js';
import { type AuditEvent, formatEventProblems } from '../shared/events/auditEvent.js';
import {
  answerTestInvocation,
  TEST_INVOCATION_ERRORS,
  TEST_INVOCATION_KEY,
  type TestDeliveryReport,
  type TestInvocation,
  type TestInvocationResponse,
} from '../shared/pipeline/delivery/testDelivery.js';
import { EnvSecretResolver } from '../shared/secrets/resolvers.js';
import { assertStageName, functionName, StageNameError } from '../shared/sqs/queueNames.js';
import { createHttpClient, type HttpClient } from '../shared/transport/http.js';
import { guardedConnector } from '../shared/transport/networkGuard.js';
import { readEventFile } from './eventFile.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';
import { loadConfigForCommand } from './loadConfig.js';
import { DEFAULT_CONFIG_PATH } from './validate.js';

/** Options of {@link runTestExport}. */
interface TestExportOptions {
  readonly export: string;
  /** Read only without `stage`: a deployed function uses its deployed config. */
  readonly config: string;
  readonly event?: string;
  /** Test through this stage's deployed delivery function. */
  readonly stage?: string;
  readonly region?: string;
  /** Where `${VAR}`s are read locally (a `.env` file adds to it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The `.env` file read locally. @default '.env' */
  readonly dotEnvPath?: string;
  /**
   * Send locally through the SSRF guard, as the deployed delivery function does: refuse
   * loopback, private, link-local and metadata addresses unless the export allows them.
   */
  readonly blockPrivateNetwork?: boolean;
}

/** Clients of {@link runTestExport}; tests inject them, the CLI makes its own. */
interface TestExportDeps {
  readonly lambda?: LambdaClient;
  readonly http?: HttpClient;
}

/** Most response-body characters printed; the rest is summarized. */
const MAX_PRINTED_BODY_CHARS = 4_000;

/**
 * Makes a receiver's text safe for a terminal: control characters (escape sequences could
 * rewrite the screen) shown as `\uXXXX`; newlines and tabs kept.
 */
const printable = (text: string): string =>
  text
    .replace(/\r\n/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (character) => {
      return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
    });

const printBody = (report: TestDeliveryReport, output: CliOutput): void => {
  const { bodySnippet, bodyTruncated } = report.result;
  if (bodySnippet === '') {
    output.out('response body: (empty)');
    return;
  }
  output.out('response body:');
  const shown = printable(bodySnippet.slice(0, MAX_PRINTED_BODY_CHARS));
  for (const line of shown.split('\n')) output.out(`  ${line}`);
  if (bodySnippet.length > MAX_PRINTED_BODY_CHARS || bodyTruncated) {
    output.out('  … (cut: only the start of the body is shown)');
  }
};

const whatThePipelineDoes = (report: TestDeliveryReport): string =>
  report.verdict.outcome === 'retry'
    ? `the pipeline would retry it (${report.maxAttempts} attempts in all, then dead-letter it)`
    : 'the pipeline would dead-letter it without retrying';

/**
 * Prints a test delivery's report: the event, the request (masked), the answer, and a verdict.
 * Returns 0 for a 2xx, 1 for anything else.
 */
const printReport = (report: TestDeliveryReport, output: CliOutput): ExitCode => {
  const { event, request, result, verdict } = report;
  const kind = event.synthetic ? 'synthetic event' : 'event';
  output.out(
    `export ${report.export}: ${kind} ${event.audit_id} (${event.event_kind}, ${event.severity})`,
  );
  if (!event.passes_filters) {
    output.err(
      `WARNING: this event does not pass the filters of export "${report.export}": the pipeline would not send it there`,
    );
  }
  output.out(`${request.method} ${request.url}`);
  for (const [name, value] of Object.entries(request.headers)) output.out(`  ${name}: ${value}`);
  output.out(`  (body ${request.bodyBytes} bytes, timeout ${request.timeoutSeconds} s)`);
  if (result.status === undefined) {
    output.out(`no response after ${result.latencyMs} ms: ${result.errorMessage ?? 'no answer'}`);
  } else {
    const reason = STATUS_CODES[result.status];
    output.out(`HTTP ${result.status}${reason ? ` ${reason}` : ''} in ${result.latencyMs} ms`);
  }
  if (verdict.outcome === 'success') {
    output.out('OK: the receiver accepted the event');
    return EXIT_CODES.ok;
  }
  if (result.status !== undefined) printBody(report, output);
  output.err(`FAILED: ${verdict.reason}; ${whatThePipelineDoes(report)}`);
  return EXIT_CODES.failed;
};

/**
 * Prints a test invocation's answer, local or from the deployed function, and returns the
 * exit code: 0 delivered, 1 the receiver or the secret store failed, 2 a config problem.
 */
const printResponse = (
  response: TestInvocationResponse,
  where: string,
  output: CliOutput,
): ExitCode => {
  if (response.ok) return printReport(response.report, output);
  const { error } = response;
  if (error.code === TEST_INVOCATION_ERRORS.unknownExport) {
    output.err(`${where}: ${error.message}`);
    return EXIT_CODES.usage;
  }
  if (error.code === TEST_INVOCATION_ERRORS.invalidEvent) {
    output.err(
      `the event is not a valid audit event: ${formatEventProblems(error.problems ?? [])}`,
    );
    return EXIT_CODES.usage;
  }
  output.err(error.message);
  return error.code === TEST_INVOCATION_ERRORS.secrets ? EXIT_CODES.failed : EXIT_CODES.usage;
};

const isResponse = (value: unknown): value is TestInvocationResponse => {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { ok?: unknown; report?: unknown; error?: unknown };
  if (candidate.ok === true) return typeof candidate.report === 'object';
  return candidate.ok === false && typeof candidate.error === 'object';
};

/** A Lambda API error as a sentence that says what to do. */
const describeInvokeError = (error: unknown, name: string, region: string | undefined): string => {
  const errorName = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (errorName === 'ResourceNotFoundException') {
    return `function ${name} was not found${region ? ` in ${region}` : ''}: deploy the stage, or check --stage and --region`;
  }
  if (errorName === 'CredentialsProviderError') {
    return `no AWS credentials: configure a profile or environment credentials (the standard credential chain) (${message})`;
  }
  if (/region is missing/i.test(message)) {
    return 'no AWS region: pass --region or set AWS_REGION';
  }
  // A reply the SDK could not read (an HTML page from a proxy or a wrong endpoint): say so,
  // without the SDK's hints about hidden fields.
  if (/\$response|Deserialization/.test(message)) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `could not invoke ${name}: the Lambda endpoint sent ${status === undefined ? 'an answer' : `HTTP ${status}`} that is not a Lambda response (is AWS_ENDPOINT_URL or a proxy pointing elsewhere?)`;
  }
  if (/\bECONNREFUSED\b/.test(message)) {
    return `could not invoke ${name}: the Lambda endpoint refused the connection (is AWS_ENDPOINT_URL or a proxy pointing elsewhere?)`;
  }
  return `could not invoke ${name}: ${errorName}: ${message.split('\n', 1)[0]}`;
};

/** Sends the test invocation to the stage's delivery function and prints its answer. */
const testThroughStage = async (
  options: TestExportOptions & { readonly stage: string },
  event: AuditEvent | undefined,
  output: CliOutput,
  deps: TestExportDeps,
): Promise<ExitCode> => {
  let name: string;
  try {
    name = functionName(assertStageName(options.stage), 'delivery');
  } catch (error) {
    if (!(error instanceof StageNameError)) throw error;
    output.err(error.message);
    return EXIT_CODES.usage;
  }
  const payload: TestInvocation = {
    [TEST_INVOCATION_KEY]: { export: options.export, ...(event ? { event } : {}) },
  };
  const lambda =
    deps.lambda ??
    new LambdaClient(awsClientConfig('lambda', options.region ? { region: options.region } : {}));
  output.out(`via ${name} (stage ${options.stage}, Lambda Invoke)`);
  try {
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: name,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (response.FunctionError) {
      const failure = answer as { errorType?: string; errorMessage?: string } | undefined;
      output.err(
        `the delivery function failed (${response.FunctionError}): ${failure?.errorType ?? 'Error'}: ${failure?.errorMessage ?? text}`,
      );
      return EXIT_CODES.failed;
    }
    if (answer === undefined && text !== '') {
      output.err(
        `${name} answered with something that is not JSON: the Lambda endpoint is not AWS Lambda (is AWS_ENDPOINT_URL or a proxy pointing elsewhere?)`,
      );
      return EXIT_CODES.usage;
    }
    if (!isResponse(answer)) {
      output.err(
        `${name} did not answer the test invocation: redeploy stage ${options.stage} with this version`,
      );
      return EXIT_CODES.usage;
    }
    return printResponse(answer, `stage ${options.stage}`, output);
  } catch (error) {
    output.err(describeInvokeError(error, name, options.region));
    return EXIT_CODES.usage;
  } finally {
    if (!deps.lambda) lambda.destroy();
  }
};

/** Sends from this machine with the local config and environment. */
const testLocally = async (
  options: TestExportOptions,
  event: AuditEvent | undefined,
  output: CliOutput,
  deps: TestExportDeps,
): Promise<ExitCode> => {
  const config = await loadConfigForCommand(options.config, output);
  if (!config) return EXIT_CODES.usage;
  const env = environmentWithDotEnv(options.env ?? process.env, options.dotEnvPath ?? '.env');
  const http = deps.http ?? createHttpClient();
  const guardedHttp = options.blockPrivateNetwork
    ? createHttpClient({ connect: guardedConnector() })
    : undefined;
  try {
    const response = await answerTestInvocation(
      { [TEST_INVOCATION_KEY]: { export: options.export, ...(event ? { event } : {}) } },
      {
        exports: new Map(config.exports.map((exp) => [exp.name, exp])),
        secrets: new EnvSecretResolver(env),
        http,
        ...(guardedHttp === undefined ? {} : { guardedHttp }),
      },
    );
    return printResponse(response, options.config, output);
  } finally {
    if (!deps.http) await http.close();
    await guardedHttp?.close();
  }
};

/**
 * Runs one test delivery and prints it. Exit codes: 0 the receiver answered 2xx; 1 it did not
 * (non-2xx, timeout, connection error) or the deployed function failed; 2 usage or config
 * (unknown export, missing variable, invalid event, function not found).
 *
 * @example
 * process.exitCode = await runTestExport(
 *   { export: 'pagerduty-alerts', config: 'config/observability.yaml' },
 *   consoleOutput,
 * );
 */
const runTestExport = async (
  options: TestExportOptions,
  output: CliOutput,
  deps: TestExportDeps = {},
): Promise<ExitCode> => {
  let event: AuditEvent | undefined;
  if (options.event !== undefined) {
    event = await readEventFile(options.event, output);
    if (!event) return EXIT_CODES.usage;
  }
  const { stage } = options;
  if (stage !== undefined) {
    if (options.blockPrivateNetwork) {
      output.err(
        'note: --block-private-network is for local sends; the deployed function always refuses private addresses (unless the export sets allow_private_network: true)',
      );
    }
    return testThroughStage({ ...options, stage }, event, output, deps);
  }
  return testLocally(options, event, output, deps);
};

/** The `test-export` command. */
const testExportCommand = (): Command =>
  new Command('test-export')
    .description(
      'send one event to one export and print the request (secrets masked), the answer and the verdict',
    )
    .requiredOption('-e, --export <name>', 'the export to test')
    .option('-c, --config <file>', 'the config file (not read with --stage)', DEFAULT_CONFIG_PATH)
    .option('--event <file>', 'send this audit event (JSON) instead of a synthetic one')
    .option(
      '-s, --stage <name>',
      "send through this stage's deployed delivery function (Lambda Invoke, standard AWS credentials)",
    )
    .option('--region <region>', 'AWS region of the stage (default: the standard AWS chain)')
    .option(
      '--block-private-network',
      'refuse loopback, private, link-local and metadata addresses, as deployed deliveries do (not with --stage, where it is always on)',
    )
    .action(
      async (options: {
        export: string;
        config: string;
        event?: string;
        stage?: string;
        region?: string;
        blockPrivateNetwork?: boolean;
      }) => {
        process.exitCode = await runTestExport(options, consoleOutput);
      },
    );

export type { TestExportDeps, TestExportOptions };
export { printable, printResponse, runTestExport, testExportCommand };
