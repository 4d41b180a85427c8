/**
 * Where a key path lives in the YAML source: from `exports[1].webhook.method` to line 12,
 * column 15. Built once per parsed document; lines and columns are 1-based.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Scalar,
} from 'yaml';

/** A key path as zod reports it: map keys and list indexes. */
type KeyPath = readonly PropertyKey[];

interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** Finds positions of key paths in one parsed document. */
interface Locator {
  /**
   * The value at `path`; when the path does not exist (a missing key), its nearest existing
   * parent. `offset` points inside a string value when the scalar's source allows it.
   */
  value(path: KeyPath, offset?: number): SourcePosition;
  /** The key `key` of the map at `parentPath` (unknown or invalid keys); else that map. */
  key(parentPath: KeyPath, key: string): SourcePosition;
  /** A 0-based offset of the source text. */
  offset(offset: number): SourcePosition;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The key path as people write it: `exports[1].webhook.headers["X Bad"]`.
 *
 * @example
 * formatPath(['exports', 1, 'webhook', 'method']); // 'exports[1].webhook.method'
 */
const formatPath = (path: KeyPath): string => {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (!SIMPLE_KEY.test(key)) out += `[${JSON.stringify(key)}]`;
      else out += out === '' ? key : `.${key}`;
    }
  }
  return out;
};

/** More nested aliases than any config needs; a guard against a cycle, not a limit. */
const MAX_ALIAS_DEPTH = 32;

/** A YAML merge key `<<` (parsed with `merge: true`, its value is a symbol). */
const isMergeKey = (key: unknown): boolean =>
  isScalar(key) && (typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN'));

/** The plain value of a map key node (`name`, `1`), for comparing with a zod path segment. */
const keyText = (key: unknown): string =>
  isScalar(key) ? String(key.value) : String(key as string | number);

interface LocatorSource {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly text: string;
}

/** Maps offset 0-based into a literal block scalar (`|`) to its source line and column. */
const blockLiteralOffset = (
  node: Scalar,
  value: string,
  offset: number,
  source: LocatorSource,
): number | undefined => {
  const [start, end] = node.range ?? [0, 0];
  const raw = source.text.slice(start, end);
  const headerEnd = raw.indexOf('\n');
  // An explicit indentation indicator (`|2`) is rare; point at the start rather than guess.
  if (headerEnd === -1 || /^[|>][+-]?[1-9]/.test(raw)) return undefined;
  const sourceLines = raw.slice(headerEnd + 1).split('\n');
  const firstContent = sourceLines.find((line) => line.trim() !== '');
  if (firstContent === undefined) return undefined;
  const indent = firstContent.length - firstContent.trimStart().length;
  const before = value.slice(0, offset);
  const lineIndex = before.split('\n').length - 1;
  const column = offset - (before.lastIndexOf('\n') + 1);
  const valueLine = value.split('\n')[lineIndex] ?? '';
  const sourceLine = sourceLines[lineIndex];
  if (sourceLine?.slice(indent, indent + valueLine.length) !== valueLine) return undefined;
  const lineStart =
    start + headerEnd + 1 + sourceLines.slice(0, lineIndex).reduce((n, l) => n + l.length + 1, 0);
  return lineStart + indent + column;
};

/**
 * Source offset of a character of a string value, when the scalar's source spells the value
 * out unchanged (no escapes, no folding); otherwise undefined and callers use the node start.
 */
const scalarOffset = (node: Scalar, offset: number, source: LocatorSource): number | undefined => {
  if (typeof node.value !== 'string' || !node.range) return undefined;
  const value = node.value;
  const [start, end] = node.range;
  const raw = source.text.slice(start, end);
  switch (node.type) {
    case 'BLOCK_LITERAL':
      return blockLiteralOffset(node, value, offset, source);
    case 'PLAIN':
      return !value.includes('\n') && raw.startsWith(value) ? start + offset : undefined;
    case 'QUOTE_SINGLE':
    case 'QUOTE_DOUBLE':
      return !value.includes('\n') && raw.slice(1, 1 + value.length) === value
        ? start + 1 + offset
        : undefined;
    default:
      return undefined;
  }
};

/**
 * A locator for one parsed document.
 *
 * @example
 * const locate = createLocator({ doc, lineCounter, text });
 * locate.value(['exports', 1, 'webhook', 'method']); // { line: 12, col: 15 }
 */
const createLocator = (source: LocatorSource): Locator => {
  const { doc, lineCounter } = source;
  const at = (offset: number): SourcePosition => lineCounter.linePos(offset);

  /**
   * The node of `segment` under `parent`, through aliases (`*hook`) and merge keys
   * (`<<: *defaults`), so a value that came from an anchor is placed where it is written.
   */
  const childOf = (parent: unknown, segment: PropertyKey, depth = 0): unknown => {
    // Aliases nest at most as deep as the file; the bound only guards against a cycle.
    if (depth > MAX_ALIAS_DEPTH) return undefined;
    const node = isAlias(parent) ? parent.resolve(doc) : parent;
    if (isSeq(node)) return typeof segment === 'number' ? node.items[segment] : undefined;
    if (!isMap(node)) return undefined;
    const own = node.items.find(
      (pair) => !isMergeKey(pair.key) && keyText(pair.key) === String(segment),
    );
    if (own !== undefined) return own.value;
    // YAML merge: the map's own keys win, then the merged maps in the order listed.
    for (const pair of node.items) {
      if (!isMergeKey(pair.key)) continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const found = childOf(source, segment, depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };

  const getIn = (path: KeyPath): unknown => {
    let node: unknown = doc.contents;
    for (const segment of path) {
      node = childOf(node, segment);
      if (node === undefined || node === null) return undefined;
    }
    return isAlias(node) ? node.resolve(doc) : node;
  };

  const nodeAt = (path: KeyPath): { node: unknown; exact: boolean } => {
    for (let depth = path.length; depth > 0; depth -= 1) {
      const node = getIn(path.slice(0, depth));
      if (node !== undefined && node !== null) return { node, exact: depth === path.length };
    }
    return { node: doc.contents, exact: path.length === 0 };
  };

  const startOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range?.[0];
  };

  const value = (path: KeyPath, offset?: number): SourcePosition => {
    const { node, exact } = nodeAt(path);
    if (exact && offset !== undefined && isScalar(node)) {
      const inside = scalarOffset(node, offset, source);
      if (inside !== undefined) return at(inside);
    }
    return at(startOf(node) ?? 0);
  };

  const key = (parentPath: KeyPath, name: string): SourcePosition => {
    const parent = parentPath.length === 0 ? doc.contents : getIn(parentPath);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => keyText(item.key) === name);
      const start = startOf(pair?.key);
      if (start !== undefined) return at(start);
    }
    return value(parentPath);
  };

  return { offset: at, value, key };
};

export type { KeyPath, Locator, SourcePosition };
export { createLocator, formatPath };
