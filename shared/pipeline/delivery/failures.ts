/**
 * The one mapping from an error raised while preparing a delivery (resolving its variables,
 * rendering its body, signing it) to what it means: the dead-letter reason, or a failure of
 * our own infrastructure that is retried without spending an attempt. The delivery engine,
 * `test-export` (locally and as a test invocation) and `render` all read errors through it,
 * so a template error is a `render` dead letter, a `template` test failure and a `render`
 * command error alike.
 */

import { HeaderValueError } from '../../request/headerValue.js';
import { SigningSecretError } from '../../request/signing.js';
import { TemplateError } from '../../request/template.js';
import { MissingVariableError, SecretsError } from '../../secrets/errors.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../messages/index.js';
import { BatchElementError } from './batchBody.js';

/** What kind of preparation failure an error is; the test invocation's error codes too. */
const PREPARATION_FAILURES = {
  /** The body template failed to render, or rendered a body that cannot be sent. */
  template: 'template',
  /** A `${VAR}` has no value. */
  missingVariable: 'missing_variable',
  /** A signing secret's value cannot be used as a key. */
  invalidSecret: 'invalid_secret',
  /** A header value, its `${VAR}`s resolved, holds a character HTTP cannot carry. */
  invalidHeader: 'invalid_header',
  /** The secret store failed or refused (throttled, access denied). */
  secrets: 'secrets',
} as const;

type PreparationFailureKind = (typeof PREPARATION_FAILURES)[keyof typeof PREPARATION_FAILURES];

/** A known preparation failure. Its message names no resolved value. */
type PreparationFailure =
  | {
      readonly kind: PreparationFailureKind;
      /** Dead-letter the delivery with this reason: sending again cannot help. */
      readonly retryable: false;
      readonly reason: DeadLetterReason;
      readonly message: string;
      /** For `missing_variable`: the names without a value. */
      readonly variables?: readonly string[];
    }
  | {
      readonly kind: typeof PREPARATION_FAILURES.secrets;
      /** Our infrastructure failed: try again later, without spending an attempt. */
      readonly retryable: true;
      readonly message: string;
    };

/**
 * What a preparation error means, or undefined for an error nobody expected (a bug: the
 * caller leaves the record on its queue and logs it).
 *
 * @example
 * const failure = preparationFailureOf(error);
 * if (failure && !failure.retryable) deadLetter(failure.reason, failure.message);
 */
const preparationFailureOf = (error: unknown): PreparationFailure | undefined => {
  if (error instanceof TemplateError || error instanceof BatchElementError) {
    return {
      kind: PREPARATION_FAILURES.template,
      retryable: false,
      reason: DEAD_LETTER_REASONS.render,
      message: error.message,
    };
  }
  if (error instanceof SigningSecretError) {
    return {
      kind: PREPARATION_FAILURES.invalidSecret,
      retryable: false,
      reason: DEAD_LETTER_REASONS.configuration,
      message: error.message,
    };
  }
  if (error instanceof HeaderValueError) {
    return {
      kind: PREPARATION_FAILURES.invalidHeader,
      retryable: false,
      reason: DEAD_LETTER_REASONS.configuration,
      message: error.message,
    };
  }
  // Before SecretsError: a missing variable is one, and never retryable.
  if (error instanceof MissingVariableError) {
    return {
      kind: PREPARATION_FAILURES.missingVariable,
      retryable: false,
      reason: DEAD_LETTER_REASONS.configuration,
      message: error.message,
      variables: error.variables,
    };
  }
  if (error instanceof SecretsError) {
    return error.retryable
      ? { kind: PREPARATION_FAILURES.secrets, retryable: true, message: error.message }
      : {
          kind: PREPARATION_FAILURES.secrets,
          retryable: false,
          reason: DEAD_LETTER_REASONS.configuration,
          message: error.message,
        };
  }
  return undefined;
};

export type { PreparationFailure, PreparationFailureKind };
export { PREPARATION_FAILURES, preparationFailureOf };
