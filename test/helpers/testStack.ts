/**
 * The servers an integration test runs against, started and stopped in one place: the embedded
 * SQS server with a client on it, an HTTP client, programmable receivers on 127.0.0.1, the
 * real local pipeline and temporary directories. `useTestStack()` registers the jest hooks, so a test file says what it
 * needs and never writes its own `beforeAll`/`afterEach` teardown.
 *
 * Scope follows where a resource is started: what `beforeAll` (or the options) starts lives for
 * the file (or the `describe` that called `useTestStack`); what a test starts is stopped after
 * that test, even when it fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { createHttpClient, type HttpClient } from '../../shared/transport/http.js';
import {
  cleanupStack,
  type PipelineHarness,
  type PipelineHarnessOptions,
  recordSqsCalls,
  type SqsCall,
  startPipeline,
} from './pipeline.js';
import { type Receiver, startReceiver } from './receivers.js';

/** How a receiver answers: what {@link startReceiver} takes. */
type ReceiverSpec = Parameters<typeof startReceiver>[0];

/** What to start once for the whole scope. Nothing is started unless asked for. */
interface TestStackOptions<R extends string = never> {
  /** An embedded SQS server with a client on it, whose calls are recorded. @default false */
  readonly sqs?: boolean;
  /** An HTTP client (`createHttpClient()`), closed at the end. @default false */
  readonly http?: boolean;
  /** Receivers on 127.0.0.1, by name. @default {} */
  readonly receivers?: Readonly<Record<R, ReceiverSpec>>;
}

/** The started servers of {@link startTestStack}. */
interface TestStack<R extends string = never> {
  /** Throws when `sqs` was not asked for. */
  readonly server: EmbeddedSqsServer;
  /** Throws when `sqs` was not asked for. */
  readonly sqs: SQSClient;
  /** Every call of {@link TestStack.sqs}, in order; a test may empty it (`calls.length = 0`). */
  readonly calls: SqsCall[];
  /** Throws when `http` was not asked for. */
  readonly http: HttpClient;
  readonly receivers: Readonly<Record<R, Receiver>>;
  /** Stops everything started, in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

const missing = (what: string, option: string): never => {
  throw new Error(`the test stack has no ${what}: pass { ${option}: true } to start one`);
};

/**
 * Starts what `options` asks for; if one part fails to start, stops the others and throws.
 *
 * @example
 * const stack = await startTestStack({ sqs: true, receivers: { ok: { status: 200 } } });
 * await sendMessage(stack.sqs, queueUrl, { body: '{}' });
 * await stack.stop();
 */
const startTestStack = async <R extends string = never>(
  options: TestStackOptions<R> = {},
): Promise<TestStack<R>> => {
  const cleanup = cleanupStack();
  try {
    const server = options.sqs
      ? cleanup.add(await startEmbeddedSqs(), (started) => started.stop())
      : undefined;
    const sqs = server
      ? cleanup.add(localSqsClient(server.endpoint), (client) => client.destroy())
      : undefined;
    const calls = sqs ? recordSqsCalls(sqs) : [];
    const http = options.http
      ? cleanup.add(createHttpClient(), (client) => client.close())
      : undefined;
    const receivers = {} as Record<R, Receiver>;
    for (const [name, spec] of Object.entries(options.receivers ?? {}) as [R, ReceiverSpec][]) {
      receivers[name] = cleanup.add(await startReceiver(spec), (started) => started.close());
    }
    return {
      get server() {
        return server ?? missing('SQS server', 'sqs');
      },
      get sqs() {
        return sqs ?? missing('SQS client', 'sqs');
      },
      calls,
      get http() {
        return http ?? missing('HTTP client', 'http');
      },
      receivers,
      stop: () => cleanup.run(),
    };
  } catch (error) {
    await cleanup.run();
    throw error;
  }
};

/** The stack of one test file or `describe`, as {@link useTestStack} returns it. */
interface ScopedTestStack<R extends string = never> extends Omit<TestStack<R>, 'stop'> {
  /** A receiver, stopped with the test (or with the scope, when started in `beforeAll`). */
  receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver>;
  /** The real local pipeline on a server of its own ({@link startPipeline}), stopped likewise. */
  pipeline(options: PipelineHarnessOptions): Promise<PipelineHarness>;
  /** A fresh directory in the OS temp directory, removed likewise; `prefix` names it. */
  tempDir(prefix: string): Promise<string>;
  /** Registers any other resource to stop likewise; returns it. */
  add<T>(resource: T, stop: (resource: T) => Promise<void> | void): T;
}

/**
 * Registers the hooks of a test file's (or a `describe`'s) servers: `beforeAll` starts what
 * `options` asks for, `afterAll` stops it, and whatever a test starts through `receiver()`,
 * `pipeline()` or `add()` is stopped in `afterEach`. Read the fields inside tests and hooks
 * only, once `beforeAll` has run.
 *
 * @example
 * const stack = useTestStack();
 *
 * it('delivers', async () => {
 *   const target = await stack.receiver({ status: 200 });
 *   const harness = await stack.pipeline({ yaml: exportsYaml([{ name: 'a', url: target.url }]) });
 *   await harness.pushEvents([auditEvent()]);
 *   await target.waitForRequests(1);
 * });
 */
const useTestStack = <R extends string = never>(
  options: TestStackOptions<R> = {},
): ScopedTestStack<R> => {
  const scoped = cleanupStack();
  const perTest = cleanupStack();
  let inTest = false;
  let started: TestStack<R> | undefined;
  const stack = (): TestStack<R> => {
    if (started === undefined) {
      throw new Error('the test stack starts in beforeAll: read it inside a test or a hook');
    }
    return started;
  };
  const add = <T>(resource: T, stop: (resource: T) => Promise<void> | void): T =>
    (inTest ? perTest : scoped).add(resource, stop);

  beforeAll(async () => {
    started = await startTestStack(options);
  });
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    await perTest.run();
  });
  afterAll(async () => {
    try {
      await scoped.run();
    } finally {
      await started?.stop();
    }
  });

  return {
    get server() {
      return stack().server;
    },
    get sqs() {
      return stack().sqs;
    },
    get calls() {
      return stack().calls;
    },
    get http() {
      return stack().http;
    },
    get receivers() {
      return stack().receivers;
    },
    receiver: async (...args) => add(await startReceiver(...args), (receiver) => receiver.close()),
    pipeline: async (pipelineOptions) =>
      add(await startPipeline(pipelineOptions), (harness) => harness.stop()),
    tempDir: async (prefix) =>
      add(await mkdtemp(join(tmpdir(), prefix)), (dir) =>
        rm(dir, { recursive: true, force: true }),
      ),
    add,
  };
};

export type { ReceiverSpec, ScopedTestStack, TestStack, TestStackOptions };
export { startTestStack, useTestStack };
