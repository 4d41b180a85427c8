/**
 * A deployed function played on this machine: its bundled asset run in fresh Node.js processes
 * (test/artifacts/lambdaProcess.mjs), one process per Lambda sandbox. As on Lambda, a sandbox
 * runs one invocation at a time; concurrent invocations start more sandboxes (cold starts),
 * an idle one is reused (warm, its module state kept), and an invocation past the function's
 * timeout, or a crash, ends its sandbox (the next invocation starts a new one).
 *
 * {@link LambdaSandboxes.handler} has the signature of an SQS batch handler, so the local
 * event-source emulator (local/eventSource.ts) invokes the bundle as it invokes the TypeScript
 * handlers in the other suites.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

const RUNNER = fileURLToPath(new URL('./lambdaProcess.mjs', import.meta.url));

/** Characters of each sandbox's output kept for error messages. */
const OUTPUT_KEPT = 20_000;

/** Options of {@link LambdaSandboxes}. */
interface LambdaSandboxesOptions {
  /** `FunctionName`, for messages. */
  readonly functionName: string;
  /** The asset folder: the sandbox's working directory and `/var/task` stand-in. */
  readonly assetDir: string;
  /** `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  /** The whole environment of the process: nothing of the test's is inherited. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** `MemorySize`: the context's `memoryLimitInMB` (the process itself is not limited). */
  readonly memoryMb: number;
}

/** What a started sandbox reported about itself. */
interface SandboxInfo {
  readonly pid: number;
  readonly nodeVersion: string;
  /** The module its handler was loaded from. */
  readonly moduleFile: string;
}

/** The function failed an invocation: an error thrown or answered, a crash, a timeout. */
class FunctionError extends Error {
  constructor(functionName: string, errorType: string, errorMessage: string, output: string) {
    super(
      `${functionName}: ${errorType}: ${errorMessage}${output ? `\n--- sandbox output ---\n${output}` : ''}`,
    );
    this.name = 'FunctionError';
  }
}

type FromSandbox =
  | { type: 'ready'; pid: number; nodeVersion: string; moduleFile: string }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | { type: 'result'; id: number; response: unknown }
  | { type: 'error'; id: number; errorType: string; errorMessage: string };

interface Sandbox {
  readonly child: ChildProcess;
  readonly info: SandboxInfo;
  /** The end of what it printed. */
  output(): string;
  /** Killed, crashed or exited: never handed an invocation again. */
  ended: boolean;
}

/**
 * The sandboxes of one function.
 *
 * @example
 * const ingest = new LambdaSandboxes({ functionName, assetDir, handler: 'index.handler', environment, timeoutMs: 30_000 });
 * const response = await ingest.handler(event, context);
 * await ingest.close();
 */
class LambdaSandboxes {
  /** Every sandbox started so far, in order (ended ones included). */
  readonly started: SandboxInfo[] = [];
  readonly #options: LambdaSandboxesOptions;
  readonly #idle: Sandbox[] = [];
  readonly #live = new Set<Sandbox>();
  /** Every sandbox started, ended ones included, for {@link LambdaSandboxes.output}. */
  readonly #all: Sandbox[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: LambdaSandboxesOptions) {
    this.#options = options;
  }

  /** Invokes the function with an SQS batch: the event source's handler. */
  readonly handler = async (
    event: SQSEvent,
    context: Context,
  ): Promise<SQSBatchResponse | undefined> =>
    (await this.invoke(event, context)) as SQSBatchResponse | undefined;

  /**
   * One invocation in an idle sandbox, or a new one. Resolves with the handler's answer;
   * rejects with a {@link FunctionError} when the function fails it.
   */
  async invoke(event: unknown, context: Context): Promise<unknown> {
    if (this.#closed) throw new Error(`${this.#options.functionName}: sandboxes closed`);
    const sandbox = this.#idle.pop() ?? (await this.#start());
    if (this.#closed) {
      // Closed while this sandbox was starting: it would outlive the suite.
      await this.#end(sandbox);
      throw new Error(`${this.#options.functionName}: sandboxes closed`);
    }
    const id = this.#nextId++;
    const deadline =
      Date.now() + Math.min(context.getRemainingTimeInMillis(), this.#options.timeoutMs);
    try {
      return await this.#run(sandbox, id, event, context, deadline);
    } finally {
      // An error the handler threw leaves the sandbox warm; a crash or a timeout ended it.
      if (!sandbox.ended && !this.#closed) this.#idle.push(sandbox);
    }
  }

  /**
   * The end of what each sandbox started so far printed (the function's logs and EMF
   * metrics), headed by its pid: for failure messages.
   */
  output(): string {
    return this.#all
      .map(
        (sandbox) =>
          `--- ${this.#options.functionName} pid ${sandbox.info.pid}\n${sandbox.output()}`,
      )
      .join('\n');
  }

  /** Ends every sandbox. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle.length = 0;
    await Promise.all([...this.#live].map((sandbox) => this.#end(sandbox)));
  }

  /** Spawns a sandbox and waits for its init phase. */
  #start(): Promise<Sandbox> {
    const { assetDir, handler, environment, functionName } = this.#options;
    const child = spawn(process.execPath, [RUNNER, assetDir, handler], {
      cwd: assetDir,
      env: { ...environment },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return new Promise<Sandbox>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(
          new FunctionError(
            functionName,
            'Runtime.ExitError',
            `exited (${signal ?? code}) during init`,
            output,
          ),
        );
      child.once('exit', onExit);
      child.once('error', reject);
      child.once('message', (message: FromSandbox) => {
        child.off('exit', onExit);
        if (message.type !== 'ready') {
          const detail =
            message.type === 'init-error'
              ? message
              : { errorType: 'Runtime', errorMessage: 'no ready message' };
          child.kill('SIGKILL');
          reject(new FunctionError(functionName, detail.errorType, detail.errorMessage, output));
          return;
        }
        const info = {
          pid: message.pid,
          nodeVersion: message.nodeVersion,
          moduleFile: message.moduleFile,
        };
        const sandbox: Sandbox = { child, info, output: () => output, ended: false };
        this.started.push(info);
        this.#all.push(sandbox);
        this.#live.add(sandbox);
        child.once('exit', () => this.#forget(sandbox));
        resolve(sandbox);
      });
    });
  }

  /** One invocation in `sandbox`: its answer, an error, a crash or the deadline, first. */
  #run(sandbox: Sandbox, id: number, event: unknown, context: Context, deadline: number) {
    const { functionName } = this.#options;
    const { child } = sandbox;
    return new Promise<unknown>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const fail = (errorType: string, errorMessage: string) => {
        cleanup();
        reject(new FunctionError(functionName, errorType, errorMessage, sandbox.output()));
      };
      const onMessage = (message: FromSandbox) => {
        if (!('id' in message) || message.id !== id) return;
        cleanup();
        if (message.type === 'result') resolve(message.response ?? undefined);
        else {
          const { errorType, errorMessage } = message;
          reject(new FunctionError(functionName, errorType, errorMessage, sandbox.output()));
        }
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail('Runtime.ExitError', `the sandbox exited (${signal ?? code}) during the invocation`);
      const timer = setTimeout(
        () => {
          // Lambda ends a sandbox that runs past the timeout; the next invocation starts cold.
          fail('Sandbox.Timedout', `task timed out after ${this.#options.timeoutMs} ms`);
          void this.#end(sandbox);
        },
        Math.max(0, deadline - Date.now()),
      );
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({
        type: 'invoke',
        id,
        event,
        context: {
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitInMB: String(this.#options.memoryMb),
          awsRequestId: context.awsRequestId,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          deadline,
        },
      });
    });
  }

  #forget(sandbox: Sandbox): void {
    sandbox.ended = true;
    this.#live.delete(sandbox);
    const index = this.#idle.indexOf(sandbox);
    if (index >= 0) this.#idle.splice(index, 1);
  }

  /** Kills a sandbox and waits until it is gone. */
  async #end(sandbox: Sandbox): Promise<void> {
    this.#forget(sandbox);
    const { child } = sandbox;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

export type { LambdaSandboxesOptions, SandboxInfo };
export { FunctionError, LambdaSandboxes };
