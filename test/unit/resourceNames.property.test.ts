import fc from 'fast-check';
import { EXPORT_NAME_PATTERN } from '../../shared/config/schema.js';
import {
  APP_PREFIX,
  exportNameClash,
  FUNCTION_ROLES,
  functionName,
  queueNames,
  StageNameError,
} from '../../shared/sqs/queueNames.js';

/** Per-export and per-stage alarm kinds, as infra/constructs/pipelineAlarms.ts names them. */
const EXPORT_ALARM_KINDS = ['dead-letters', 'delivery-stuck', 'paused'];
const STAGE_ALARM_KINDS = [
  'ingest-parked',
  'ingest-stuck',
  'dead-letters-expiring',
  ...FUNCTION_ROLES.flatMap((role) => [`${role}-errors`, `${role}-throttles`]),
];

/** Every physical name of a stage, by namespace (queues, functions, alarms). */
const physicalNames = (stage: string, exportNames: readonly string[]) => {
  const names = queueNames(stage);
  const prefix = `${APP_PREFIX}-${stage}`;
  return {
    queues: [
      names.ingest,
      names.ingestDlq,
      names.deadLetters,
      ...exportNames.flatMap((name) => [names.delivery(name), names.deliveryDlq(name)]),
    ],
    functions: FUNCTION_ROLES.map((role) => functionName(stage, role)),
    alarms: [
      ...STAGE_ALARM_KINDS.map((kind) => `${prefix}-${kind}`),
      ...exportNames.flatMap((name) =>
        EXPORT_ALARM_KINDS.map((kind) => `${prefix}-${name}-${kind}`),
      ),
    ],
  };
};

const stageName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const exportName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/);

/** The stage's names, or undefined when validate refuses the stage or one of the exports. */
const accepted = (stage: string, exports: readonly string[]) => {
  try {
    if (exports.some((name) => exportNameClash(name) !== undefined)) return undefined;
    return physicalNames(stage, exports);
  } catch (error) {
    if (error instanceof StageNameError) return undefined;
    throw error;
  }
};

describe('Resource names of two stages of one account and region', () => {
  it('never share a physical name, whatever stages and exports validate accepts', () => {
    fc.assert(
      fc.property(
        stageName,
        stageName,
        fc.uniqueArray(exportName, { maxLength: 6, selector: (name) => name.toLowerCase() }),
        fc.uniqueArray(exportName, { maxLength: 6, selector: (name) => name.toLowerCase() }),
        (stageA, stageB, exportsA, exportsB) => {
          fc.pre(stageA !== stageB);
          const a = accepted(stageA, exportsA);
          const b = accepted(stageB, exportsB);
          fc.pre(a !== undefined && b !== undefined);
          if (!a || !b) return;
          for (const kind of ['queues', 'functions', 'alarms'] as const) {
            const all = [...a[kind], ...b[kind]];
            expect(new Set(all).size).toBe(all.length);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never share a physical name within one stage', () => {
    fc.assert(
      fc.property(
        stageName,
        fc.uniqueArray(exportName, { maxLength: 12, selector: (name) => name.toLowerCase() }),
        (stage, exports) => {
          const names = accepted(stage, exports);
          fc.pre(names !== undefined);
          if (!names) return;
          for (const list of Object.values(names)) expect(new Set(list).size).toBe(list.length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fit SQS (80 characters of [A-Za-z0-9_-]) for the longest stage and export names', () => {
    const names = physicalNames('a'.repeat(16), ['B'.repeat(36)]);
    for (const queue of names.queues) expect(queue).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    for (const fn of names.functions) expect(fn.length).toBeLessThanOrEqual(64);
  });

  it('refuses the names of the issue that clashed, saying which', () => {
    expect(exportNameClash('foo-dlq')).toContain('dead-letter queue of export "foo"');
    expect(exportNameClash('foo')).toBeUndefined();
    expect(() => queueNames('prod-eu')).toThrow(/no "-"/);
    expect(() => queueNames('a-deliver')).toThrow(StageNameError);
    expect(EXPORT_NAME_PATTERN.test('eu-slack')).toBe(true);
  });
});
