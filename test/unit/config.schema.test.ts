import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runSchema } from '../../cli/schema.js';
import {
  DEFAULTS,
  observabilityJsonSchema,
  renderJsonSchemaFile,
} from '../../shared/config/index.js';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  pattern?: string;
  title?: string;
  description?: string;
  default?: unknown;
};

/** Every property schema with its dotted path. */
const propertiesOf = (schema: JsonSchema, path = ''): [string, JsonSchema][] => [
  ...Object.entries(schema.properties ?? {}).flatMap(([key, child]): [string, JsonSchema][] => [
    [`${path}${key}`, child],
    ...propertiesOf(child, `${path}${key}.`),
  ]),
  ...(schema.items ? propertiesOf(schema.items, `${path.replace(/\.$/, '')}[].`) : []),
];

/** Every `pattern` anywhere in the schema. */
const patternsOf = (schema: unknown): string[] => {
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema).flatMap(([key, value]) =>
    key === 'pattern' && typeof value === 'string' ? [value] : patternsOf(value),
  );
};

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

describe('Function: observabilityJsonSchema()', () => {
  it('equals the committed schema/observability.schema.json (run npm run schema if not)', async () => {
    // Act
    const committed = await readFile('schema/observability.schema.json', 'utf8');

    // Assess
    expect(committed).toBe(renderJsonSchemaFile());
  });

  it('gives every key a title and a description, for editor tooltips', () => {
    // Prepare
    const schema = observabilityJsonSchema() as JsonSchema;

    // Act
    const undocumented = propertiesOf(schema)
      .filter(([, property]) => !property.title || !property.description)
      .map(([path]) => path);

    // Assess
    expect(propertiesOf(schema).length).toBeGreaterThanOrEqual(19);
    expect(undocumented).toEqual([]);
  });

  it('documents the defaults of DEFAULTS', () => {
    // Prepare
    const properties = Object.fromEntries(propertiesOf(observabilityJsonSchema() as JsonSchema));

    // Act
    const defaults = Object.fromEntries(
      Object.entries(properties).map(([path, property]) => [path, property.default]),
    );

    // Assess
    expect(defaults).toMatchObject({
      'exports[].format': DEFAULTS.format,
      'exports[].webhook.method': DEFAULTS.method,
      'exports[].webhook.headers': {},
      'exports[].webhook.timeout_seconds': DEFAULTS.timeoutSeconds,
      'exports[].filters': {},
      'exports[].retry.max_attempts': DEFAULTS.maxAttempts,
      'exports[].retry.backoff_seconds': DEFAULTS.backoffSeconds,
      'exports[].delivery.batch_size': DEFAULTS.batchSize,
      'exports[].delivery.max_concurrency': DEFAULTS.maxConcurrency,
    });
  });

  it('uses patterns that editors can compile (ECMA-262 with the u flag)', () => {
    // Prepare
    const patterns = patternsOf(observabilityJsonSchema());

    // Act
    const compile = () => patterns.map((pattern) => new RegExp(pattern, 'u'));

    // Assess
    expect(patterns.length).toBeGreaterThanOrEqual(4);
    expect(compile).not.toThrow();
  });

  it.each([
    'config/observability.yaml',
    'config/examples/pagerduty-alerts.yaml',
    'config/examples/routing.yaml',
  ])('%s carries a modeline pointing at the schema', async (file) => {
    // Prepare
    const text = await readFile(file, 'utf8');

    // Act
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];

    // Assess
    expect(modeline).toBeDefined();
    expect(resolve(dirname(file), modeline ?? '')).toBe(
      resolve('schema/observability.schema.json'),
    );
  });
});

describe('Function: runSchema()', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-schema-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the schema file with --write', async () => {
    // Prepare
    const file = join(dir, 'schema.json');
    const { out, output } = collectingOutput();

    // Act
    const code = await runSchema({ write: true, file }, output);

    // Assess
    expect(code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(renderJsonSchemaFile());
    expect(out).toHaveLength(1);
  });

  it('exits 1 with --check when the file is out of date, 0 when it is not', async () => {
    // Prepare
    const file = join(dir, 'schema.json');
    await writeFile(file, '{}\n');
    const stale = collectingOutput();
    const fresh = collectingOutput();

    // Act
    const staleCode = await runSchema({ check: true, file }, stale.output);
    await writeFile(file, renderJsonSchemaFile());
    const freshCode = await runSchema({ check: true, file }, fresh.output);

    // Assess
    expect(staleCode).toBe(1);
    expect(stale.err.join('\n')).toContain('is out of date; run: npm run schema');
    expect(freshCode).toBe(0);
  });

  it('prints the schema without options', async () => {
    // Prepare
    const { out, output } = collectingOutput();

    // Act
    const code = await runSchema({}, output);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual(observabilityJsonSchema());
  });
});
