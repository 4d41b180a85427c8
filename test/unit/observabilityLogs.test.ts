import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { jest } from '@jest/globals';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { createObservability } from '../../shared/observability/observability.js';

/** The JSON log lines a logger at `logLevel` writes while `act` runs. */
const logLinesOf = (
  logLevel: LogLevel,
  act: (observability: ReturnType<typeof createObservability>, logger: Logger) => void,
) => {
  const lines: string[] = [];
  const logger = new Logger({ serviceName: 'unit', logLevel });
  const write = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(write),
    jest.spyOn(process.stderr, 'write').mockImplementation(write),
  ];
  try {
    act(createObservability({ functionName: 'delivery', stage: 'unit', logger }), logger);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return (
    lines
      .flatMap((chunk) => chunk.split('\n'))
      // Log lines, not the EMF records a flush writes.
      .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as { level: string; message: string; outcome?: string })
  );
};

/** The JSON log lines a logger at `logLevel` writes for `notices`. */
const logLinesFor = (logLevel: LogLevel, notices: readonly PipelineNotice[]) =>
  logLinesOf(logLevel, ({ notify }) => {
    for (const notice of notices) notify(notice);
  });

const attempt = (outcome: 'success' | 'retry' | 'permanent'): PipelineNotice => ({
  type: 'attempt',
  auditId: `ae_${outcome}`,
  export: 'alerts',
  attempt: 1,
  maxAttempts: 3,
  status: outcome === 'success' ? 202 : 503,
  latencyMs: 4,
  outcome,
});

describe('Function: createObservability() logs', () => {
  const notices = [attempt('success'), attempt('retry'), attempt('permanent')];

  it('writes failed attempts at INFO and leaves delivered ones to DEBUG', () => {
    // Act
    const lines = logLinesFor('INFO', notices);

    // Assess
    expect(lines.map(({ level, outcome }) => [level, outcome])).toEqual([
      ['INFO', 'retry'],
      ['INFO', 'permanent'],
    ]);
  });

  it('writes every attempt at DEBUG, the delivered ones as DEBUG lines', () => {
    // Act
    const lines = logLinesFor('DEBUG', notices);

    // Assess
    expect(lines.map(({ level, outcome }) => [level, outcome])).toEqual([
      ['DEBUG', 'success'],
      ['INFO', 'retry'],
      ['INFO', 'permanent'],
    ]);
    expect(lines.every(({ message }) => message === 'delivery attempt')).toBe(true);
  });

  it('reads the level once per invocation: a level set during one shows from the next', () => {
    // Act: sampling sets DEBUG as an invocation starts, i.e. after the last one flushed.
    const lines = logLinesOf('INFO', ({ notify, flushMetrics }, logger) => {
      notify(attempt('success'));
      logger.setLogLevel('DEBUG');
      notify(attempt('success'));
      flushMetrics();
      notify(attempt('success'));
    });

    // Assess
    expect(lines.map(({ level, outcome }) => [level, outcome])).toEqual([['DEBUG', 'success']]);
  });
});
