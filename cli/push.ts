/**
 * `push`: puts audit events onto a stage's ingest queue, as a producer should. Every event is
 * validated first, the way the ingest function validates it: invalid ones are reported with
 * their line (or array item) and not sent; the valid ones are packed, in order, into JSON arrays
 * up to SQS's message size (and the ingest's 1,000 events per message) and sent 10 messages per
 * SendMessageBatch, so the ingest queue's receives and deletes are shared by many events.
 */
import { readFile } from 'node:fs/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { LOCAL_STAGE } from '../local/constants.js';
import {
  type AuditEvent,
  EVENTS_PER_PACKED_MESSAGE,
  formatEventProblems,
  MAX_EVENT_BYTES,
  validateEvent,
} from '../shared/events/auditEvent.js';
import { BYTE_ORDER_MARK, parseEventJson } from '../shared/events/eventJson.js';
import { assertStageName, queueNames, StageNameError } from '../shared/sqs/queueNames.js';
import { type FailedPackedSend, sendPacked } from '../shared/sqs/queues.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';
import { describeSqsError, QueueLookupError, queueUrlByName, sqsTarget } from './sqsTarget.js';

/** How the input is read: a JSON document (one event or an array), or one event per line. */
const INPUT_FORMATS = { json: 'json', ndjson: 'ndjson', auto: 'auto' } as const;
type InputFormat = (typeof INPUT_FORMATS)[keyof typeof INPUT_FORMATS];

/** One event found in the input, with where it was. */
interface FoundEvent {
  /** `line 3`, `item 2` or `the event`, for messages. */
  readonly where: string;
  readonly event: AuditEvent;
}

/** One entry of the input that is not a valid event. */
interface InvalidEntry {
  readonly where: string;
  readonly problem: string;
}

interface ParsedInput {
  readonly events: readonly FoundEvent[];
  readonly invalid: readonly InvalidEntry[];
}

const checkEvent = (value: unknown, where: string): FoundEvent | InvalidEntry => {
  const validation = validateEvent(value);
  if (!validation.ok) return { where, problem: formatEventProblems(validation.problems) };
  const bytes = Buffer.byteLength(JSON.stringify(validation.event), 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    return { where, problem: `the event is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES}` };
  }
  return { where, event: validation.event };
};

const collect = (entries: readonly (FoundEvent | InvalidEntry)[]): ParsedInput => ({
  events: entries.filter((entry): entry is FoundEvent => 'event' in entry),
  invalid: entries.filter((entry): entry is InvalidEntry => 'problem' in entry),
});

const jsonError = (message: string): string => `not JSON (${message})`;

/** One event per non-blank line; line numbers are 1-based, as editors show them. */
const parseLines = (text: string): ParsedInput =>
  collect(
    text.split(/\r?\n/).flatMap((line, index) => {
      if (line.trim() === '') return [];
      const where = `line ${index + 1}`;
      const parsed = parseEventJson(line);
      return [
        parsed.ok ? checkEvent(parsed.value, where) : { where, problem: jsonError(parsed.message) },
      ];
    }),
  );

const parseDocument = (value: unknown): ParsedInput =>
  Array.isArray(value)
    ? collect(value.map((item, index) => checkEvent(item, `item ${index + 1}`)))
    : collect([checkEvent(value, 'the event')]);

/**
 * Reads events from an input's text. `json`: one event or an array of events. `ndjson`: one
 * event per line. `auto` (stdin, other file names): a whole JSON document when the text is one
 * (an array, or a single event even if pretty-printed), else one event per line.
 *
 * @example
 * parseEventInput('{"audit_id":"a",...}\n{not json}\n', 'ndjson');
 * // { events: [{ where: 'line 1', event }], invalid: [{ where: 'line 2', problem: 'not JSON (...)' }] }
 */
const parseEventInput = (text: string, format: InputFormat): ParsedInput => {
  // A byte order mark starts the file, not its first line.
  const body = text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
  if (format === INPUT_FORMATS.ndjson) return parseLines(body);
  const parsed = parseEventJson(body);
  if (parsed.ok) return parseDocument(parsed.value);
  if (format === INPUT_FORMATS.json)
    return { events: [], invalid: [{ where: 'the file', problem: jsonError(parsed.message) }] };
  return parseLines(body);
};

const formatOf = (file: string): InputFormat => {
  if (file === '-') return INPUT_FORMATS.auto;
  if (/\.json$/i.test(file)) return INPUT_FORMATS.json;
  if (/\.(ndjson|jsonl)$/i.test(file)) return INPUT_FORMATS.ndjson;
  return INPUT_FORMATS.auto;
};

const readStdin = async (stdin: AsyncIterable<string | Buffer>): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/** Options of {@link runPush}. */
interface PushOptions {
  /** A `.json` or `.ndjson` file, or `-` for standard input. */
  readonly file: string;
  /** Send to this queue instead of looking up the stage's ingest queue. */
  readonly queueUrl?: string;
  /** @default 'local' */
  readonly stage?: string;
  /** An SQS-compatible endpoint; the local stack's when neither a stage nor a queue URL says AWS. */
  readonly endpoint?: string;
  readonly region?: string;
}

/** Inputs and clients of {@link runPush}; tests inject them. */
interface PushDeps {
  readonly sqs?: SQSClient;
  readonly stdin?: AsyncIterable<string | Buffer>;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Where the events of a packed message were: `line 3`, or `line 3 to line 40 (30 events)`. */
const whereAll = (events: readonly FoundEvent[], failure: FailedPackedSend): string => {
  const [first = '', ...rest] = failure.items.map((item) => events[item]?.where ?? '');
  const last = rest.at(-1);
  return last === undefined ? first : `${first} to ${last} (${plural(rest.length + 1, 'event')})`;
};

/**
 * Validates and pushes the events of a file (or stdin). Exit codes: 0 every event sent; 1 some
 * were invalid (not sent) or refused by SQS; 2 usage (unreadable file, a bad --endpoint or
 * --queue-url, queue not found, SQS unreachable or not SQS).
 *
 * @example
 * process.exitCode = await runPush({ file: 'events.ndjson' }, consoleOutput);
 */
const runPush = async (
  options: PushOptions,
  output: CliOutput,
  deps: PushDeps = {},
): Promise<ExitCode> => {
  const { file } = options;
  const name = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text =
      file === '-' ? await readStdin(deps.stdin ?? process.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    output.err(
      `${name}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))})`,
    );
    return EXIT_CODES.usage;
  }
  const stage = options.stage ?? LOCAL_STAGE;
  try {
    assertStageName(stage);
  } catch (error) {
    if (!(error instanceof StageNameError)) throw error;
    output.err(error.message);
    return EXIT_CODES.usage;
  }

  const { events, invalid } = parseEventInput(text, formatOf(file));
  const total = events.length + invalid.length;
  if (total === 0) {
    output.err(`${name}: no events found`);
    return EXIT_CODES.usage;
  }
  const [onlyEntry] = invalid;
  if (total === 1 && onlyEntry !== undefined) {
    // One event, one line: what is wrong with it and that nothing was sent.
    output.err(`${name}: ${onlyEntry.where}: ${onlyEntry.problem}; nothing sent`);
    return EXIT_CODES.failed;
  }
  for (const entry of invalid) output.err(`${name}: ${entry.where}: ${entry.problem}`);
  if (events.length === 0) {
    output.err(`${name}: none of ${plural(total, 'event')} is valid; nothing sent`);
    return EXIT_CODES.failed;
  }

  const resolved = sqsTarget({ ...options, stage }, deps.sqs);
  if (!resolved.ok) {
    output.err(resolved.message);
    return EXIT_CODES.usage;
  }
  const { target } = resolved;
  try {
    let queueUrl: string;
    try {
      queueUrl = options.queueUrl ?? (await queueUrlByName(target, queueNames(stage).ingest));
    } catch (error) {
      if (!(error instanceof QueueLookupError)) throw error;
      output.err(error.message);
      return EXIT_CODES.usage;
    }
    const outcome = await sendPacked(
      target.sqs,
      queueUrl,
      events.map((found) => ({
        name: `audit_id ${found.event.audit_id}`,
        json: JSON.stringify(found.event),
      })),
      { maxItems: EVENTS_PER_PACKED_MESSAGE },
    );
    if (!outcome.ok) {
      // Not after validation (an event is at most MAX_EVENT_BYTES); named all the same.
      const where = events[outcome.item]?.where ?? 'an event';
      output.err(`${name}: ${where}: ${outcome.message}; nothing sent`);
      return EXIT_CODES.failed;
    }
    const sent = outcome.sent.length;
    const [firstFailure] = outcome.failed;
    if (sent === 0 && firstFailure?.requestError !== undefined) {
      // Not one request went through: the target is wrong, not the events; say so once.
      output.err(`${name}: nothing sent: ${describeSqsError(firstFailure.requestError, target)}`);
      return EXIT_CODES.usage;
    }
    for (const failure of outcome.failed) {
      const where = whereAll(events, failure);
      output.err(
        failure.requestError === undefined
          ? `${name}: ${where}: refused by SQS (${failure.code}): ${failure.message}`
          : `${name}: ${where}: not sent: ${describeSqsError(failure.requestError, target)}`,
      );
    }
    const refused = events.length - sent;
    output.out(
      `pushed ${sent} of ${plural(total, 'event')} to ${queueUrl} (${invalid.length} invalid, ${refused} refused)`,
    );
    return sent === total ? EXIT_CODES.ok : EXIT_CODES.failed;
  } finally {
    target.close();
  }
};

/** The `push` command. */
const pushCommand = (): Command =>
  new Command('push')
    .description(
      'validate audit events and push them onto the ingest queue (local stack by default)',
    )
    .argument('<file>', 'a .json file (one event or an array), a .ndjson file, or - for stdin')
    .option('--endpoint <url>', 'SQS endpoint (default: the local stack, http://127.0.0.1:4566)')
    .option(
      '--queue-url <url>',
      'push to this queue (e.g. a deployed stage, standard AWS credentials)',
    )
    .option(
      '-s, --stage <name>',
      "push to this deployed stage's ingest queue (standard AWS credentials)",
    )
    .option(
      '--region <region>',
      'AWS region (default: from the queue URL or the standard AWS chain)',
    )
    .action(
      async (
        file: string,
        options: { endpoint?: string; queueUrl?: string; stage?: string; region?: string },
      ) => {
        process.exitCode = await runPush({ file, ...options }, consoleOutput);
      },
    );

export type { FoundEvent, InputFormat, InvalidEntry, ParsedInput, PushDeps, PushOptions };
export { INPUT_FORMATS, parseEventInput, pushCommand, runPush };
