/**
 * Request bodies: each export's Liquid `body_template` compiled once per container and
 * rendered per event, with JSON-safe escaping for `format: json` (see `./templateSource.ts`).
 *
 * Templates run in a locked-down Liquid: no file system (`include`/`render`/`layout` find
 * nothing), unknown filters are errors, only own properties are readable (no prototype
 * access), and parse size, render time and memory are limited.
 */
import { Drop, Liquid, type Template, toValue } from 'liquidjs';
import type { BodyFormat, ExportConfig } from '../config/types.js';
import type { AuditEvent } from '../events/auditEvent.js';
import { MissingVariableError } from '../secrets/errors.js';
import { jsonStringContent, redactSecrets, secretForms } from '../secrets/masking.js';
import { TEMPLATE_FILTERS } from './templateFilters.js';
import { PRIVATE_NAMES, rewriteTemplateSource } from './templateSource.js';
import { findMalformedReferences, findVariableReferences } from './variables.js';

/** Limits of the Liquid engine, documented in the README. */
const TEMPLATE_LIMITS = {
  /** Characters of template source per parse. */
  parseLimit: 1_000_000,
  /** Milliseconds per render. */
  renderLimitMs: 1_000,
  /** Liquid's memory units per render (string and array sizes created by filters, ranges). */
  memoryLimit: 10_000_000,
} as const;

const TEMPLATE_ERROR_KINDS = ['parse', 'render', 'invalid_json'] as const;
type TemplateErrorKind = (typeof TEMPLATE_ERROR_KINDS)[number];

/**
 * A body template that cannot produce a body. Permanent: retrying the same event with the same
 * template gives the same result. The message names the export and says what to fix, and never
 * contains a resolved `${VAR}` value.
 */
class TemplateError extends Error {
  readonly exportName: string;
  readonly kind: TemplateErrorKind;

  constructor(kind: TemplateErrorKind, exportName: string, message: string) {
    super(message);
    this.name = 'TemplateError';
    this.kind = kind;
    this.exportName = exportName;
  }
}

/** A compiled body: parse once, render per event. */
interface CompiledBody {
  readonly exportName: string;
  readonly format: BodyFormat;
  /** `${VAR}` names the template needs, each once, in first-seen order. */
  readonly variableNames: readonly string[];
  /**
   * The request body for one event.
   *
   * @param variables resolved values of at least `variableNames`, resolved at send time.
   * @throws MissingVariableError when a name in `variableNames` has no value.
   * @throws TemplateError kind `render` or `invalid_json`.
   */
  render(event: AuditEvent, variables: Readonly<Record<string, string>>): Promise<string>;
}

/** Options of {@link compileBody}. */
interface CompileBodyOptions {
  readonly exportName: string;
  /** Liquid source; `undefined` means the body is the event as JSON. */
  readonly template: string | undefined;
  readonly format: BodyFormat;
}

/**
 * `{{ event_json }}`: the event as JSON text, rendered raw outside JSON strings. A class rather
 * than a string so the JSON filters can tell it from a string value (which they would quote);
 * its properties are unreachable from templates (`ownPropertyOnly`, nothing is own).
 */
class EventJson {
  readonly #event: AuditEvent;
  #json: string | undefined;

  constructor(event: AuditEvent) {
    this.#event = event;
  }

  /** Computed on first use: not every template mentions `event_json`. */
  toString(): string {
    this.#json ??= JSON.stringify(this.#event);
    return this.#json;
  }

  /** So `{{ event_json | json }}` is the event, not `{}`. */
  toJSON(): AuditEvent {
    return this.#event;
  }
}

/** U+2028/U+2029 are valid in JSON strings but break some consumers; escape them everywhere. */
const escapeLineSeparators = (json: string): string =>
  json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const stringifyJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** Filter for outputs outside JSON strings: the value as a raw JSON value. */
const jsonValueFilter = (input: unknown): string => {
  const value = input instanceof Drop ? toValue(input) : input;
  if (value instanceof EventJson) return escapeLineSeparators(value.toString());
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  return escapeLineSeparators(stringifyJson(value));
};

/** Filter for outputs inside JSON strings: the value escaped as JSON string content. */
const jsonStringFilter = (input: unknown): string => {
  const value = input instanceof Drop ? toValue(input) : input;
  if (value === undefined || value === null) return '';
  if (value instanceof EventJson) return jsonStringContent(value.toString());
  if (typeof value === 'object') return jsonStringContent(stringifyJson(value));
  return jsonStringContent(String(value));
};

/**
 * The one Liquid engine of the process. `templates: {}` replaces the file system with an empty
 * in-memory map, so `include`/`render`/`layout` can never read a file even if the source check
 * in `./templateSource.ts` were bypassed.
 */
const liquid = new Liquid({
  templates: {},
  relativeReference: false,
  strictFilters: true,
  ownPropertyOnly: true,
  parseLimit: TEMPLATE_LIMITS.parseLimit,
  renderLimit: TEMPLATE_LIMITS.renderLimitMs,
  memoryLimit: TEMPLATE_LIMITS.memoryLimit,
  // Lambda runs in UTC; make `date` render the same on a laptop.
  timezoneOffset: 0,
});
liquid.registerFilter(PRIVATE_NAMES.valueFilter, jsonValueFilter);
liquid.registerFilter(PRIVATE_NAMES.stringFilter, jsonStringFilter);
for (const [name, filter] of Object.entries(TEMPLATE_FILTERS)) liquid.registerFilter(name, filter);

let parseCount = 0;

/** How many Liquid parses this process has done; constant once every export is warm. */
const templateParseCount = (): number => parseCount;

const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const parseOrThrow = (source: string, exportName: string): Template[] => {
  parseCount += 1;
  try {
    return liquid.parse(source);
  } catch (error) {
    throw new TemplateError(
      'parse',
      exportName,
      `export "${exportName}": body_template is not valid Liquid: ${errorMessage(error)}`,
    );
  }
};

/** Line and column (1-based) of an offset, for messages. */
const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
};

/** Where `JSON.parse` failed, from V8's message; `undefined` when it does not say. */
const jsonErrorPosition = (error: unknown, body: string): number | undefined => {
  const message = errorMessage(error);
  const position = /position (\d+)/.exec(message);
  if (position?.[1] !== undefined) return Number(position[1]);
  // "Unexpected end of JSON input" and friends: the problem is at the end.
  if (/end of (JSON )?input/i.test(message)) return body.length;
  return undefined;
};

/**
 * A short excerpt of the rendered body around `offset`, with secrets redacted. The window is
 * cut before redacting, so it is widened first to never split a secret into a fragment that
 * redaction would no longer recognise.
 */
const redactedExcerpt = (body: string, offset: number, secrets: readonly string[]): string => {
  const radius = 40;
  let start = Math.max(0, offset - radius);
  let end = Math.min(body.length, offset + radius);
  for (const form of secretForms(secrets)) {
    for (let at = body.indexOf(form); at !== -1; at = body.indexOf(form, at + 1)) {
      if (at < start && at + form.length > start) start = at;
      if (at < end && at + form.length > end) end = at + form.length;
    }
  }
  const excerpt = redactSecrets(body.slice(start, end), secrets);
  return `${start > 0 ? '…' : ''}${excerpt}${end < body.length ? '…' : ''}`;
};

const invalidJsonError = (
  exportName: string,
  body: string,
  error: unknown,
  secrets: readonly string[],
): TemplateError => {
  // V8's own message quotes the body, so only the position is taken from it.
  const offset = jsonErrorPosition(error, body) ?? 0;
  const { line, column } = lineAndColumn(body, offset);
  const excerpt = JSON.stringify(redactedExcerpt(body, offset, secrets));
  return new TemplateError(
    'invalid_json',
    exportName,
    `export "${exportName}": body_template rendered invalid JSON at line ${line}, column ${column}, near ${excerpt}; fix the template, or set format: text if the body is not JSON`,
  );
};

/** A template-less body: the event as JSON. */
const eventAsJsonBody = (exportName: string, format: BodyFormat): CompiledBody => ({
  exportName,
  format,
  variableNames: [],
  render: async (event) => JSON.stringify(event),
});

/**
 * Compiles a body template: checks and rewrites it (see `./templateSource.ts`) and parses it
 * with Liquid. Call it once per template and reuse the result; {@link bodyForExport} does.
 *
 * @throws TemplateError kind `parse`, naming the export and what is wrong.
 * @example
 * const body = compileBody({ exportName: 'pagerduty-alerts', template, format: 'json' });
 * const text = await body.render(event, await resolver.resolve(body.variableNames, body.exportName));
 */
const compileBody = (options: CompileBodyOptions): CompiledBody => {
  const { exportName, template, format } = options;
  if (template === undefined) return eventAsJsonBody(exportName, format);

  const malformed = findMalformedReferences(template)[0];
  if (malformed) {
    const { line, column } = lineAndColumn(template, malformed.offset);
    throw new TemplateError(
      'parse',
      exportName,
      `export "${exportName}": body_template line ${line}, column ${column}: ${malformed.message}`,
    );
  }
  // Parse the source as written first, so Liquid's messages point at what the user wrote.
  parseOrThrow(template, exportName);
  const rewritten = rewriteTemplateSource(template, format, liquid);
  if (!rewritten.ok) {
    const { line, column } = lineAndColumn(template, rewritten.problem.offset);
    throw new TemplateError(
      'parse',
      exportName,
      `export "${exportName}": body_template line ${line}, column ${column}: ${rewritten.problem.message}`,
    );
  }
  const parsed = parseOrThrow(rewritten.source, exportName);
  const variableNames = Object.freeze(findVariableReferences(template));

  const render = async (
    event: AuditEvent,
    variables: Readonly<Record<string, string>>,
  ): Promise<string> => {
    const missing = variableNames.filter(
      (name) => !Object.hasOwn(variables, name) || typeof variables[name] !== 'string',
    );
    if (missing.length > 0) {
      throw new MissingVariableError({
        variables: missing,
        exportName,
        hint: "resolve the export's variables (environment or SSM Parameter Store) before rendering",
      });
    }
    const values = variableNames.map((name) => variables[name] ?? '');
    const scope = {
      ...event,
      event_json: new EventJson(event),
      // Last, so an event field of the same name cannot replace the resolved values.
      [PRIVATE_NAMES.varsKey]: Object.fromEntries(
        variableNames.map((name, index) => [name, values[index]]),
      ),
    };
    let body: string;
    try {
      // Synchronous: every tag and filter here is CPU-only (no file system), and the async
      // renderer's promise per node was the largest cost of a delivery (npm run bench, figure 1).
      body = String(liquid.renderSync(parsed, scope));
    } catch (error) {
      // No `cause`: Liquid errors carry the render context, which holds the resolved values.
      throw new TemplateError(
        'render',
        exportName,
        `export "${exportName}": body_template failed to render: ${redactSecrets(errorMessage(error), values)}; fix the template (this event will not be retried)`,
      );
    }
    if (format === 'json') {
      try {
        JSON.parse(body);
      } catch (error) {
        throw invalidJsonError(exportName, body, error, values);
      }
    }
    return body;
  };

  return { exportName, format, variableNames, render };
};

const compiledBodies = new Map<string, CompiledBody>();

/**
 * The compiled body of an export, compiled on first use and cached for the life of the
 * container (keyed by name, template and format, so a changed config compiles again).
 *
 * @throws TemplateError kind `parse` (not cached: the next call reports it again).
 * @example
 * const body = bodyForExport(exportConfig);
 */
const bodyForExport = (exp: ExportConfig): CompiledBody => {
  // Per config object first: building the content key on every request showed in the profile.
  const known = compiledByExport.get(exp);
  if (known) return known;
  const key = JSON.stringify([exp.name, exp.format, exp.webhook.body_template ?? null]);
  let compiled = compiledBodies.get(key);
  if (!compiled) {
    compiled = compileBody({
      exportName: exp.name,
      template: exp.webhook.body_template,
      format: exp.format,
    });
    compiledBodies.set(key, compiled);
  }
  compiledByExport.set(exp, compiled);
  return compiled;
};

/** The compiled body of each export object (configs are not changed once loaded). */
const compiledByExport = new WeakMap<ExportConfig, CompiledBody>();

export type { CompileBodyOptions, CompiledBody, TemplateErrorKind };
export {
  bodyForExport,
  compileBody,
  TEMPLATE_ERROR_KINDS,
  TEMPLATE_LIMITS,
  TemplateError,
  templateParseCount,
};
