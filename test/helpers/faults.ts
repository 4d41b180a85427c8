/**
 * Fault injection for AWS SDK clients: a middleware that fails chosen commands, either before
 * the request leaves (the service never saw it) or after the service applied it (the caller
 * is told it failed, as when a response is lost). Real clients, real embedded SQS: only the
 * outcome the caller sees is changed.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';

/** When the injected failure happens. */
type FaultTiming = 'before' | 'after';

/** One rule: which calls fail, when, and how many times. */
interface FaultRule {
  /** The SDK command name, e.g. `SendMessageCommand`. */
  readonly command: string;
  /** Only calls whose input matches (e.g. a queue URL). @default every call of the command */
  readonly when?: (input: Record<string, unknown>) => boolean;
  readonly timing: FaultTiming;
  /** How many matching calls fail; then they pass. @default Infinity */
  readonly times?: number;
  /** The error thrown. @default a `ServiceUnavailable` error */
  readonly error?: () => Error;
}

/** What the injector saw. */
interface FaultInjector {
  /** Calls that were failed, by command name. */
  readonly failed: Map<string, number>;
  /** Calls that passed through, by command name. */
  readonly passed: Map<string, number>;
  /** Adds a rule; rules are checked in order, the first that matches applies. */
  add(rule: FaultRule): void;
  /** Drops every rule: calls pass again. */
  clear(): void;
}

const injectedError = (command: string, timing: FaultTiming): Error => {
  const error = new Error(
    `injected fault: ${command} ${timing === 'before' ? 'not sent' : 'applied, reported as failed'}`,
  );
  error.name = 'ServiceUnavailable';
  return error;
};

const bump = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

/**
 * Installs a fault injector on a client (SQS or SSM).
 *
 * @example
 * const faults = injectFaults(sqs);
 * faults.add({ command: 'SendMessageCommand', timing: 'after', times: 1 });
 */
const injectFaults = (client: SQSClient | SSMClient): FaultInjector => {
  const rules: { rule: FaultRule; left: number }[] = [];
  const failed = new Map<string, number>();
  const passed = new Map<string, number>();
  const matching = (command: string, input: Record<string, unknown>) =>
    rules.find(
      (entry) =>
        entry.left > 0 &&
        entry.rule.command === command &&
        (entry.rule.when === undefined || entry.rule.when(input)),
    );
  // `initialize` runs once per call, before serialization and the SDK's own retries.
  (client.middlewareStack as SQSClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const input = (args.input ?? {}) as Record<string, unknown>;
      const entry = matching(command, input);
      if (entry === undefined) {
        bump(passed, command);
        return next(args);
      }
      entry.left -= 1;
      bump(failed, command);
      const error = entry.rule.error?.() ?? injectedError(command, entry.rule.timing);
      if (entry.rule.timing === 'before') throw error;
      await next(args);
      throw error;
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return {
    failed,
    passed,
    add: (rule) => {
      rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clear: () => {
      rules.length = 0;
    },
  };
};

export type { FaultInjector, FaultRule, FaultTiming };
export { injectFaults };
