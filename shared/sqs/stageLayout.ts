/**
 * How a stage's resources are split between CloudFormation templates, so that a stage of many
 * exports stays under CloudFormation's limits (500 resources and 1 MB per template,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
 *
 * Every export costs 9 resources (two queues and their TLS-only policies, two event source
 * mappings, three alarms) on top of about 35 for the stage. Up to
 * {@link SINGLE_STACK_MAX_EXPORTS} exports everything stays in one template, exactly as before
 * (same logical ids). Above that, each export's resources live in one of
 * {@link EXPORT_GROUP_COUNT} nested stacks, picked by a hash of the export name, so that adding
 * or removing an export never moves another export's queues between templates (a move would
 * create a queue whose name is still taken by the retained old one). Pure: validate, the CDK
 * stack and the tests read the same numbers.
 */
import { createHash } from 'node:crypto';
import type { ObservabilityConfig } from '../config/types.js';

/** Exports a stage keeps in one template (35 + 9 × 50 = 485 resources, with an alarm topic). */
const SINGLE_STACK_MAX_EXPORTS = 50;

/** Nested stacks the exports of a large stage are spread over. */
const EXPORT_GROUP_COUNT = 8;

/** Exports one nested stack holds at most: 9 × 50 = 450 resources, about 0.5 MB of template. */
const EXPORT_GROUP_MAX_EXPORTS = 50;

/** Exports a stage holds at most. */
const MAX_EXPORTS_PER_STAGE = 250;

/** The layout of a stage: one template, or the stage's template plus export groups. */
type StageLayout =
  | { readonly kind: 'single' }
  | {
      readonly kind: 'nested';
      /** Export names of each group (index = group number), in config order. */
      readonly groups: readonly (readonly string[])[];
    };

/**
 * The group of an export: a hash of its name, so that it never depends on the other exports.
 *
 * @example
 * exportGroupOf('pagerduty-alerts'); // a number from 0 to 7, always the same
 */
const exportGroupOf = (exportName: string): number =>
  createHash('sha256').update(exportName).digest().readUInt32BE(0) % EXPORT_GROUP_COUNT;

/**
 * The layout of a stage of these exports.
 *
 * @example
 * stageLayout(['a', 'b']); // { kind: 'single' }
 */
const stageLayout = (exportNames: readonly string[]): StageLayout => {
  if (exportNames.length <= SINGLE_STACK_MAX_EXPORTS) return { kind: 'single' };
  const groups: string[][] = Array.from({ length: EXPORT_GROUP_COUNT }, () => []);
  for (const name of exportNames) groups[exportGroupOf(name)]?.push(name);
  return { kind: 'nested', groups };
};

/**
 * Why a stage of these exports cannot be deployed, as sentences with the numbers; empty when
 * it can.
 *
 * @example
 * stageLayoutProblems(names251); // ['251 exports: a stage holds at most 250 ...']
 */
const stageLayoutProblems = (exportNames: readonly string[]): string[] => {
  if (exportNames.length > MAX_EXPORTS_PER_STAGE) {
    return [
      `${exportNames.length} exports: a stage holds at most ${MAX_EXPORTS_PER_STAGE} (CloudFormation allows 500 resources per template and each export needs 9); split the exports over two stages`,
    ];
  }
  const layout = stageLayout(exportNames);
  if (layout.kind === 'single') return [];
  return layout.groups.flatMap((names, group) =>
    names.length > EXPORT_GROUP_MAX_EXPORTS
      ? [
          `export group ${group} (picked by a hash of the export name) would hold ${names.length} exports, at most ${EXPORT_GROUP_MAX_EXPORTS} fit in one nested stack: rename or move one of ${names.slice(EXPORT_GROUP_MAX_EXPORTS).join(', ')}`,
        ]
      : [],
  );
};

/** {@link stageLayoutProblems} of a config. */
const configLayoutProblems = (config: ObservabilityConfig): string[] =>
  stageLayoutProblems(config.exports.map((exportConfig) => exportConfig.name));

export type { StageLayout };
export {
  configLayoutProblems,
  EXPORT_GROUP_COUNT,
  EXPORT_GROUP_MAX_EXPORTS,
  exportGroupOf,
  MAX_EXPORTS_PER_STAGE,
  SINGLE_STACK_MAX_EXPORTS,
  stageLayout,
  stageLayoutProblems,
};
