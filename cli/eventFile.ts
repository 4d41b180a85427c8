/**
 * The `--event <file>` of `test-export` and `render`: one audit event as JSON, validated the
 * way the ingest function validates it, so a bad event is caught before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { type AuditEvent, validateEvent } from '../shared/events/auditEvent.js';
import type { CliOutput } from './io.js';

/**
 * The event in `file`, or undefined after printing why it cannot be used (unreadable, not
 * JSON, or not a valid audit event, with every problem on its own line).
 *
 * @example
 * const event = await readEventFile('event.json', consoleOutput);
 * if (!event) return EXIT_CODES.usage;
 */
const readEventFile = async (file: string, output: CliOutput): Promise<AuditEvent | undefined> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    output.err(
      `${file}: cannot read the event file (${code === 'ENOENT' ? 'no such file' : code})`,
    );
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    output.err(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
  const validation = validateEvent(value);
  if (!validation.ok) {
    output.err(`${file}: not a valid audit event:`);
    for (const problem of validation.problems) output.err(`  ${problem.path}: ${problem.message}`);
    return undefined;
  }
  return validation.event;
};

export { readEventFile };
