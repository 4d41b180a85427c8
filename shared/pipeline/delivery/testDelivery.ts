/**
 * One test delivery of an export, outside the queues: resolve the export's variables, prepare
 * the exact request the pipeline would send, send it once, and describe what happened with
 * every secret value masked. `test-export` runs it on the user's machine, and the deployed
 * delivery function runs it for `test-export --stage` (a "test invocation"), so both print the
 * same report.
 */

import type { ExportConfig } from '../../config/types.js';
import {
  type AuditEvent,
  type EventProblem,
  formatEventProblems,
  validateEvent,
} from '../../events/auditEvent.js';
import { matchesFilters } from '../../events/filter.js';
import { syntheticEvent } from '../../events/syntheticEvent.js';
import { prepareRequest } from '../../request/prepareRequest.js';
import { classifyFor, type PresetOptions } from '../../request/presets/index.js';
import { maskSignatures } from '../../request/signing.js';
import { exportVariableNames } from '../../request/variables.js';
import { maskHeaders, maskSendResult, redactSecrets } from '../../secrets/masking.js';
import type { SecretResolver } from '../../secrets/resolvers.js';
import type { HttpClient, SendResult } from '../../transport/http.js';
import { clientForExport } from '../../transport/networkGuard.js';
import type { Verdict } from '../../transport/retry.js';
import { PREPARATION_FAILURES, preparationFailureOf } from './failures.js';

/** The request as sent, with every resolved secret value replaced by `***`. */
interface MaskedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Size of the body sent, in bytes (the body itself is what `render` prints). */
  readonly bodyBytes: number;
  readonly timeoutSeconds: number;
}

/** What one test delivery did. Holds no resolved secret value. */
interface TestDeliveryReport {
  readonly export: string;
  /** The event sent, in short. */
  readonly event: {
    readonly audit_id: string;
    readonly event_kind: string;
    readonly severity: string;
    readonly synthetic: boolean;
    /** False when a given event would not reach this export in the pipeline. */
    readonly passes_filters: boolean;
  };
  readonly request: MaskedRequest;
  /** The send result; body snippet, error message and response headers redacted. */
  readonly result: SendResult;
  /** What the pipeline would do with this answer: done, retry, or dead-letter at once. */
  readonly verdict: Verdict;
  /** The export's `retry.max_attempts`, so a `retry` verdict can say how many tries remain. */
  readonly maxAttempts: number;
}

/** Inputs of {@link testDelivery}. */
interface TestDeliveryInput {
  readonly exportConfig: ExportConfig;
  readonly event: AuditEvent;
  /** Whether `event` was made up by {@link syntheticEvent} rather than given by the user. */
  readonly synthetic?: boolean;
  readonly secrets: SecretResolver;
  /** Sends for exports with `allow_private_network: true`, and for all when no guard is given. */
  readonly http: HttpClient;
  /**
   * Sends for every other export when set: the client that refuses private addresses, as the
   * delivery function uses it, so a test shows what a real delivery would meet.
   */
  readonly guardedHttp?: HttpClient;
  /** How presets are chosen, as in the delivery function. @default the production hosts */
  readonly presets?: PresetOptions;
}

/**
 * Sends one event to one export, once, exactly as the delivery function would (same request,
 * same classification), and reports it with secret values masked.
 *
 * @throws MissingVariableError when a `${VAR}` has no value; SecretsError when the store fails;
 *   TemplateError when the body template cannot render this event.
 * @example
 * const report = await testDelivery({
 *   exportConfig,
 *   event: syntheticEvent(exportConfig),
 *   secrets: new EnvSecretResolver(),
 *   http: createHttpClient(),
 * });
 * console.log(report.result.status, report.verdict.outcome);
 */
const testDelivery = async (input: TestDeliveryInput): Promise<TestDeliveryReport> => {
  const { exportConfig, event } = input;
  const variables = await input.secrets.resolve(
    exportVariableNames(exportConfig),
    exportConfig.name,
  );
  const secretValues = Object.values(variables);
  const request = await prepareRequest(exportConfig, event, variables, { presets: input.presets });
  const client = clientForExport(exportConfig, input);
  // Masked before it is classified, as in the delivery engine: the verdict quotes the body.
  const result = maskSendResult(await client.send(request), secretValues);
  return {
    export: exportConfig.name,
    event: {
      audit_id: event.audit_id,
      event_kind: event.event_kind,
      severity: event.severity,
      synthetic: input.synthetic ?? false,
      passes_filters: matchesFilters(event, exportConfig.filters),
    },
    request: {
      method: request.method,
      url: redactSecrets(request.url, secretValues),
      // Signatures are derived from secrets: shown as `v1,***`.
      headers: maskSignatures(maskHeaders(request.headers, secretValues)),
      bodyBytes: Buffer.byteLength(request.body, 'utf8'),
      timeoutSeconds: exportConfig.webhook.timeout_seconds,
    },
    result,
    verdict: classifyFor(exportConfig, result, request.url, input.presets),
    maxAttempts: exportConfig.retry.max_attempts,
  };
};

/** The key of a test invocation's payload: `{ "tappass_test_export": { ... } }`. */
const TEST_INVOCATION_KEY = 'tappass_test_export';

/** The payload `test-export --stage` sends to the delivery function. */
interface TestInvocation {
  readonly [TEST_INVOCATION_KEY]: {
    readonly export: string;
    /** The event to send; without it the function makes a synthetic one for the export. */
    readonly event?: unknown;
  };
}

/** Why a test invocation could not send anything. */
const TEST_INVOCATION_ERRORS = {
  /** The payload is not a test invocation of this version. */
  badRequest: 'bad_request',
  unknownExport: 'unknown_export',
  invalidEvent: 'invalid_event',
  /**
   * `missing_variable`, `template`, `secrets` (SSM throttled, access denied),
   * `invalid_secret` (a signing secret that cannot be used as a key) and `invalid_header` (a
   * resolved header value HTTP cannot carry): the delivery's own preparation failures
   * (shared/pipeline/delivery/failures.ts).
   */
  ...PREPARATION_FAILURES,
} as const;

type TestInvocationErrorCode = (typeof TEST_INVOCATION_ERRORS)[keyof typeof TEST_INVOCATION_ERRORS];

interface TestInvocationError {
  readonly code: TestInvocationErrorCode;
  /** Human, never holding a resolved value. */
  readonly message: string;
  /** For `unknown_export`: the exports the config has. */
  readonly known_exports?: readonly string[];
  /** For `invalid_event`. */
  readonly problems?: readonly EventProblem[];
  /** For `missing_variable`. */
  readonly variables?: readonly string[];
}

/** The answer to a test invocation, as JSON: a report, or why nothing was sent. */
type TestInvocationResponse =
  | { readonly ok: true; readonly report: TestDeliveryReport }
  | { readonly ok: false; readonly error: TestInvocationError };

/** What {@link answerTestInvocation} needs: the config's exports and the runtime's clients. */
interface TestInvocationDeps {
  readonly exports: ReadonlyMap<string, ExportConfig>;
  readonly secrets: SecretResolver;
  readonly http: HttpClient;
  /** See {@link TestDeliveryInput.guardedHttp}. */
  readonly guardedHttp?: HttpClient;
}

/** Whether a Lambda payload is a test invocation (rather than an SQS event). */
const isTestInvocation = (payload: unknown): payload is TestInvocation =>
  typeof payload === 'object' &&
  payload !== null &&
  !Array.isArray(payload) &&
  Object.hasOwn(payload, TEST_INVOCATION_KEY);

const failure = (error: TestInvocationError): TestInvocationResponse => ({ ok: false, error });

/**
 * Answers a test invocation: picks the export, validates the given event (or makes a synthetic
 * one), and runs {@link testDelivery}. Configuration problems come back as `ok: false` with a
 * code; anything unexpected throws.
 *
 * @example
 * const response = await answerTestInvocation(
 *   { tappass_test_export: { export: 'pagerduty-alerts' } },
 *   { exports, secrets, http },
 * );
 */
const answerTestInvocation = async (
  payload: unknown,
  deps: TestInvocationDeps,
): Promise<TestInvocationResponse> => {
  const request = isTestInvocation(payload) ? payload[TEST_INVOCATION_KEY] : undefined;
  if (typeof request !== 'object' || request === null || typeof request.export !== 'string') {
    return failure({
      code: TEST_INVOCATION_ERRORS.badRequest,
      message: `a test invocation is {"${TEST_INVOCATION_KEY}": {"export": "<name>", "event": {...}}}`,
    });
  }
  const exportConfig = deps.exports.get(request.export);
  if (!exportConfig) {
    const known = [...deps.exports.keys()];
    return failure({
      code: TEST_INVOCATION_ERRORS.unknownExport,
      message: `no export named "${request.export}"; the config has: ${known.join(', ') || 'none'}`,
      known_exports: known,
    });
  }
  let event: AuditEvent;
  const synthetic = request.event === undefined;
  if (synthetic) {
    event = syntheticEvent(exportConfig);
  } else {
    const validation = validateEvent(request.event);
    if (!validation.ok) {
      return failure({
        code: TEST_INVOCATION_ERRORS.invalidEvent,
        message: `the event is not a valid audit event: ${formatEventProblems(validation.problems)}`,
        problems: validation.problems,
      });
    }
    event = validation.event;
  }
  try {
    const report = await testDelivery({
      exportConfig,
      event,
      synthetic,
      secrets: deps.secrets,
      http: deps.http,
      ...(deps.guardedHttp === undefined ? {} : { guardedHttp: deps.guardedHttp }),
    });
    return { ok: true, report };
  } catch (error) {
    const preparation = preparationFailureOf(error);
    if (preparation === undefined) throw error;
    return failure({
      code: preparation.kind,
      message: preparation.message,
      ...(!preparation.retryable && preparation.variables !== undefined
        ? { variables: preparation.variables }
        : {}),
    });
  }
};

export type {
  MaskedRequest,
  TestDeliveryInput,
  TestDeliveryReport,
  TestInvocation,
  TestInvocationDeps,
  TestInvocationError,
  TestInvocationErrorCode,
  TestInvocationResponse,
};
export {
  answerTestInvocation,
  isTestInvocation,
  TEST_INVOCATION_ERRORS,
  TEST_INVOCATION_KEY,
  testDelivery,
};
