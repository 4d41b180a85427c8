/**
 * Child processes of the benchmark and a minimal request/response protocol over Node's IPC
 * channel. The embedded SQS server and the receivers run in processes of their own, so that
 * the process under measurement holds only the code under test, and so that the CPU time each
 * side spends can be read separately.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** How every child runs TypeScript: the same loader as `npm run bench` itself. */
const TSX_EXEC_ARGV = ['--import', 'tsx', '--no-warnings=ExperimentalWarning'] as const;

interface RpcRequest {
  readonly rpc: number;
  readonly method: string;
  readonly params?: unknown;
}

interface RpcReply {
  readonly rpc: number;
  readonly result?: unknown;
  readonly error?: string;
}

type RpcMethods = Record<string, (params: never) => unknown>;

/** A child process failed or answered with an error. */
class ChildProcessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChildProcessError';
  }
}

const isRequest = (message: unknown): message is RpcRequest =>
  typeof message === 'object' &&
  message !== null &&
  typeof (message as RpcRequest).rpc === 'number' &&
  typeof (message as RpcRequest).method === 'string';

/**
 * Answers the parent's calls with `methods`; the process exits when the parent goes away, so
 * a crashed benchmark never leaves servers behind.
 *
 * @example
 * serveParent({ ping: () => 'pong' });
 */
const serveParent = (methods: RpcMethods): void => {
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message: unknown) => {
    if (!isRequest(message)) return;
    const method = methods[message.method];
    let reply: RpcReply;
    try {
      if (!method) throw new Error(`unknown method ${message.method}`);
      reply = { rpc: message.rpc, result: await method(message.params as never) };
    } catch (error) {
      reply = { rpc: message.rpc, error: error instanceof Error ? error.message : String(error) };
    }
    process.send?.(reply);
  });
};

/** A forked child that answers calls (see {@link serveParent}). */
class RpcChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  #next = 1;
  #exited = false;

  private constructor(
    child: ChildProcess,
    readonly name: string,
  ) {
    this.#child = child;
    child.on('message', (message: RpcReply) => {
      const waiter = this.#pending.get(message.rpc);
      if (!waiter) return;
      this.#pending.delete(message.rpc);
      if (message.error !== undefined) {
        waiter.reject(new ChildProcessError(`${name}: ${message.error}`));
      } else {
        waiter.resolve(message.result);
      }
    });
    child.on('exit', (code, signal) => {
      this.#exited = true;
      for (const waiter of this.#pending.values()) {
        waiter.reject(new ChildProcessError(`${name} exited (${signal ?? code})`));
      }
      this.#pending.clear();
    });
  }

  /**
   * Forks `module` (a path relative to bench/harness, e.g. `./sqsServerChild.ts`).
   *
   * @example
   * const child = RpcChild.fork('./receiverChild.ts', 'receivers');
   */
  static fork(module: string, name: string): RpcChild {
    const path = fileURLToPath(new URL(module, import.meta.url));
    const child = fork(path, [], {
      // --expose-gc: side-by-side rounds collect the garbage of one side before the next
      // starts (./rounds.ts).
      execArgv: [...TSX_EXEC_ARGV, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new RpcChild(child, name);
  }

  /** Calls a method of the child and resolves with its result. */
  call<T>(method: string, params?: unknown): Promise<T> {
    if (this.#exited) return Promise.reject(new ChildProcessError(`${this.name} has exited`));
    const rpc = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(rpc, { resolve: resolve as (value: unknown) => void, reject });
      this.#child.send({ rpc, method, params } satisfies RpcRequest);
    });
  }

  /** Ends the child at once (SIGKILL), for a child that no longer answers. */
  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  /** Ends the child (it exits when its IPC channel closes) and waits for it. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    this.#child.disconnect();
    await exited;
  }
}

export { ChildProcessError, RpcChild, serveParent, TSX_EXEC_ARGV };
