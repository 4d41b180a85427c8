/**
 * From zod's issues to config issues: plain-English messages (what is wrong, what would be
 * right), one issue per unknown key with a did-you-mean, and each issue placed at its line
 * and column in the YAML source.
 */
import { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { formatPath, type KeyPath, type Locator } from './positions.js';
import { suggest } from './suggest.js';
import { describeValue, expectedWords, orList } from './wording.js';

/**
 * The schema inside wrappers (`.default()`, `.optional()`) that do not change the shape, and
 * the input side of a `.transform()` (keys are checked against what the file may contain).
 */
const unwrap = (schema: z.ZodType): z.ZodType => {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
};

/** The object schema at a key path (list indexes step into elements), if there is one. */
const objectAt = (schema: z.ZodType, path: KeyPath): z.ZodObject | undefined => {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodArray && typeof segment === 'number') {
      current = unwrap(current.element as z.ZodType);
    } else if (current instanceof z.ZodObject && typeof segment === 'string') {
      const child = current.shape[segment] as z.ZodType | undefined;
      current = child === undefined ? undefined : unwrap(child);
    } else {
      return undefined;
    }
  }
  return current instanceof z.ZodObject ? current : undefined;
};

/**
 * Why a key is unknown and what was probably meant: a typo of an allowed key, a key that
 * belongs one level down (`min_severity` beside `filters`) or one level up.
 */
const unknownKeyMessage = (schema: z.ZodType, parentPath: KeyPath, key: string): string => {
  const parent = objectAt(schema, parentPath);
  const allowed = parent === undefined ? [] : Object.keys(parent.shape);
  const typo = suggest(key, allowed);
  if (typo !== undefined) return `unknown key "${key}"; did you mean "${typo}"?`;
  for (const sibling of allowed) {
    const child = objectAt(schema, [...parentPath, sibling]);
    if (child !== undefined && key in child.shape) {
      return `unknown key "${key}" here; it belongs under "${sibling}:"`;
    }
  }
  const last = parentPath[parentPath.length - 1];
  if (typeof last === 'string') {
    const grandparent = objectAt(schema, parentPath.slice(0, -1));
    if (grandparent !== undefined && key in grandparent.shape) {
      return `unknown key "${key}" here; it belongs one level up, beside "${last}:"`;
    }
  }
  return allowed.length === 0
    ? `unknown key "${key}"`
    : `unknown key "${key}"; allowed keys are ${orList(allowed, true)}`;
};

/** A missing key: what it is, from the schema's own description. */
const requiredMessage = (schema: unknown): string => {
  const description =
    schema instanceof z.ZodType ? z.globalRegistry.get(schema)?.description : undefined;
  // The first sentence says what the key is; the rest is detail for the editor tooltip.
  const what = description?.split(/\.(\s|$)/)[0];
  return what === undefined ? 'is required' : `is required (${what})`;
};

const plural = (count: number, word: string): string =>
  `${count} ${word}${count === 1 ? 'y' : 'ies'}`;

/**
 * Messages for the generic checks (types, ranges); schema-specific messages set in
 * `schema.ts` take precedence over these.
 */
const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const input = issue.input;
      if (input === undefined) return requiredMessage(issue.inst);
      if (issue.expected === 'int' && typeof input === 'number') {
        return `must be a whole number, got ${input}`;
      }
      const message = `expected ${expectedWords(issue.expected)}, got ${describeValue(input)}`;
      if (
        issue.expected === 'string' &&
        (typeof input === 'number' || typeof input === 'boolean')
      ) {
        return `${message}; quote it ("${input}") if you mean the text`;
      }
      return message;
    }
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${plural(minimum, 'entr')}`;
      if (issue.origin === 'string') return 'must not be empty';
      const bound = issue.inclusive ? 'at least' : 'more than';
      return `must be ${bound} ${minimum}, got ${String(issue.input)}`;
    }
    case 'too_big': {
      const maximum = Number(issue.maximum);
      if (issue.origin === 'array') {
        const count = Array.isArray(issue.input) ? issue.input.length : 'too many';
        return `has ${count} entries; at most ${maximum} are allowed`;
      }
      if (issue.origin === 'string') return `must be at most ${maximum} characters long`;
      const bound = issue.inclusive ? 'at most' : 'less than';
      return `must be ${bound} ${maximum}, got ${String(issue.input)}`;
    }
    case 'invalid_value':
      return `${describeValue(issue.input)} is not allowed; use ${orList(issue.values, true)}`;
    default:
      return undefined;
  }
};

/** The offset a refinement attached (`params.offset`), pointing inside a string value. */
const offsetOf = (issue: z.core.$ZodIssue): number | undefined => {
  if (issue.code !== 'custom') return undefined;
  const offset = (issue.params as { offset?: unknown } | undefined)?.offset;
  return typeof offset === 'number' ? offset : undefined;
};

/**
 * Config issues for zod's issues, each at its place in the file.
 *
 * @example
 * const result = ObservabilityConfigSchema.safeParse(raw, { error: configErrorMap });
 * if (!result.success) issues.push(...toConfigIssues(result.error.issues, { schema, locate, file }));
 */
const toConfigIssues = (
  issues: readonly z.core.$ZodIssue[],
  context: { schema: z.ZodType; locate: Locator; file: string },
): ConfigIssue[] => {
  const { schema, locate, file } = context;
  return issues.flatMap((issue): ConfigIssue[] => {
    const path = issue.path as KeyPath;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        file,
        ...locate.key(path, key),
        path: formatPath([...path, key]),
        message: unknownKeyMessage(schema, path, key),
      }));
    }
    if (issue.code === 'invalid_key') {
      const key = String(path[path.length - 1]);
      return [
        {
          file,
          ...locate.key(path.slice(0, -1), key),
          path: formatPath(path),
          message: issue.issues[0]?.message ?? issue.message,
        },
      ];
    }
    return [
      {
        file,
        ...locate.value(path, offsetOf(issue)),
        path: formatPath(path),
        message: issue.message,
      },
    ];
  });
};

export { configErrorMap, toConfigIssues, unknownKeyMessage };
