/**
 * Errors of the CDK app. The stack validates its props up front, so a config that slipped past
 * the loader (or a stack built in code) fails at synth with a sentence, never at deploy time.
 */

/** Base of every infra error. */
class InfraError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** The stack's props cannot become a working stage; `problems` lists every reason. */
class StackPropsError extends InfraError {
  readonly problems: readonly string[];

  constructor(stage: string, problems: readonly string[]) {
    super(
      `cannot build stage "${stage}":\n${problems.map((problem) => `- ${problem}`).join('\n')}`,
    );
    this.name = 'StackPropsError';
    this.problems = problems;
  }
}

export { InfraError, StackPropsError };
