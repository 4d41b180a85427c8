/**
 * `${VAR}` references in an export's url, header values and body template: finding them,
 * reporting malformed ones, substituting resolved values, and redacting those values from
 * anything we print. Pure functions, no I/O.
 *
 * A reference is `${NAME}` with NAME matching `[A-Za-z_][A-Za-z0-9_]*`. There is no escape
 * for a literal `${NAME}`; a template that needs one can write `{{ "$" }}{NAME}`. `${{` and
 * `${%` are not references: they are a literal `$` followed by Liquid (`${{ amount }}`).
 */
import type { ExportConfig } from '../config/types.js';
import { MissingVariableError } from '../secrets/errors.js';
import { exportWithPreset } from './presets/registry.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOW_TO_WRITE = 'use ${NAME} with letters, digits and _';

/** One malformed `${...}` in a text, with its 0-based offset. */
interface MalformedReference {
  readonly offset: number;
  /** The offending text, shortened to 40 characters. */
  readonly text: string;
  readonly message: string;
}

const shorten = (text: string): string => (text.length > 40 ? `${text.slice(0, 39)}…` : text);

/**
 * Every variable name referenced in a text, each once, in first-seen order.
 *
 * @example
 * findVariableReferences('Token token=${PD_ROUTING_KEY}'); // ['PD_ROUTING_KEY']
 */
const findVariableReferences = (text: string): string[] => {
  const names = new Set<string>();
  for (const match of text.matchAll(REFERENCE)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names];
};

/**
 * Every `${` that does not start a valid reference: unclosed (before the end of its line),
 * empty (`${}`) or with an invalid name (`${1X}`, `${A-B}`).
 *
 * @example
 * findMalformedReferences('x ${A-B}');
 * // [{ offset: 2, text: '${A-B}', message: '"${A-B}" is not a valid reference: use ${NAME} ...' }]
 */
const findMalformedReferences = (text: string): MalformedReference[] => {
  const problems: MalformedReference[] = [];
  let from = 0;
  for (;;) {
    const offset = text.indexOf('${', from);
    if (offset === -1) return problems;
    const next = text[offset + 2];
    // `${{ amount }}` and `${% ... %}` are a dollar sign in front of Liquid, not a reference.
    if (next === '{' || next === '%') {
      from = offset + 2;
      continue;
    }
    const close = text.indexOf('}', offset + 2);
    const lineEnd = text.slice(offset + 2).search(/[\r\n]/);
    const lineEndOffset = lineEnd === -1 ? -1 : offset + 2 + lineEnd;
    if (close === -1 || (lineEndOffset !== -1 && lineEndOffset < close)) {
      const snippet = shorten(text.slice(offset, lineEndOffset === -1 ? undefined : lineEndOffset));
      problems.push({
        offset,
        text: snippet,
        message: `"${snippet}" is not closed: ${HOW_TO_WRITE}`,
      });
      from = offset + 2;
      continue;
    }
    const name = text.slice(offset + 2, close);
    const snippet = shorten(text.slice(offset, close + 1));
    if (name === '') {
      problems.push({ offset, text: snippet, message: `"\${}" is empty: ${HOW_TO_WRITE}` });
    } else if (!VALID_NAME.test(name)) {
      problems.push({
        offset,
        text: snippet,
        message: `"${snippet}" is not a valid reference: ${HOW_TO_WRITE}, not starting with a digit`,
      });
    }
    from = close + 1;
  }
};

/**
 * Every variable an export needs: its url, header values, body template and signing secrets,
 * its preset's included, each name once. Everything listed here is resolved before a send, provisioned as an SSM
 * parameter when deployed, and redacted from output.
 *
 * @example
 * exportVariableNames(config.exports[0]); // ['PD_ROUTING_KEY']
 */
const exportVariableNames = (exportConfig: ExportConfig): string[] => {
  // Asked once per delivery: scanning the template every time showed in the profile.
  const cached = variableNamesCache.get(exportConfig);
  if (cached) return [...cached];
  // With its preset's template and headers where the export has none of its own (a preset
  // detected at send time needs no variables; see shared/request/presets/registry.ts).
  const exp = exportWithPreset(exportConfig);
  const texts = [exp.webhook.url, ...Object.values(exp.webhook.headers)];
  if (exp.webhook.body_template !== undefined) texts.push(exp.webhook.body_template);
  texts.push(...(exp.webhook.signing?.secrets ?? []));
  const names = [...new Set(texts.flatMap(findVariableReferences))];
  variableNamesCache.set(exportConfig, names);
  return [...names];
};

/** Variable names per export object (configs are immutable once loaded). */
const variableNamesCache = new WeakMap<ExportConfig, readonly string[]>();

/**
 * Replaces every `${NAME}` with its value, as plain text (for urls and header values; body
 * templates escape values themselves, see `shared/request/template.ts`).
 *
 * @throws MissingVariableError listing every referenced name without a value.
 * @example
 * substituteVariables('Token token=${KEY}', { KEY: 'abc' }, 'pagerduty-alerts'); // 'Token token=abc'
 */
const substituteVariables = (
  text: string,
  values: Readonly<Record<string, string>>,
  exportName: string,
): string => {
  const missing = findVariableReferences(text).filter((name) => !hasValue(values, name));
  if (missing.length > 0) {
    throw new MissingVariableError({
      variables: missing,
      exportName,
      hint: "resolve the export's variables (environment or SSM Parameter Store) before sending",
    });
  }
  // A replacer function, so `$&` and friends in a value are not interpreted.
  return text.replace(REFERENCE, (_reference, name: string) => values[name] ?? '');
};

/** Where the text read so far ends inside a URL: path, a query key, a query value, fragment. */
type UrlPart = 'path' | 'key' | 'value' | 'fragment';

/** The part of a URL after `text`, when the text before it ended in `part`. */
const urlPartAfter = (part: UrlPart, text: string): UrlPart => {
  let current = part;
  for (const character of text) {
    if (current === 'fragment') return current;
    if (character === '#') current = 'fragment';
    else if (character === '?' && current === 'path') current = 'key';
    else if (character === '&' && current !== 'path') current = 'key';
    else if (character === '=' && current === 'key') current = 'value';
  }
  return current;
};

/** Percent-encoded; a lone surrogate (which cannot be encoded) becomes U+FFFD, as URL does. */
const encodeQueryValue = (value: string): string =>
  encodeURIComponent(
    value.replace(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '\uFFFD',
    ),
  );

/**
 * {@link substituteVariables} for a URL: a `${NAME}` in a query value (`?k=${TOKEN}`) is
 * percent-encoded, so a value holding `&`, `=` or `#` stays one value instead of adding a
 * parameter or cutting the query. Everywhere else (the whole URL, the path, a query key, the
 * whole query after `?`) the value is inserted as it is: there it is meant to be URL text.
 * What a value inserts counts too: `${BASE}&k=${TOKEN}`, with a BASE holding `?`, encodes TOKEN.
 *
 * @throws MissingVariableError listing every referenced name without a value.
 * @example
 * substituteUrlVariables('https://x/?k=${T}', { T: 'a&b=1#x' }, 'e'); // 'https://x/?k=a%26b%3D1%23x'
 */
const substituteUrlVariables = (
  url: string,
  values: Readonly<Record<string, string>>,
  exportName: string,
): string => {
  // The same checks and errors as any other text.
  substituteVariables(url, values, exportName);
  let out = '';
  let part: UrlPart = 'path';
  let from = 0;
  for (const match of url.matchAll(REFERENCE)) {
    const literal = url.slice(from, match.index);
    part = urlPartAfter(part, literal);
    const value = values[match[1] ?? ''] ?? '';
    const inserted = part === 'value' ? encodeQueryValue(value) : value;
    out += literal + inserted;
    part = urlPartAfter(part, inserted);
    from = match.index + match[0].length;
  }
  return out + url.slice(from);
};

/** Own properties only: `${constructor}` must not resolve to Object.prototype.constructor. */
const hasValue = (values: Readonly<Record<string, string>>, name: string): boolean =>
  Object.hasOwn(values, name) && typeof values[name] === 'string';

export type { MalformedReference };
export {
  exportVariableNames,
  findMalformedReferences,
  findVariableReferences,
  substituteUrlVariables,
  substituteVariables,
};
