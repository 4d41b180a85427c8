/**
 * The bad-config corpus: every file in test/fixtures/bad-configs/ states, in `# expect:`
 * header comments, each error it must produce (line, optional column, message fragment), and
 * in `# warn:` comments each warning. A file must produce exactly those errors and warnings,
 * no more, which also proves that every problem of a file is reported at once. A file with
 * warnings only (a filter no event can pass) must still load.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigIssue, formatIssue, parseConfig } from '../../shared/config/index.js';

const CORPUS = join(import.meta.dirname, '../fixtures/bad-configs');
const EXPECT = /^# expect: (\d+)(?::(\d+))?: (.+)$/;
const WARN = /^# warn: (\d+)(?::(\d+))?: (.+)$/;

interface Expectation {
  line: number;
  col?: number;
  fragment: string;
}

const expectationsOf = (text: string, pattern = EXPECT): Expectation[] =>
  text.split('\n').flatMap((line) => {
    const match = pattern.exec(line);
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
    const withoutExpectations = files.filter((file) => {
      const text = readFileSync(join(CORPUS, file), 'utf8');
      return expectationsOf(text).length + expectationsOf(text, WARN).length === 0;
    });

    // Act & Assess
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(withoutExpectations).toEqual([]);
  });

  const matching = (issues: readonly ConfigIssue[], expectations: readonly Expectation[]) => {
    const found = issues.map((issue) => ({
      line: issue.line,
      col: issue.col,
      text: formatIssue(issue),
    }));
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
  };

  it.each(files)('%s: reports exactly the expected problems at their lines', async (file) => {
    // Prepare
    const text = readFileSync(join(CORPUS, file), 'utf8');
    const expectations = expectationsOf(text);
    const warningExpectations = expectationsOf(text, WARN);

    // Act
    const { config, issues, warnings } = await parseConfig(text, `bad-configs/${file}`);

    // Assess
    if (expectations.length > 0) expect(config).toBeUndefined();
    else expect(config).toBeDefined();
    matching(issues, expectations);
    // Warnings of a file with errors (http:// and the like) are asserted only when it states some.
    if (expectations.length === 0 || warningExpectations.length > 0) {
      matching(warnings, warningExpectations);
    }
  });
});
