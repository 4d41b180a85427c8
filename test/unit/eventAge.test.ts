/**
 * `max_event_age_seconds` as a pure check: which events are too old for an export, and the
 * explanation a dead letter carries.
 */
import type { ExportConfig } from '../../shared/config/types.js';
import { expiredBecause, formatDuration } from '../../shared/pipeline/flowControl/eventAge.js';
import { auditEvent, configFromYaml, exportsYaml } from '../helpers/pipeline.js';

const NOW = new Date('2026-04-17T12:00:00Z');

const exportWithAge = async (maxAgeSeconds?: number): Promise<ExportConfig> => {
  const config = await configFromYaml(
    exportsYaml([{ name: 'pager', url: 'https://example.com/hook' }]),
  );
  const base = config.exports[0];
  if (!base) throw new Error('the test config has no export');
  return maxAgeSeconds === undefined ? base : { ...base, max_event_age_seconds: maxAgeSeconds };
};

describe('Function: expiredBecause()', () => {
  it('lets every event through when the export sets no maximum age', async () => {
    // Prepare
    const exportConfig = await exportWithAge();
    const ancient = auditEvent({ timestamp: '2020-01-01T00:00:00Z' });

    // Act
    const why = expiredBecause(ancient, exportConfig, NOW);

    // Assess
    expect(why).toBeUndefined();
  });

  it('lets an event through up to exactly the maximum age', async () => {
    // Prepare
    const exportConfig = await exportWithAge(3600);
    const event = auditEvent({ timestamp: '2026-04-17T11:00:00Z' });

    // Act
    const why = expiredBecause(event, exportConfig, NOW);

    // Assess
    expect(why).toBeUndefined();
  });

  it('explains an event older than the maximum age with its age and timestamp', async () => {
    // Prepare
    const exportConfig = await exportWithAge(3600);
    const event = auditEvent({ timestamp: '2026-04-17T08:57:58Z' });

    // Act
    const why = expiredBecause(event, exportConfig, NOW);

    // Assess
    expect(why).toBe(
      'the event is 3h 2m 2s old (timestamp 2026-04-17T08:57:58Z); max_event_age_seconds is 3600, so it was not sent',
    );
  });

  it('measures the age across time zones from the timestamp itself', async () => {
    // Prepare
    const exportConfig = await exportWithAge(60);
    const event = auditEvent({ timestamp: '2026-04-17T13:59:30+02:00' });

    // Act
    const why = expiredBecause(event, exportConfig, NOW);

    // Assess: 11:59:30Z is 30 s before NOW.
    expect(why).toBeUndefined();
  });

  it('never expires an event stamped in the future', async () => {
    // Prepare
    const exportConfig = await exportWithAge(1);
    const event = auditEvent({ timestamp: '2026-04-18T00:00:00Z' });

    // Act
    const why = expiredBecause(event, exportConfig, NOW);

    // Assess
    expect(why).toBeUndefined();
  });
});

describe('Function: formatDuration()', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [3600, '1h'],
    [90061, '1d 1h 1m 1s'],
  ])('writes %d seconds as %s', (seconds, text) => {
    // Act and assess
    expect(formatDuration(seconds)).toBe(text);
  });
});
