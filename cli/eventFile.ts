/**
 * The `--event <file>` of `test-export` and `render`: one audit event as JSON, validated the
 * way the ingest function validates it, so a bad event is caught before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import {
  type AuditEvent,
  formatEventProblems,
  validateEvent,
} from '../shared/events/auditEvent.js';
import { parseEventJson } from '../shared/events/eventJson.js';
import type { CliOutput } from './io.js';

/**
 * The event in `file`, or undefined after printing why it cannot be used (unreadable, not
 * JSON, or not a valid audit event, every problem on the one line).
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
  // Parsed as the ingest parses a message: a byte order mark is fine, a rounded number is not.
  const parsed = parseEventJson(text);
  if (!parsed.ok) {
    output.err(`${file}: not JSON (${parsed.message})`);
    return undefined;
  }
  const validation = validateEvent(parsed.value);
  if (!validation.ok) {
    output.err(`${file}: not a valid audit event: ${formatEventProblems(validation.problems)}`);
    return undefined;
  }
  return validation.event;
};

export { readEventFile };
