/**
 * `start` (`npm start`): the whole pipeline on this machine. With no `--config`, runs the
 * shipped demo: a built-in receiver on 127.0.0.1, sample events, a delivery, a retry, a dead
 * letter and its `webhook.dlq` event. With `--config`, runs the user's exports with `${VAR}`s
 * from the environment and `.env`, and pushes nothing by itself.
 */
import { relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_PORT } from '../local/constants.js';
import type { Receiver } from '../local/receivers.js';
import type { LocalStack } from '../local/stack.js';
import type { PipelineNotice } from '../shared/observability/notices.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';
import { loadConfigForCommand } from './loadConfig.js';

interface StartOptions {
  /** Undefined runs the demo. */
  readonly config?: string;
  readonly port: number;
  readonly dataDir?: string;
  /** Visibility timeout of every queue, in seconds, instead of 6x the function timeout. */
  readonly visibilityTimeout?: number;
  /** Stop once the demo has shown everything (tests, CI). */
  readonly exitAfterDemo?: boolean;
  /** Refuse private addresses, as deployed deliveries do (`--block-private-network`). */
  readonly blockPrivateNetwork?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves when the stack should stop; by default SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<void>;
}

/** Longest the demo waits for its deliveries before saying what is missing. */
const DEMO_TIMEOUT_MS = 60_000;

/** What the demo must show before it calls itself complete. */
interface DemoProgress {
  delivered: number;
  retries: number;
  deadLetters: number;
  dlqEventsDelivered: number;
}

/** The demo's events produce 6 deliveries, 2+ retries, 1 dead letter and 1 webhook.dlq delivery. */
const demoComplete = (progress: DemoProgress): boolean =>
  progress.delivered >= 6 &&
  progress.retries >= 2 &&
  progress.deadLetters >= 1 &&
  progress.dlqEventsDelivered >= 1;

const parsePort = (value: string): number => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  }
  return port;
};

/** SQS allows up to 12 h; 0 would hand a record to a second poller while the first works on it. */
const parseVisibilityTimeout = (value: string): number => {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 43_200) {
    throw new InvalidArgumentError('a visibility timeout is a whole number of seconds, 1 to 43200');
  }
  return seconds;
};

const untilSignal = (): Promise<void> =>
  new Promise((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/**
 * Runs the local stack until stopped.
 *
 * @example
 * process.exitCode = await runStart({ port: 4566 }, consoleOutput);
 */
const runStart = async (options: StartOptions, output: CliOutput): Promise<ExitCode> => {
  // Loaded here, not at the top: the embedded SQS server is only for this command.
  const { DEMO_CONFIG_PATH, demoEvents, demoVariables, startDemoReceiver } = await import(
    '../local/demo.js'
  );
  const { environmentWithDotEnv, missingVariables, startLocalStack } = await import(
    '../local/stack.js'
  );
  const demo = options.config === undefined;
  const configPath = options.config ?? DEMO_CONFIG_PATH;
  const config = await loadConfigForCommand(configPath, output);
  if (!config) return EXIT_CODES.usage;

  let receiver: Receiver | undefined;
  let env = environmentWithDotEnv(options.env ?? process.env, '.env');
  if (demo) {
    receiver = await startDemoReceiver();
    env = { ...env, ...demoVariables(receiver) };
  }
  const missing = missingVariables(config, env);
  if (missing.length > 0) {
    for (const { exportName, variables } of missing) {
      const names = variables.map((name) => `\${${name}}`).join(', ');
      output.err(`export "${exportName}" needs ${names}: set it in the environment or in .env`);
    }
    await receiver?.close();
    return EXIT_CODES.usage;
  }

  const progress: DemoProgress = {
    delivered: 0,
    retries: 0,
    deadLetters: 0,
    dlqEventsDelivered: 0,
  };
  let onProgress: () => void = () => undefined;
  const track = (notice: PipelineNotice) => {
    if (notice.type === 'attempt' && notice.outcome === 'success') {
      progress.delivered++;
      if (notice.export === 'dlq-alerts') progress.dlqEventsDelivered++;
    }
    if (notice.type === 'retry_scheduled') progress.retries++;
    if (notice.type === 'dead_lettered') progress.deadLetters++;
    onProgress();
  };

  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      config,
      env,
      port: options.port,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.visibilityTimeout === undefined
        ? {}
        : { visibilityTimeoutSeconds: options.visibilityTimeout }),
      ...(options.blockPrivateNetwork ? { blockPrivateNetwork: true } : {}),
      write: output.out,
      notify: track,
    });
  } catch (error) {
    output.err(error instanceof Error ? error.message : String(error));
    await receiver?.close();
    return EXIT_CODES.usage;
  }
  output.out(`config: ${relative(process.cwd(), configPath)} (${config.exports.length} exports)`);
  output.out(`SQS endpoint: ${stack.endpoint}`);
  if (options.blockPrivateNetwork) {
    output.out(
      'private network blocked: exports without allow_private_network: true may not reach loopback, private, link-local or metadata addresses',
    );
  }
  output.out(`ingest queue: ${stack.ingestQueueUrl}`);
  // The endpoint is always spelled out: on any port but the default, `push` without it would
  // look for the stack at 4566 and fail.
  output.out(
    `push events with: npm run push -- events.ndjson --endpoint ${stack.endpoint}, or aws sqs send-message --endpoint-url ${stack.endpoint} --queue-url ${stack.ingestQueueUrl} --message-body '{...}'`,
  );

  let exitCode: ExitCode = EXIT_CODES.ok;
  const stopSignal = options.stopSignal ?? untilSignal();
  if (demo) {
    output.out('demo: pushing 3 sample events (a policy_block, a detection, a tool_call)');
    await stack.push(demoEvents());
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => {
        onProgress = () => {
          if (demoComplete(progress)) resolve(true);
        };
      }),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DEMO_TIMEOUT_MS).unref()),
      stopSignal.then(() => false),
    ]);
    if (finished) {
      output.out(
        `demo complete: ${progress.delivered} delivered, ${progress.retries} retries, ${progress.deadLetters} dead letter, ${progress.dlqEventsDelivered} webhook.dlq event delivered`,
      );
    } else {
      output.err(`demo incomplete: ${JSON.stringify(progress)}`);
      exitCode = EXIT_CODES.failed;
    }
  }
  if (!(demo && options.exitAfterDemo)) {
    output.out('running; press Ctrl-C to stop');
    await stopSignal;
  }
  output.out('stopping: in-flight deliveries finish, the rest stays queued');
  await stack.stop();
  await receiver?.close();
  output.out('stopped');
  return exitCode;
};

/** The `start` command. */
const startCommand = (): Command =>
  new Command('start')
    .description(
      'run the whole pipeline locally on an embedded SQS server; without --config, run the demo',
    )
    .option('-c, --config <file>', 'your config file (default: the built-in demo)')
    .option('-p, --port <n>', 'port of the embedded SQS server', parsePort, DEFAULT_PORT)
    .option('--data-dir <dir>', 'keep queues and messages in SQLite under <dir> across restarts')
    .option(
      '--visibility-timeout <seconds>',
      'visibility timeout of every queue (default: 6x the function timeout); records in flight when the stack died come back after it',
      parseVisibilityTimeout,
    )
    .option('--exit-after-demo', 'stop once the demo has shown everything')
    .option(
      '--block-private-network',
      'refuse loopback, private, link-local and metadata addresses, as deployed deliveries do (exports with allow_private_network: true are exempt)',
    )
    .action(
      async (options: {
        config?: string;
        port: number;
        dataDir?: string;
        visibilityTimeout?: number;
        exitAfterDemo?: boolean;
        blockPrivateNetwork?: boolean;
      }) => {
        process.exitCode = await runStart(options, consoleOutput);
      },
    );

export type { StartOptions };
export { runStart, startCommand };
