/**
 * Every relative link in README.md and docs/ must lead somewhere: the file exists (relative to
 * the linking file) and a `#anchor` names a heading of the target, slugged as GitHub does. A
 * moved source file or a renamed heading fails here instead of on GitHub. Reads files only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The front page stays a front page: the reference lives in docs/. */
const README_MAX_LINES = 400;

/** A link with a scheme (`https:`, `mailto:`, ...) leaves the repository: not checked. */
const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** GitHub's anchors for line numbers in a source file: `#L10`, `#L10-L20`. */
const LINE_ANCHOR = /^L\d+(-L\d+)?$/;

interface Link {
  readonly line: number;
  readonly target: string;
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
const proseLines = (text: string): { line: number; text: string }[] => {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((content, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(content)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ line: index + 1, text: content });
  });
  return lines;
};

/** Inline code spans hold no links: blank them out. */
const withoutCodeSpans = (text: string): string =>
  text.replace(/(`+)[^`]*?\1/g, (span) => ' '.repeat(span.length));

/**
 * GitHub's anchor for a heading (github-slugger): the text as rendered, lower-cased, without
 * punctuation other than `-` and `_`, each space a `-`.
 */
const githubSlug = (heading: string): string =>
  heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a Markdown file: one per heading, repeats suffixed `-1`, `-2`, ... */
const anchorsOf = (markdown: string): Set<string> => {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    for (const match of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? '');
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
};

/** Inline links and images, `[text](target "title")`, and reference definitions. */
const linksOf = (markdown: string): Link[] =>
  proseLines(markdown).flatMap(({ line, text }) => {
    const prose = withoutCodeSpans(text);
    const inline = [...prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)];
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(prose);
    return [...inline, ...(definition ? [definition] : [])].map((match) => ({
      line,
      target: (match[1] ?? '').replace(/^<|>$/g, ''),
    }));
  });

/** Why a link from `file` does not resolve, or undefined when it does. */
const brokenBecause = (file: string, target: string): string | undefined => {
  if (target === '') return 'empty link';
  const hash = target.indexOf('#');
  const path = decodeURIComponent(
    (hash === -1 ? target : target.slice(0, hash)).split('?')[0] ?? '',
  );
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved =
    path === '' ? file : path.startsWith('/') ? join(ROOT, path) : join(dirname(file), path);
  if (!existsSync(resolved)) return `no file ${relative(ROOT, resolved)}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!resolved.endsWith('.md') || statSync(resolved).isDirectory()) {
    return LINE_ANCHOR.test(anchor) ? undefined : `#${anchor} points into a file without headings`;
  }
  return anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)
    ? undefined
    : `no heading #${anchor} in ${relative(ROOT, resolved)}`;
};

const markdownFiles = (directory: string): string[] =>
  readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });

const DOCUMENTS = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

describe('Function: githubSlug()', () => {
  it.each([
    ['Quick start', 'quick-start'],
    ['Configuration: `config/observability.yaml`', 'configuration-configobservabilityyaml'],
    ['`${VAR}` references', 'var-references'],
    ['`exports[].webhook.signing`', 'exportswebhooksigning'],
    ['Event age: `max_event_age_seconds`', 'event-age-max_event_age_seconds'],
    [
      'Validating: `npm run validate -- --config <file>`',
      'validating-npm-run-validate------config-file',
    ],
    ['1. Prerequisites and bootstrap', '1-prerequisites-and-bootstrap'],
    ['Signing, idempotency and the SSRF guard', 'signing-idempotency-and-the-ssrf-guard'],
    ['See [the docs](docs/cli.md)', 'see-the-docs'],
  ])('slugs %j as %j', (heading, slug) => {
    // Act
    const result = githubSlug(heading);

    // Assess
    expect(result).toBe(slug);
  });

  it('numbers repeated headings -1, -2 and ignores headings in code blocks', () => {
    // Prepare
    const markdown = ['# Notes', '## Notes', '```sh', '# Notes', '```', '### Notes'].join('\n');

    // Act
    const anchors = anchorsOf(markdown);

    // Assess
    expect([...anchors]).toEqual(['notes', 'notes-1', 'notes-2']);
  });
});

describe('Documentation links', () => {
  it('finds the documents to check', () => {
    // Assess
    expect(DOCUMENTS.map((file) => relative(ROOT, file))).toEqual(
      expect.arrayContaining(['README.md', join('docs', 'configuration.md')]),
    );
  });

  it('resolves every relative link in README.md and docs/ (file, and #anchor to a heading)', () => {
    // Act
    const broken = DOCUMENTS.flatMap((file) =>
      linksOf(readFileSync(file, 'utf8'))
        .filter((link) => !EXTERNAL.test(link.target))
        .flatMap((link) => {
          const reason = brokenBecause(file, link.target);
          return reason === undefined
            ? []
            : [`${relative(ROOT, file)}:${link.line}: (${link.target}) ${reason}`];
        }),
    );

    // Assess
    expect(broken).toEqual([]);
  });

  it(`keeps README.md to at most ${README_MAX_LINES} lines`, () => {
    // Act
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;

    // Assess
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});
