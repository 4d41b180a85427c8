import { Logger } from '@aws-lambda-powertools/logger';
import { jest } from '@jest/globals';
import { createObservability } from '../../shared/observability/observability.js';

/** The EMF records written to stdout while `act` runs. */
const emfWrittenBy = (act: () => void): Record<string, unknown>[] => {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('Function: createObservability() metrics', () => {
  const attempt = (exportName: string, latencyMs: number) =>
    ({
      type: 'attempt',
      auditId: `ae_${latencyMs}`,
      export: exportName,
      attempt: 1,
      maxAttempts: 3,
      status: 202,
      latencyMs,
      outcome: 'success',
    }) as const;

  it('writes one EMF record per export per flush: counts summed, every latency kept', () => {
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    try {
      const observability = createObservability({
        functionName: 'delivery',
        stage: 'unit',
        logger: new Logger({ logLevel: 'SILENT' }),
      });
      const records = emfWrittenBy(() => {
        for (const latency of [5, 6, 7]) observability.notify(attempt('alerts', latency));
        observability.notify(attempt('slack', 9));
        observability.notify({
          type: 'retry_scheduled',
          export: 'alerts',
          auditId: 'ae_x',
          nextAttempt: 2,
          delaySeconds: 1,
        });
        observability.flushMetrics();
      });

      const byExport = Object.fromEntries(records.map((record) => [record.export, record]));
      expect(records).toHaveLength(2);
      expect(byExport.alerts).toMatchObject({
        stage: 'unit',
        Delivered: 3,
        Retried: 1,
        DeliveryLatency: [5, 6, 7],
      });
      expect(byExport.slack).toMatchObject({ Delivered: 1, DeliveryLatency: 9 });
      // A second flush with nothing new writes nothing.
      expect(emfWrittenBy(() => observability.flushMetrics())).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
  });

  it('writes the counts without an export (ingest) once per flush that had any', () => {
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    try {
      const observability = createObservability({
        functionName: 'ingest',
        stage: 'unit',
        logger: new Logger({ logLevel: 'SILENT' }),
      });
      const records = emfWrittenBy(() => {
        observability.notify({ type: 'fanned_out', sourceMessageId: 'm1', events: 7, messages: 2 });
        observability.notify({ type: 'fanned_out', sourceMessageId: 'm2', events: 3, messages: 1 });
        observability.flushMetrics();
      });

      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ stage: 'unit', EventsIngested: [7, 3] });
      expect(records[0]).not.toHaveProperty('export');
      // A flush after an invocation that counted nothing writes nothing.
      expect(emfWrittenBy(() => observability.flushMetrics())).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
  });
});
