import {
  exportMetricDimensions,
  STUCK_GRACE_SECONDS,
  stuckDeliveryAgeSeconds,
} from '../../infra/monitoring.js';
import type { ExportConfig } from '../../shared/config/types.js';
import { configFromYaml, exportYaml } from './stackFactory.js';

const oneExport = async (yaml: string): Promise<ExportConfig> => {
  const config = await configFromYaml(['exports:', yaml].join('\n'));
  const [exportConfig] = config.exports;
  if (!exportConfig) throw new Error('no export');
  return exportConfig;
};

describe('Function: stuckDeliveryAgeSeconds()', () => {
  it('allows the default schedule its backoffs, its attempts and 15 minutes', async () => {
    // Prepare
    const exportConfig = await oneExport(exportYaml('alerts'));

    // Act
    const seconds = stuckDeliveryAgeSeconds(exportConfig);

    // Assess: backoffs 1+2+4+8 before attempts 2-5, five 10 s attempts, the grace.
    expect(seconds).toBe(15 + 50 + STUCK_GRACE_SECONDS);
  });

  it('reuses the last backoff and counts a single attempt without backoff', async () => {
    // Prepare
    const reused = await oneExport(
      `${exportYaml('slow', { maxAttempts: 4, timeoutSeconds: 30 })}\n      backoff_seconds: [60]`,
    );
    const single = await oneExport(exportYaml('once', { maxAttempts: 1 }));

    // Act
    const seconds = [reused, single].map(stuckDeliveryAgeSeconds);

    // Assess
    expect(seconds).toEqual([3 * 60 + 4 * 30 + STUCK_GRACE_SECONDS, 10 + STUCK_GRACE_SECONDS]);
  });
});

describe('Function: exportMetricDimensions()', () => {
  it('names the whole dimension set the functions emit (service, stage and export)', () => {
    // Prepare
    const exportName = 'pagerduty-alerts';

    // Act
    const dimensions = exportMetricDimensions('prod', exportName);

    // Assess
    expect(dimensions).toEqual({
      service: 'tappass-webhooks',
      stage: 'prod',
      export: 'pagerduty-alerts',
    });
  });
});
