/**
 * Request bodies: each export's Liquid `body_template` compiled once per container and
 * rendered per event, with JSON-safe escaping for `format: json` (see `./templateSource.ts`).
 *
 * Templates run in a locked-down Liquid: no file system (`include`/`render`/`layout` find
 * nothing), unknown filters are errors, only own properties are readable (no prototype
 * access), and parse size, render time, memory and the size of the output (the export's
 * `webhook.max_body_bytes`, checked as it is written: `./bodyEmitter.ts`) are limited.
 */
import {
  CaptureTag,
  type Context,
  Drop,
  Liquid,
  Context as LiquidContext,
  filters as liquidFilters,
  Output,
  type Template,
  TypeGuards,
  toValue,
  toValueSync,
} from 'liquidjs';
import type { BodyFormat, ExportConfig } from '../config/types.js';
import type { AuditEvent } from '../events/auditEvent.js';
import { MissingVariableError } from '../secrets/errors.js';
import { jsonStringContent, redactSecrets, secretForms } from '../secrets/masking.js';
import {
  BodyEmitter,
  BodyLimitError,
  DEFAULT_MAX_BODY_BYTES,
  LocatedOutput,
  LocatingEmitter,
} from './bodyEmitter.js';
import { jsonSyntaxError } from './jsonSyntax.js';
import { asText, TEMPLATE_FILTERS } from './templateFilters.js';
import { eventJsonInLoops, PRIVATE_NAMES, rewriteTemplateSource } from './templateSource.js';
import { type Piece, substitutionPlan, UNPLANNED, writePlan } from './templateSubstitution.js';
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

/**
 * The rendered body passed the export's `webhook.max_body_bytes`: rendering stopped there,
 * so no more than the limit was ever held. Kind `render` (a `render` dead letter).
 */
class BodyTooLargeError extends TemplateError {
  /** The export's limit, in bytes. */
  readonly limitBytes: number;

  constructor(exportName: string, message: string, limitBytes: number) {
    super('render', exportName, message);
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** A compiled body: parse once, render per event. */
interface CompiledBody {
  readonly exportName: string;
  readonly format: BodyFormat;
  /** `${VAR}` names the template needs, each once, in first-seen order. */
  readonly variableNames: readonly string[];
  /** Bodies are written by a substitution plan, not Liquid (`./templateSubstitution.ts`). */
  readonly substitutes: boolean;
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
  /** Most UTF-8 bytes a rendered body may have; default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
  /**
   * `false` renders every body with Liquid even when the template only substitutes
   * (`./templateSubstitution.ts`); the tests compare both ways. Default `true`.
   */
  readonly substitution?: boolean;
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

/**
 * What the `json` filter returns: JSON text that knows it is JSON, so written outside a JSON
 * string it is the value itself (`{"tags": {{ tags | json }}}` is an array, not a string
 * holding one), and inside a string its text escaped once. Other filters and comparisons see
 * the text (`valueOf`), as with Liquid's own `json`.
 */
class JsonText extends Drop {
  /** `undefined` for a value JSON cannot write (`{{ nothing | json }}`). */
  readonly text: string | undefined;

  constructor(text: string | undefined) {
    super();
    this.text = text;
  }

  override valueOf(): string {
    return this.text ?? '';
  }

  override toString(): string {
    return this.text ?? '';
  }
}

/** Liquid's own `json` filter, which charges what it writes to the render's memory limit. */
const liquidJson = liquidFilters.json as (
  this: unknown,
  value: unknown,
  space?: unknown,
) => unknown;

/** `{{ value | json }}` / `{{ value | json: 2 }}`: Liquid's own, marked as JSON. */
function jsonFilter(this: unknown, value: unknown, space?: unknown): JsonText {
  const input = value instanceof JsonText ? value.text : value;
  const text = liquidJson.call(this, input, space);
  return new JsonText(typeof text === 'string' ? text : undefined);
}

/** U+2028/U+2029 are valid in JSON strings but break some consumers; escape them everywhere. */
const escapeLineSeparators = (json: string): string =>
  json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const stringifyJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** Filter for outputs outside JSON strings: the value as a raw JSON value. */
const jsonValueFilter = (input: unknown): string => {
  if (input instanceof JsonText) return escapeLineSeparators(input.text ?? 'null');
  const value = input instanceof Drop ? toValue(input) : input;
  if (value instanceof EventJson) return escapeLineSeparators(value.toString());
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  return escapeLineSeparators(stringifyJson(value));
};

/** Filter for outputs inside JSON strings: the value escaped as JSON string content. */
const jsonStringFilter = (input: unknown): string => {
  if (input instanceof JsonText) return jsonStringContent(input.text ?? '');
  const value = input instanceof Drop ? toValue(input) : input;
  if (value === undefined || value === null) return '';
  if (value instanceof EventJson) return jsonStringContent(value.toString());
  if (typeof value === 'object') return jsonStringContent(stringifyJson(value));
  return jsonStringContent(String(value));
};

/** Filter for `format: text` and captured text: strings as they are, objects as JSON. */
const textFilter = (input: unknown): string =>
  asText(input instanceof Drop && !(input instanceof JsonText) ? toValue(input) : input);

/** Register key of the body's emitter, so a `{% capture %}` shares its limit. */
const BODY_EMITTER = '__tappass_body';

/**
 * `{% capture %}` writing into a bounded emitter: Liquid's own collects without limit, so a
 * loop inside a capture could build a string of any size that is never output.
 */
class BoundedCaptureTag extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, unknown> {
    const body = ctx.getRegister<BodyEmitter | undefined>(BODY_EMITTER, undefined);
    const emitter = new BodyEmitter(body?.limitBytes ?? DEFAULT_MAX_BODY_BYTES, 'capture');
    yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
    ctx.bottom()[this.variable] = emitter.buffer;
  }
}

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
  // Lambda's locale, for month and day names. Also spares the import the Intl.DateTimeFormat
  // Liquid builds to ask for the default one: some 20 ms, over a tenth of the delivery bundle's
  // import time (figure 6 of docs/performance.md).
  locale: 'en-US',
});
/** The filters the source rewrite ends every output with, by name. */
const PRIVATE_FILTERS = {
  [PRIVATE_NAMES.valueFilter]: jsonValueFilter,
  [PRIVATE_NAMES.stringFilter]: jsonStringFilter,
  [PRIVATE_NAMES.textFilter]: textFilter,
} as const;
for (const [name, filter] of Object.entries(PRIVATE_FILTERS)) liquid.registerFilter(name, filter);
liquid.registerFilter('json', jsonFilter);
liquid.registerFilter('jsonify', jsonFilter);
liquid.registerTag('capture', BoundedCaptureTag);
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

/** Liquid's own `, line:2, col:5`: a position in the rewritten source, replaced by ours. */
const LIQUID_POSITION = /,? line:\d+, col:\d+/g;

/** The rewritten-source offset of the template node a Liquid error points at. */
const liquidErrorOffset = (error: unknown): number | undefined => {
  const token = (error as { token?: { begin?: unknown } } | null)?.token;
  return typeof token?.begin === 'number' ? token.begin : undefined;
};

/** What a Liquid render error wraps (what a filter or the emitter threw), else the error. */
const originalErrorOf = (error: unknown): unknown =>
  (error as { originalError?: unknown } | null)?.originalError ?? error;

/** `line 3, column 5: ` of a template offset, for the start of a message. */
const positionText = (template: string, offset: number | undefined): string => {
  if (offset === undefined) return '';
  const { line, column } = lineAndColumn(template, offset);
  return `line ${line}, column ${column}: `;
};

/**
 * The rewritten-source offset of the first output whose last filter is not one of the private
 * ones the rewrite appended: Liquid stopped reading it early (`{{ agent_id, }}` ends at the
 * comma), so the escaping filter after it is ignored and event data would be written raw, free
 * to add keys to a JSON body.
 */
const firstUnescapedOutput = (templates: readonly Template[]): number | undefined => {
  for (const node of templates) {
    const children = node.children?.(false, true);
    if (node instanceof Output) {
      const last = node.value.filters.at(-1);
      if (last === undefined || !Object.hasOwn(PRIVATE_FILTERS, last.name)) return node.token.begin;
    }
    const inner = children ? firstUnescapedOutput(toValueSync(children)) : undefined;
    if (inner !== undefined) return inner;
  }
  return undefined;
};

/**
 * Tells a {@link LocatingEmitter} which node is writing: wraps each node's `render` once, in
 * the copy of the templates used only to locate an error.
 */
const trackNodes = (templates: readonly Template[]): void => {
  for (const node of templates) {
    const token = node.token;
    const verbatim = TypeGuards.isHTMLToken(token);
    const begin = token.begin + (verbatim ? token.trimLeft : 0);
    const render = node.render.bind(node);
    node.render = (ctx, emitter) => {
      if (emitter instanceof LocatingEmitter) emitter.at(begin, verbatim);
      return render(ctx, emitter);
    };
    const children = node.children?.(false, true);
    if (children) trackNodes(toValueSync(children));
  }
};

/** Renders parsed templates into an emitter; throws Liquid's errors. */
const renderInto = (parsed: Template[], scope: object, emitter: BodyEmitter): string => {
  const ctx = new LiquidContext(scope, liquid.options, { sync: true }, { liquid });
  ctx.setRegister(BODY_EMITTER, emitter);
  // Synchronous: every tag and filter here is CPU-only (no file system), and the async
  // renderer's promise per node was the largest cost of a delivery (npm run bench, figure 1).
  toValueSync(liquid.renderer.renderTemplates(parsed, ctx, emitter));
  return emitter.buffer;
};

/**
 * Two stand-ins per private filter, written where its outputs are: JSON text of a value (an
 * object holding a quote), escaped string content (a quote and a backslash).
 */
const PROBES: Readonly<Record<string, readonly [string, string]>> = {
  [PRIVATE_NAMES.valueFilter]: ['null', jsonValueFilter({ p: ['q"', 1] })],
  [PRIVATE_NAMES.stringFilter]: ['', jsonStringFilter('q"\\')],
};

/**
 * Whether every body of a substitution plan is JSON, decided once: the literal text is fixed,
 * each value output writes exactly one JSON value (`jsonValueFilter`) and each string output
 * valid string content (`jsonStringFilter`), so if the text parses with two unlike stand-ins in
 * every output it parses with any. Such a template's bodies skip the per-render `JSON.parse`.
 */
const alwaysJson = (pieces: readonly Piece[]): boolean => {
  const withProbe = (which: 0 | 1): string | undefined => {
    let text = '';
    for (const piece of pieces) {
      if ('text' in piece) {
        text += piece.text;
        continue;
      }
      const probe = PROBES[piece.name]?.[which];
      if (probe === undefined) return undefined;
      text += probe;
    }
    return text;
  };
  return [withProbe(0), withProbe(1)].every((text) => {
    if (text === undefined) return false;
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  });
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

/** A template-less body: the event as JSON. */
const eventAsJsonBody = (exportName: string, format: BodyFormat): CompiledBody => ({
  exportName,
  format,
  variableNames: [],
  substitutes: false,
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
  const limitBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
  const unescaped = firstUnescapedOutput(parsed);
  if (unescaped !== undefined) {
    const { line, column } = lineAndColumn(template, rewritten.originalOffset(unescaped));
    throw new TemplateError(
      'parse',
      exportName,
      `export "${exportName}": body_template line ${line}, column ${column}: Liquid stops reading this output at a stray character (such as "," or ")") after its value or filters, and would write the value without the escaping its place needs; remove what follows the value and its filters`,
    );
  }
  const plan =
    options.substitution === false ? undefined : substitutionPlan(parsed, PRIVATE_FILTERS);
  const planIsAlwaysJson = format === 'json' && plan !== undefined && alwaysJson(plan);
  // Locating a bad byte renders a copy whose nodes say where they start; parsed on the first
  // error only, so that the deliveries' own renders pay nothing for it (bench, figure 4b).
  let tracked: Template[] | undefined;
  const trackedTemplates = (): Template[] => {
    if (tracked === undefined) {
      tracked = parseOrThrow(rewritten.source, exportName);
      trackNodes(tracked);
    }
    return tracked;
  };
  const variableNames = Object.freeze(findVariableReferences(template));
  /** The template offset of a rewritten-source offset. */
  const templateOffset = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : rewritten.originalOffset(offset);

  /** The template offset that wrote the body's byte at `bodyOffset`, by rendering again. */
  const locate = (scope: object, bodyOffset: number): number | undefined => {
    try {
      renderInto(trackedTemplates(), scope, new LocatingEmitter(limitBytes, bodyOffset));
    } catch (error) {
      const cause = originalErrorOf(error);
      if (cause instanceof LocatedOutput) return templateOffset(cause.sourceOffset);
    }
    // The problem is at the end of the body (it ends too early): the end of the template.
    return template.length;
  };

  const invalidJsonError = (body: string, scope: object, values: readonly string[]) => {
    const problem = jsonSyntaxError(body) ?? { offset: 0, message: 'not JSON' };
    const inBody = lineAndColumn(body, problem.offset);
    const excerpt = JSON.stringify(redactedExcerpt(body, problem.offset, values));
    return new TemplateError(
      'invalid_json',
      exportName,
      `export "${exportName}": body_template ${positionText(template, locate(scope, problem.offset))}rendered invalid JSON: ${problem.message}, at line ${inBody.line}, column ${inBody.column} of the body, near ${excerpt}; fix the template, or set format: text if the body is not JSON`,
    );
  };

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
    let body: string | undefined;
    if (plan !== undefined) {
      const emitter = new BodyEmitter(limitBytes);
      try {
        if (writePlan(plan, emitter, scope) !== UNPLANNED) body = emitter.buffer;
      } catch {
        // Liquid renders it again below, and reports what failed and where.
      }
      if (body !== undefined && planIsAlwaysJson) return body;
    }
    try {
      body ??= renderInto(parsed, scope, new BodyEmitter(limitBytes));
    } catch (error) {
      const cause = originalErrorOf(error);
      const at = positionText(template, templateOffset(liquidErrorOffset(error)));
      if (cause instanceof BodyLimitError) {
        throw new BodyTooLargeError(
          exportName,
          `export "${exportName}": body_template ${at}${cause.message} (webhook.max_body_bytes), so rendering stopped; write less per event (a {{ event_json }} inside a loop writes the whole event each time) or raise the limit (this event will not be retried)`,
          cause.limitBytes,
        );
      }
      // No `cause`: Liquid errors carry the render context, which holds the resolved values.
      const message = errorMessage(error).replace(LIQUID_POSITION, '');
      throw new TemplateError(
        'render',
        exportName,
        `export "${exportName}": body_template ${at}failed to render: ${redactSecrets(message, values)}; fix the template (this event will not be retried)`,
      );
    }
    if (format === 'json') {
      try {
        JSON.parse(body);
      } catch {
        throw invalidJsonError(body, scope, values);
      }
    }
    return body;
  };

  return { exportName, format, variableNames, substitutes: plan !== undefined, render };
};

/**
 * Offsets in a body template of the outputs that write `{{ event_json }}` inside a loop (see
 * `eventJsonInLoops` in `./templateSource.ts`); `validate` warns about each.
 *
 * @example
 * eventJsonInsideLoops('{% for t in tags %}{{ event_json }}{% endfor %}'); // [19]
 */
const eventJsonInsideLoops = (template: string): number[] => eventJsonInLoops(template, liquid);

const compiledBodies = new Map<string, CompiledBody>();

/**
 * The compiled body of an export, compiled on first use and cached for the life of the
 * container (keyed by name, template, format and body limit, so a changed config compiles
 * again).
 *
 * @throws TemplateError kind `parse` (not cached: the next call reports it again).
 * @example
 * const body = bodyForExport(exportConfig);
 */
const bodyForExport = (exp: ExportConfig): CompiledBody => {
  // Per config object first: building the content key on every request showed in the profile.
  const known = compiledByExport.get(exp);
  if (known) return known;
  const maxBodyBytes = exp.webhook.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES;
  const key = JSON.stringify([
    exp.name,
    exp.format,
    exp.webhook.body_template ?? null,
    maxBodyBytes,
  ]);
  let compiled = compiledBodies.get(key);
  if (!compiled) {
    compiled = compileBody({
      exportName: exp.name,
      template: exp.webhook.body_template,
      format: exp.format,
      maxBodyBytes,
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
  BodyTooLargeError,
  bodyForExport,
  compileBody,
  eventJsonInsideLoops,
  TEMPLATE_ERROR_KINDS,
  TEMPLATE_LIMITS,
  TemplateError,
  templateParseCount,
};
