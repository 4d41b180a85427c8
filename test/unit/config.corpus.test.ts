/**
 * The bad-config corpus: every file in test/fixtures/bad-configs/ states, in `# expect:`
 * header comments, each error it must produce (line, optional column, message fragment).
 * A file must produce exactly those errors, no more, which also proves that every error of a
 * file is reported at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, parseConfig } from '../../shared/config/index.js';

const CORPUS = join(import.meta.dirname, '../fixtures/bad-configs');
const EXPECT = /^# expect: (\d+)(?::(\d+))?: (.+)$/;

interface Expectation {
  line: number;
  col?: number;
  fragment: string;
}

const expectationsOf = (text: string): Expectation[] =>
  text.split('\n').flatMap((line) => {
    const match = EXPECT.exec(line);
    if (!match?.[1] || !match[3]) return [];
    return [
      {
        line: Number(match[1]),
        ...(match[2] ? { col: Number(match[2]) } : {}),
        fragment: match[3],
      },
    ];
  });

const files = readdirSync(CORPUS)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

describe('Function: parseConfig() on the bad-config corpus', () => {
  it('has at least 25 bad configs, each with expectations', () => {
    // Prepare
    const withoutExpectations = files.filter(
      (file) => expectationsOf(readFileSync(join(CORPUS, file), 'utf8')).length === 0,
    );

    // Act & Assess
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(withoutExpectations).toEqual([]);
  });

  it.each(files)('%s: reports exactly the expected errors at their lines', async (file) => {
    // Prepare
    const text = readFileSync(join(CORPUS, file), 'utf8');
    const expectations = expectationsOf(text);

    // Act
    const { config, issues } = await parseConfig(text, `bad-configs/${file}`);

    // Assess
    const found = issues.map((issue) => ({
      line: issue.line,
      col: issue.col,
      text: formatIssue(issue),
    }));
    expect(config).toBeUndefined();
    for (const expectation of expectations) {
      expect(found).toContainEqual(
        expect.objectContaining({
          line: expectation.line,
          ...(expectation.col === undefined ? {} : { col: expectation.col }),
          text: expect.stringContaining(expectation.fragment),
        }),
      );
    }
    expect(found).toHaveLength(expectations.length);
  });
});
