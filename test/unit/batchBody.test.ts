/**
 * The body of a batched request: how events become elements per format and encoding, how a
 * batch is split by max_events and max_bytes, and the batch id.
 */
import type { ExportConfig } from '../../shared/config/types.js';
import {
  BatchElementError,
  batchElement,
  batchEncodingOf,
  batchId,
  joinBatch,
  splitBatch,
} from '../../shared/pipeline/delivery/batchBody.js';
import { configFromYaml, exportsYaml } from '../helpers/pipeline.js';

const archiveExport = async (
  format: 'json' | 'text',
  encoding?: 'json_array' | 'ndjson',
): Promise<ExportConfig> => {
  const config = await configFromYaml(
    exportsYaml([{ name: 'archive', url: 'https://example.com/bulk' }]),
  );
  const base = config.exports[0];
  if (!base) throw new Error('the test config has no export');
  return {
    ...base,
    format,
    batch: {
      max_events: 100,
      max_bytes: 1024 * 1024,
      max_wait_seconds: 5,
      ...(encoding ? { encoding } : {}),
    },
  };
};

describe('Function: batchEncodingOf()', () => {
  it('follows the format unless the export chooses', async () => {
    // Act and assess
    expect(batchEncodingOf(await archiveExport('json'))).toBe('json_array');
    expect(batchEncodingOf(await archiveExport('text'))).toBe('ndjson');
    expect(batchEncodingOf(await archiveExport('json', 'ndjson'))).toBe('ndjson');
    expect(batchEncodingOf(await archiveExport('text', 'json_array'))).toBe('json_array');
  });
});

describe('Function: batchElement()', () => {
  it('puts a JSON body on one line, whatever its layout', async () => {
    // Prepare
    const exportConfig = await archiveExport('json', 'ndjson');

    // Act
    const element = batchElement(exportConfig, '{\n  "a": 1,\n  "b": "x\\ny"\n}');

    // Assess
    expect(element).toBe('{"a":1,"b":"x\\ny"}');
  });

  it('turns a text body into a JSON string for a JSON array', async () => {
    // Prepare
    const exportConfig = await archiveExport('text', 'json_array');

    // Act
    const element = batchElement(exportConfig, 'line one\nline "two"');

    // Assess
    expect(JSON.parse(element)).toBe('line one\nline "two"');
  });

  it('refuses a text body with a line break for NDJSON, which would split its line', async () => {
    // Prepare
    const exportConfig = await archiveExport('text');

    // Act and assess
    expect(() => batchElement(exportConfig, 'two\nlines')).toThrow(BatchElementError);
    expect(batchElement(exportConfig, 'one line')).toBe('one line');
  });
});

describe('Function: joinBatch()', () => {
  it('joins elements as a JSON array or as NDJSON lines', () => {
    // Act and assess
    expect(JSON.parse(joinBatch('json_array', ['{"a":1}', '{"b":2}']))).toEqual([
      { a: 1 },
      { b: 2 },
    ]);
    expect(joinBatch('ndjson', ['{"a":1}', '{"b":2}'])).toBe('{"a":1}\n{"b":2}\n');
  });
});

describe('Function: splitBatch()', () => {
  it('cuts by max_events, keeping order', () => {
    // Prepare
    const elements = Array.from({ length: 25 }, (_, index) => `{"i":${index}}`);

    // Act
    const groups = splitBatch(elements, {
      maxEvents: 10,
      maxBytes: 1024 * 1024,
      encoding: 'json_array',
    });

    // Assess
    expect(groups.map((group) => group.length)).toEqual([10, 10, 5]);
    expect(groups.flat()).toEqual(elements.map((_, index) => index));
  });

  it('cuts by max_bytes so that no joined body is larger, except a lone oversized event', () => {
    // Prepare
    const elements = ['x'.repeat(40), 'y'.repeat(40), 'z'.repeat(200), 'w'.repeat(10)].map((text) =>
      JSON.stringify(text),
    );
    const maxBytes = 100;

    // Act
    const groups = splitBatch(elements, { maxEvents: 100, maxBytes, encoding: 'json_array' });

    // Assess
    expect(groups).toEqual([[0, 1], [2], [3]]);
    for (const group of groups) {
      const body = joinBatch(
        'json_array',
        group.map((index) => elements[index] ?? ''),
      );
      if (group.length > 1) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(maxBytes);
    }
  });

  it('counts the bytes of the joined body exactly', () => {
    // Prepare: two 4-byte elements make "[aaaa,bbbb]" (11 bytes) or "aaaa\nbbbb\n" (10 bytes).
    const elements = ['aaaa', 'bbbb'];

    // Act
    const array = splitBatch(elements, { maxEvents: 10, maxBytes: 11, encoding: 'json_array' });
    const tooSmall = splitBatch(elements, { maxEvents: 10, maxBytes: 10, encoding: 'json_array' });
    const lines = splitBatch(elements, { maxEvents: 10, maxBytes: 10, encoding: 'ndjson' });

    // Assess
    expect(array).toEqual([[0, 1]]);
    expect(tooSmall).toEqual([[0], [1]]);
    expect(lines).toEqual([[0, 1]]);
  });
});

describe('Function: batchId()', () => {
  it('is the same for the same events together, and differs for another grouping', () => {
    // Act and assess
    expect(batchId(['dlv_a', 'dlv_b'])).toBe(batchId(['dlv_a', 'dlv_b']));
    expect(batchId(['dlv_a', 'dlv_b'])).not.toBe(batchId(['dlv_a']));
    expect(batchId(['dlv_a'])).toMatch(/^bat_[0-9a-f]{32}$/);
  });
});
