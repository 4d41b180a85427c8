/**
 * The source rewrite that makes a body template JSON-safe, done once per template before
 * Liquid parses it.
 *
 * Liquid knows nothing about JSON: `"summary": "{{agent_id}}"` with an agent id containing a
 * quote would produce broken JSON, or let event data inject JSON keys. So for `format: json`
 * we walk the template's literal text like a JSON lexer, tracking whether we are inside a JSON
 * string literal, and give every `{{ expr }}` a private filter chosen by where it lands:
 * - inside a string: the value escaped as JSON string content;
 * - outside: the value as raw JSON (`{{event_json}}`, objects, numbers; strings quoted; the
 *   `json` filter's result as the JSON it is, not a string holding it);
 * - inside `{% capture %}`: the value as text, unescaped, because captured text is escaped
 *   once, where it is output (and the captured literal text does not move the JSON lexer).
 * With `format: text` every output is written as text, objects and arrays as JSON.
 *
 * `${VAR}` references in the literal text become outputs of a private scope key first, so
 * they get the same escaping where they land and their values stay out of the parsed template
 * (they are passed at render time, never at load time).
 *
 * The walk is linear: it does not follow `{% if %}` branches. A template whose branches leave
 * the JSON lexer in different states may be escaped wrongly; the rendered body is parsed as
 * JSON before it is sent, so such a template fails loudly instead of sending garbage.
 */
import { type Liquid, Tokenizer, type TopLevelToken, TypeGuards } from 'liquidjs';
import type { BodyFormat } from '../config/types.js';

/** Names of the private filters and scope key the rewrite targets (see `shared/request/template.ts`). */
const PRIVATE_NAMES = {
  /** Value escaped as JSON string content. */
  stringFilter: '__tappass_json_string',
  /** Value as raw JSON text. */
  valueFilter: '__tappass_json_value',
  /** Value as text: strings as they are, objects and arrays as JSON. */
  textFilter: '__tappass_text',
  /** Scope key holding the resolved `${VAR}` values; set last, so no event field can shadow it. */
  varsKey: '__tappass_vars',
} as const;

/** Tags that read other templates: there are none (no file system), so say so up front. */
const FILE_TAGS = new Set(['include', 'render', 'layout']);

/** Tags that write a value without an output token, so the JSON escaping cannot reach them. */
const UNESCAPED_OUTPUT_TAGS = new Set(['echo', 'cycle']);

const REFERENCE_AT = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/y;
const REFERENCE_ANYWHERE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;

/** Why a template cannot be rewritten, with the 0-based offset in the template. */
interface SourceProblem {
  readonly offset: number;
  readonly message: string;
}

type RewriteResult =
  | {
      ok: true;
      source: string;
      /** The offset in the template of an offset in `source`, for messages. */
      originalOffset: (sourceOffset: number) => number;
    }
  | { ok: false; problem: SourceProblem };

/** Where an output lands in the rendered body. */
type Landing = 'text' | 'json-string' | 'json-value';

const filterFor = (landing: Landing): string =>
  landing === 'json-string'
    ? ` | ${PRIVATE_NAMES.stringFilter}`
    : landing === 'json-value'
      ? ` | ${PRIVATE_NAMES.valueFilter}`
      : ` | ${PRIVATE_NAMES.textFilter}`;

const variableOutput = (name: string, landing: Landing): string =>
  `{{ ${PRIVATE_NAMES.varsKey}.${name}${filterFor(landing)} }}`;

/** The first word of each line of a `{% liquid %}` tag: the tags it runs. */
const liquidTagNames = (args: string): string[] =>
  args
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');

/** The tags a tag token runs: itself, plus every line of a `{% liquid %}` tag. */
const tagNames = (name: string, args: string): string[] =>
  name === 'liquid' ? liquidTagNames(args) : [name];

/** Checks a tag against what templates may do; returns the problem, if any. */
const checkTag = (names: readonly string[], format: BodyFormat): string | undefined => {
  for (const name of names) {
    if (FILE_TAGS.has(name)) {
      return `{% ${name} %} is not available: templates cannot read other templates or files; inline the content instead`;
    }
    if (format === 'json' && UNESCAPED_OUTPUT_TAGS.has(name)) {
      return `{% ${name} %} is not available with format: json because its output cannot be JSON-escaped; use {{ ... }} instead`;
    }
  }
  return undefined;
};

/**
 * Rewrites a template's source for the given format (see the file comment).
 *
 * @example
 * rewriteTemplateSource('{"a": "{{x}}", "b": {{event_json}}}', 'json', liquid);
 * // { ok: true, source: '{"a": "{{x | __tappass_json_string}}", "b": {{event_json | __tappass_json_value}}}' }
 */
/** The template's top-level tokens, read with the options of `liquid`; throws on bad syntax. */
const topLevelTokens = (template: string, liquid: Liquid): TopLevelToken[] => {
  const options = liquid.options;
  return new Tokenizer(
    template,
    options.operators,
    undefined,
    undefined,
    options.groupedExpressions,
  ).readTopLevelTokens(options);
};

const rewriteTemplateSource = (
  template: string,
  format: BodyFormat,
  liquid: Liquid,
): RewriteResult => {
  let tokens: TopLevelToken[];
  try {
    tokens = topLevelTokens(template, liquid);
  } catch (error) {
    return {
      ok: false,
      problem: { offset: 0, message: error instanceof Error ? error.message : String(error) },
    };
  }

  const json = format === 'json';
  const out: string[] = [];
  let inString = false;
  let escaped = false;
  let inComment = false;
  let inRaw = false;
  let captureDepth = 0;

  // Where each piece of `out` came from: [offset in the output, offset in the template,
  // 1 if copied verbatim (offsets inside map 1:1) else 0], so messages can point at the
  // template as written.
  const anchors: number[] = [];
  let outLength = 0;
  const copy = (from: number, to: number): void => {
    if (to <= from) return;
    anchors.push(outLength, from, 1);
    out.push(template.slice(from, to));
    outLength += to - from;
  };
  const insert = (text: string, at: number): void => {
    anchors.push(outLength, at, 0);
    out.push(text);
    outLength += text.length;
  };

  const landing = (): Landing =>
    !json || captureDepth > 0 ? 'text' : inString ? 'json-string' : 'json-value';

  for (const token of tokens) {
    const text = template.slice(token.begin, token.end);
    if (TypeGuards.isTagToken(token)) {
      if (inComment) {
        if (token.name === 'endcomment') inComment = false;
        copy(token.begin, token.end);
        continue;
      }
      if (token.name === 'comment') inComment = true;
      else if (token.name === 'raw') inRaw = true;
      else if (token.name === 'endraw') inRaw = false;
      else if (token.name === 'capture') captureDepth += 1;
      else if (token.name === 'endcapture') captureDepth = Math.max(0, captureDepth - 1);
      const problem = checkTag(tagNames(token.name, token.args), format);
      if (problem) return { ok: false, problem: { offset: token.begin, message: problem } };
      if (token.name !== '#' && REFERENCE_ANYWHERE.test(text)) {
        return { ok: false, problem: referenceInsideLiquid(token.begin) };
      }
      copy(token.begin, token.end);
    } else if (TypeGuards.isOutputToken(token)) {
      if (!inComment && REFERENCE_ANYWHERE.test(text)) {
        return { ok: false, problem: referenceInsideLiquid(token.begin) };
      }
      const [contentBegin, contentEnd] = token.contentRange;
      if (inComment || contentBegin === contentEnd) {
        copy(token.begin, token.end);
        continue;
      }
      copy(token.begin, contentEnd);
      insert(filterFor(landing()), contentEnd);
      copy(contentEnd, token.end);
    } else if (inComment) {
      copy(token.begin, token.end);
    } else {
      // Literal text: track the JSON lexer state and turn `${VAR}` into private outputs.
      let copiedFrom = 0;
      for (let i = 0; i < text.length; i++) {
        const char = text[i];
        if (char === '$') {
          REFERENCE_AT.lastIndex = i;
          const match = REFERENCE_AT.exec(text);
          if (match?.[1] !== undefined) {
            const output = variableOutput(match[1], landing());
            copy(token.begin + copiedFrom, token.begin + i);
            // Inside {% raw %} an output is literal text: step out of raw for it.
            insert(inRaw ? `{% endraw %}${output}{% raw %}` : output, token.begin + i);
            i += match[0].length - 1;
            copiedFrom = i + 1;
            continue;
          }
        }
        // Captured text is not output here: it does not move the JSON lexer.
        if (!json || captureDepth > 0) continue;
        if (inString) {
          if (escaped) escaped = false;
          else if (char === '\\') escaped = true;
          else if (char === '"') inString = false;
        } else if (char === '"') {
          inString = true;
        }
      }
      copy(token.begin + copiedFrom, token.end);
    }
  }
  return { ok: true, source: out.join(''), originalOffset: offsetMap(anchors, template.length) };
};

/** {@link RewriteResult}'s `originalOffset` from the rewrite's anchors. */
const offsetMap =
  (anchors: readonly number[], templateLength: number) =>
  (sourceOffset: number): number => {
    // Binary search for the last anchor at or before the offset (anchors are in output order).
    let low = 0;
    let high = anchors.length / 3 - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((anchors[middle * 3] ?? 0) <= sourceOffset) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found === -1) return 0;
    const outAt = anchors[found * 3] ?? 0;
    const templateAt = anchors[found * 3 + 1] ?? 0;
    const verbatim = anchors[found * 3 + 2] === 1;
    return Math.min(templateLength, verbatim ? templateAt + (sourceOffset - outAt) : templateAt);
  };

/** Tags whose body runs once per item. */
const LOOP_TAGS: Readonly<Record<string, string>> = { for: 'endfor', tablerow: 'endtablerow' };

const EVENT_JSON = /(?<![\w.])event_json(?!\w)/;

/**
 * Offsets of the outputs that write `event_json` inside a loop (`{% for %}`, `{% tablerow %}`):
 * each item writes the whole event again, so one large event with many items makes a body
 * of hundreds of megabytes (stopped by the body limit, but never what was meant). Empty when
 * there are none, or when the template cannot be tokenized (that is reported elsewhere).
 *
 * @example
 * eventJsonInLoops('{% for t in tags %}{{ event_json }}{% endfor %}', liquid); // [19]
 */
const eventJsonInLoops = (template: string, liquid: Liquid): number[] => {
  let tokens: TopLevelToken[];
  try {
    tokens = topLevelTokens(template, liquid);
  } catch {
    return [];
  }
  const found: number[] = [];
  let loops = 0;
  let inComment = false;
  for (const token of tokens) {
    if (TypeGuards.isTagToken(token)) {
      if (inComment) inComment = token.name !== 'endcomment';
      else if (token.name === 'comment') inComment = true;
      else if (Object.hasOwn(LOOP_TAGS, token.name)) loops += 1;
      else if (Object.values(LOOP_TAGS).includes(token.name)) loops = Math.max(0, loops - 1);
    } else if (TypeGuards.isOutputToken(token) && !inComment && loops > 0) {
      const [begin, end] = token.contentRange;
      if (EVENT_JSON.test(template.slice(begin, end))) found.push(token.begin);
    }
  }
  return found;
};

const referenceInsideLiquid = (offset: number): SourceProblem => ({
  offset,
  message:
    '${VAR} references can only be used in the literal text of a template, not inside {{ }} or {% %}; move it out of the Liquid tag',
});

export type { RewriteResult, SourceProblem };
export { eventJsonInLoops, PRIVATE_NAMES, rewriteTemplateSource };
