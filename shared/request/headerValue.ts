/**
 * What an HTTP header value may hold: tab and printable ASCII (0x20-0x7E), nothing else. One
 * rule, read by `validate` (on the value as written) and by `prepareRequest` (on the value with
 * its `${VAR}`s resolved), so whatever validate accepts can be sent.
 *
 * RFC 9110 also tolerates bytes 0x80-0xFF (`obs-text`), but a JavaScript string is not bytes:
 * Node.js's HTTP client (shared/transport/http.ts) sends `é` (U+00E9) as the single Latin-1 byte
 * 0xE9, which receivers read as garbage or refuse, and refuses characters above U+00FF outright.
 * ASCII is the only safe set.
 */
import { SecretsError } from '../secrets/errors.js';
import { findVariableReferences } from './variables.js';

/** Why a header value cannot be sent. */
type HeaderValueProblemKind = 'line_break' | 'control' | 'non_ascii';

/** The first character of a header value that HTTP cannot carry. */
interface HeaderValueProblem {
  readonly kind: HeaderValueProblemKind;
  /** 0-based offset (UTF-16 code units) of the character in the value. */
  readonly offset: number;
  /** The character itself (a whole code point). Never shown for a resolved value. */
  readonly char: string;
}

/**
 * The first character of `value` that an HTTP header value cannot carry, or undefined when
 * the value can be sent as it is.
 *
 * @example
 * headerValueProblem('équipe'); // { kind: 'non_ascii', offset: 0, char: 'é' }
 * headerValueProblem('Bearer ${TOKEN}'); // undefined
 */
const headerValueProblem = (value: string): HeaderValueProblem | undefined => {
  let offset = 0;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0x0d || code === 0x0a) return { kind: 'line_break', offset, char };
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return { kind: 'control', offset, char };
    if (code > 0x7e) return { kind: 'non_ascii', offset, char };
    offset += char.length;
  }
  return undefined;
};

/** `U+00E9` */
const codePoint = (char: string): string =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * What `validate` says about a problem of a value written in the config. Shows a non-ASCII
 * character (one character of a literal says nothing of a credential, and the user needs to
 * find it), never the value.
 *
 * @example
 * describeHeaderValueProblem({ kind: 'non_ascii', offset: 0, char: 'é' });
 * // 'contains the non-ASCII character "é" (U+00E9); header values carry only ASCII: ...'
 */
const describeHeaderValueProblem = (problem: HeaderValueProblem): string => {
  switch (problem.kind) {
    case 'line_break':
      return 'contains a line break (CR or LF), which would split the HTTP header; put the value on one line';
    case 'control':
      return `contains a control character (${codePoint(problem.char)}); header values may only contain printable ASCII text and tabs`;
    case 'non_ascii':
      return `contains the non-ASCII character "${problem.char}" (${codePoint(problem.char)}); header values carry only ASCII text: write it in ASCII, percent-encode it (${encodeURIComponent(problem.char)}) if the receiver decodes that, or move it to the body`;
  }
};

const RESOLVED_WORDS: Readonly<Record<HeaderValueProblemKind, string>> = {
  line_break: 'a line break (CR or LF)',
  control: 'a control character',
  non_ascii: 'a non-ASCII character',
};

/**
 * A header value holds, once its `${VAR}`s are resolved, a character HTTP cannot carry.
 * Permanent until someone changes the variable's value (dead-letter reason `configuration`).
 * The message names the header and the variables, never the value nor the character.
 */
class HeaderValueError extends SecretsError {
  readonly exportName: string;
  readonly header: string;

  constructor(exportName: string, header: string, written: string, kind: HeaderValueProblemKind) {
    const refs = findVariableReferences(written).map((name) => `\${${name}}`);
    const from =
      refs.length === 0
        ? ''
        : ` once ${refs.join(', ')} ${refs.length > 1 ? 'are' : 'is'} resolved`;
    const fix =
      refs.length === 0
        ? 'change the value in the config'
        : `change the value of ${refs.join(', ')} (header values carry only tab and printable ASCII)`;
    super(
      `export "${exportName}": header "${header}" contains ${RESOLVED_WORDS[kind]}${from}, which HTTP cannot send; ${fix}`,
    );
    this.name = 'HeaderValueError';
    this.exportName = exportName;
    this.header = header;
  }
}

export type { HeaderValueProblem, HeaderValueProblemKind };
export { describeHeaderValueProblem, HeaderValueError, headerValueProblem };
