/**
 * `schema`: prints, writes or checks `schema/observability.schema.json`, the JSON Schema
 * generated from the zod schema of the config (`shared/config/schema.ts`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { Command } from 'commander';
import { renderJsonSchemaFile } from '../shared/config/schema.js';
import { packageFile } from '../shared/packageFile.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';

/** The committed schema file, found from the package root so it works from any directory and from dist/. */
const SCHEMA_FILE = packageFile('schema/observability.schema.json');

/** Options of {@link runSchema}. */
interface SchemaOptions {
  /** Write the file (what `npm run schema` does). */
  readonly write?: boolean;
  /** Exit 1 when the committed file differs from the generated schema. */
  readonly check?: boolean;
  /** Where the schema file is; defaults to `schema/observability.schema.json`. */
  readonly file?: string;
}

/**
 * Prints the generated JSON Schema, or writes it (`write`), or compares it with the file
 * (`check`).
 *
 * @example
 * const code = await runSchema({ write: true }, consoleOutput);
 */
const runSchema = async (options: SchemaOptions, output: CliOutput): Promise<ExitCode> => {
  const file = options.file ?? SCHEMA_FILE;
  const generated = renderJsonSchemaFile();
  const shown = relative(process.cwd(), file) || file;
  if (options.write) {
    await writeFile(file, generated, 'utf8');
    output.out(`wrote ${shown}`);
    return EXIT_CODES.ok;
  }
  if (options.check) {
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed === generated) {
      output.out(`${shown} is up to date`);
      return EXIT_CODES.ok;
    }
    output.err(`${shown} is out of date; run: npm run schema`);
    return EXIT_CODES.failed;
  }
  output.out(generated.trimEnd());
  return EXIT_CODES.ok;
};

/** The `schema` command. */
const schemaCommand = (): Command =>
  new Command('schema')
    .description('print the JSON Schema of observability.yaml (generated from the zod schema)')
    .option('--write', 'write it to schema/observability.schema.json')
    .option('--check', 'exit 1 if schema/observability.schema.json is out of date')
    .action(async (options: SchemaOptions) => {
      process.exitCode = await runSchema(options, consoleOutput);
    });

export type { SchemaOptions };
export { runSchema, SCHEMA_FILE, schemaCommand };
