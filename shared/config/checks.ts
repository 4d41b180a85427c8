/**
 * Config checks that need more than one key at a time, which a schema cannot express:
 * unique export names, unique header names (case-insensitive), body templates that must
 * parse as Liquid and, with `format: json`, render to JSON; plus warnings about risky but
 * valid settings and about filters no event can pass.
 *
 * They run on the raw YAML data, next to the schema, so a file gets every error at once: a
 * bad method in one export does not hide a duplicate name in another. Values are checked
 * only where they have the right type; the schema reports the rest.
 */
import { isSeverity, severityRank } from '../events/auditEvent.js';
import type { ExportFilters } from '../events/filter.js';
import {
  isPipelineEventKind,
  PIPELINE_EVENT_KINDS,
  PIPELINE_EVENT_SEVERITIES,
} from '../events/pipelineEvents.js';
import { syntheticEvent } from '../events/syntheticEvent.js';
import { isPresetName } from '../request/presets/names.js';
import { PRESETS } from '../request/presets/registry.js';
import { compileBody, eventJsonInsideLoops } from '../request/template.js';
import { findMalformedReferences, findVariableReferences } from '../request/variables.js';
import { exportNameClash } from '../sqs/queueNames.js';
import { stageLayoutProblems } from '../sqs/stageLayout.js';
import type { ConfigIssue } from './errors.js';
import { formatPath, type KeyPath, type Locator } from './positions.js';
import { suggest } from './suggest.js';
import type { BodyFormat } from './types.js';

/** Where checks report: errors fail the file, warnings are printed and do not. */
interface CheckContext {
  readonly file: string;
  readonly locate: Locator;
  readonly issues: ConfigIssue[];
  readonly warnings: ConfigIssue[];
}

/** What `${VAR}` references stand for when a template is rendered at validation time. */
const PLACEHOLDER_VALUE = 'placeholder';

/** Header names whose literal values are almost certainly credentials. */
const CREDENTIAL_HEADER = /^(proxy-)?authorization$|api[-_]?key|token|secret|password|signature/i;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const report = (
  list: ConfigIssue[],
  context: CheckContext,
  path: KeyPath,
  message: string,
  position = context.locate.value(path),
): void => {
  list.push({ file: context.file, ...position, path: formatPath(path), message });
};

/** Names must be unique, ignoring case: they name queues, alarms and CLI arguments. */
const checkUniqueNames = (exports: readonly unknown[], context: CheckContext): void => {
  const seen = new Map<string, { index: number; name: string }>();
  exports.forEach((exp, index) => {
    if (!isRecord(exp) || typeof exp.name !== 'string' || exp.name === '') return;
    const clash = exportNameClash(exp.name);
    if (clash !== undefined) report(context.issues, context, ['exports', index, 'name'], clash);
    const key = exp.name.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, { index, name: exp.name });
      return;
    }
    const firstLine = context.locate.value(['exports', first.index, 'name']).line;
    const where = `exports[${first.index}] (line ${firstLine})`;
    report(
      context.issues,
      context,
      ['exports', index, 'name'],
      first.name === exp.name
        ? `duplicate export name "${exp.name}", already used by ${where}; give each export its own name`
        : `"${exp.name}" differs from "${first.name}" of ${where} only in case; export names must be unique ignoring case`,
    );
  });
};

/** Header names are case-insensitive in HTTP; credentials belong in `${VAR}` references. */
const checkHeaders = (headers: unknown, path: KeyPath, context: CheckContext): void => {
  if (!isRecord(headers)) return;
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const first = seen.get(lower);
    if (first !== undefined) {
      report(
        context.issues,
        context,
        [...path, name],
        `duplicate header "${name}" (also set as "${first}"); header names are case-insensitive, keep one`,
        context.locate.key(path, name),
      );
    } else {
      seen.set(lower, name);
    }
    if (
      typeof value === 'string' &&
      value.trim() !== '' &&
      CREDENTIAL_HEADER.test(name) &&
      findVariableReferences(value).length === 0
    ) {
      report(
        context.warnings,
        context,
        [...path, name],
        `looks like a credential written literally; put it in a \${VAR} reference (SSM Parameter Store when deployed, the environment locally)`,
      );
    }
  }
};

/**
 * Plain http to a non-local host is allowed but risky. (Credentials written into the URL are
 * an error of the schema: the HTTP client never sends them.)
 */
const checkUrlRisks = (url: unknown, path: KeyPath, context: CheckContext): void => {
  if (typeof url !== 'string' || findMalformedReferences(url).length > 0) return;
  let probe = url;
  for (const name of findVariableReferences(url)) probe = probe.split(`\${${name}}`).join('0');
  let parsed: URL;
  try {
    parsed = new URL(probe);
  } catch {
    return;
  }
  if (parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname)) {
    report(
      context.warnings,
      context,
      path,
      'uses http://, so events and headers travel unencrypted; use https://',
    );
  }
};

/**
 * A filter entry no event can pass is a warning that says why: a kind the pipeline raises
 * with a severity below `min_severity` (`webhook.dlq` events are always `error`), a kind
 * spelled like one the pipeline raises but not it (`webhook_dlq`), a kind with spaces around
 * it. Kinds match exactly; producers' own kinds are open, so only these can be known wrong.
 */
const checkFilters = (filters: unknown, path: KeyPath, context: CheckContext): void => {
  if (!isRecord(filters) || !Array.isArray(filters.event_kinds)) return;
  const minimum = isSeverity(filters.min_severity) ? filters.min_severity : undefined;
  filters.event_kinds.forEach((kind: unknown, index) => {
    if (typeof kind !== 'string' || kind === '') return;
    const at: KeyPath = [...path, 'event_kinds', index];
    if (isPipelineEventKind(kind)) {
      const severity = PIPELINE_EVENT_SEVERITIES[kind];
      if (minimum !== undefined && severityRank(severity) < severityRank(minimum)) {
        report(
          context.warnings,
          context,
          at,
          `no "${kind}" event can pass this filter: they always have severity ${severity}, below min_severity ${minimum}; lower min_severity to ${severity}, or route ${kind} in an export of its own`,
        );
      }
      return;
    }
    if (kind.trim() !== kind) {
      report(
        context.warnings,
        context,
        at,
        `${JSON.stringify(kind)} has spaces around it; event kinds match exactly, so it matches no event unless its producer writes those spaces too`,
      );
      return;
    }
    const meant = suggest(kind, PIPELINE_EVENT_KINDS);
    if (meant !== undefined) {
      report(
        context.warnings,
        context,
        at,
        `"${kind}" is not an event kind the pipeline raises, and event kinds match exactly, so no ${meant} event passes; did you mean "${meant}"?`,
      );
    }
  });
};

/** The filters an export's synthetic event must pass, from raw values of the right type. */
const rawFilters = (filters: unknown): ExportFilters => {
  if (!isRecord(filters)) return {};
  const kinds = filters.event_kinds;
  return {
    ...(isSeverity(filters.min_severity) ? { min_severity: filters.min_severity } : {}),
    ...(Array.isArray(kinds) && kinds.length > 0 && kinds.every((k) => typeof k === 'string')
      ? { event_kinds: kinds as string[] }
      : {}),
  };
};

/** `body_template line 2, column 7: message` (the template's own wording) → offset + message. */
const templatePosition = (
  template: string,
  message: string,
): { offset?: number; message: string } => {
  const text = message.replace(/^export "[^"]*": /, '');
  const explicit = /^body_template line (\d+), column (\d+): ([\s\S]*)$/.exec(text);
  const liquid = /line:(\d+), col:(\d+)/.exec(text);
  const match = explicit ?? liquid;
  const cleaned = explicit?.[3] ?? text.replace(/^body_template /, '');
  if (match?.[1] === undefined || match[2] === undefined) return { message: cleaned };
  const lines = template.split('\n');
  const line = Number(match[1]);
  const offset =
    lines.slice(0, line - 1).reduce((sum, current) => sum + current.length + 1, 0) +
    Number(match[2]) -
    1;
  // The position is in the file:line:col now; Liquid's own `, line:1, col:5` would confuse.
  const withoutPosition = cleaned.replace(/,? line:\d+, col:\d+/, '');
  return { offset: Math.min(Math.max(offset, 0), template.length), message: withoutPosition };
};

/**
 * The body template parses as Liquid and, with `format: json`, renders to valid JSON for a
 * synthetic event passing the export's filters, every `${VAR}` standing for `placeholder`.
 * Without a `body_template`, the template of the export's `preset` is checked the same way
 * (always JSON: `format: text` with a preset's template is an error).
 */
const checkTemplate = async (
  exp: Record<string, unknown>,
  index: number,
  context: CheckContext,
): Promise<void> => {
  const webhook = exp.webhook;
  if (!isRecord(webhook)) return;
  const preset =
    webhook.body_template === undefined && isPresetName(webhook.preset)
      ? PRESETS[webhook.preset]
      : undefined;
  const template = preset?.bodyTemplate ?? webhook.body_template;
  // Malformed `${...}` are reported by the schema, each at its place.
  if (typeof template !== 'string' || template === '') return;
  if (findMalformedReferences(template).length > 0) return;
  const path: KeyPath = ['exports', index, 'webhook', preset ? 'preset' : 'body_template'];
  const exportName = typeof exp.name === 'string' ? exp.name : `exports[${index}]`;
  if (preset !== undefined && exp.format === 'text') {
    report(
      context.issues,
      context,
      ['exports', index, 'format'],
      `is text, but the ${preset.name} preset sends JSON; remove format: text, or write your own body_template`,
    );
  }
  // An unknown format is reported by the schema; then only the Liquid syntax is checked.
  const format: BodyFormat =
    preset !== undefined || exp.format === undefined || exp.format === 'json' ? 'json' : 'text';
  let compiled: ReturnType<typeof compileBody>;
  try {
    compiled = compileBody({
      exportName,
      template,
      format,
      ...(typeof webhook.max_body_bytes === 'number'
        ? { maxBodyBytes: webhook.max_body_bytes }
        : {}),
    });
  } catch (error) {
    if (preset !== undefined) {
      report(context.issues, context, path, `the preset's template: ${errorText(error)}`);
      return;
    }
    const { offset, message } = templatePosition(template, errorText(error));
    report(context.issues, context, path, message, context.locate.value(path, offset));
    return;
  }
  for (const offset of preset === undefined ? eventJsonInsideLoops(template) : []) {
    report(
      context.warnings,
      context,
      path,
      "writes {{ event_json }} inside a loop: every item repeats the whole event, so a large event with many items passes the body limit (webhook.max_body_bytes) and is dead-lettered; write the event once, outside the loop, or the item's own fields",
      context.locate.value(path, offset),
    );
  }
  if (format !== 'json') return;
  const variables = Object.fromEntries(
    compiled.variableNames.map((name) => [name, PLACEHOLDER_VALUE]),
  );
  try {
    await compiled.render(syntheticEvent({ filters: rawFilters(exp.filters) }), variables);
  } catch (error) {
    // The template's own `line L, column C:` becomes the issue's position in the file.
    const { offset, message } = templatePosition(
      template,
      errorText(error).replace(/ \(this event will not be retried\)$/, ''),
    );
    report(
      context.issues,
      context,
      path,
      `format is json, but for a synthetic event (every \${VAR} as "${PLACEHOLDER_VALUE}") the template ${message.replace(/^body_template /, '')}`,
      preset === undefined ? context.locate.value(path, offset) : context.locate.value(path),
    );
  }
};

/**
 * The error's message on one line: Liquid quotes template source, line breaks included.
 * Template errors never carry resolved values, and validation has none to carry anyway.
 */
const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error))
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n');

/**
 * Runs every cross-key check on the raw data of a parsed file, adding to `context.issues`
 * and `context.warnings`.
 *
 * @example
 * await checkConfig(doc.toJS(), { file, locate, issues, warnings });
 */
const checkConfig = async (raw: unknown, context: CheckContext): Promise<void> => {
  if (!isRecord(raw) || !Array.isArray(raw.exports)) return;
  const exports: readonly unknown[] = raw.exports;
  checkUniqueNames(exports, context);
  // How many exports one stage can deploy (CloudFormation's limits): refused here, before synth.
  const names = exports.flatMap((exp) =>
    isRecord(exp) && typeof exp.name === 'string' ? [exp.name] : [],
  );
  for (const problem of stageLayoutProblems(names))
    report(context.issues, context, ['exports'], problem);
  for (const [index, exp] of exports.entries()) {
    if (!isRecord(exp)) continue;
    const webhook = exp.webhook;
    if (isRecord(webhook)) {
      checkHeaders(webhook.headers, ['exports', index, 'webhook', 'headers'], context);
      checkUrlRisks(webhook.url, ['exports', index, 'webhook', 'url'], context);
    }
    checkFilters(exp.filters, ['exports', index, 'filters'], context);
    await checkTemplate(exp, index, context);
  }
};

export type { CheckContext };
export { checkConfig, PLACEHOLDER_VALUE };
