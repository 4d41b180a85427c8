/**
 * `dlq list | show <id> | redrive [id]`: the dead-letter archive of a stage. `list` prints a
 * table without consuming anything, `show` prints one dead letter as JSON, `redrive` replays
 * dead letters onto their export's delivery queue with a fresh attempt count. The local stack
 * by default; `--stage <name>` for a deployed stage (standard AWS credentials).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { LOCAL_STAGE } from '../local/constants.js';
import {
  type ArchivedDeadLetter,
  listDeadLetters,
  redriveDeadLetters,
  showDeadLetter,
} from '../shared/pipeline/deadLetters/archive.js';
import { assertStageName, queueNames, StageNameError } from '../shared/sqs/queueNames.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';
import {
  describeSqsError,
  QueueLookupError,
  queueUrlByName,
  type SqsTarget,
  sqsTarget,
} from './sqsTarget.js';

const DLQ_ACTIONS = { list: 'list', show: 'show', redrive: 'redrive' } as const;
type DlqAction = (typeof DLQ_ACTIONS)[keyof typeof DLQ_ACTIONS];

/** Options of {@link runDlq}. */
interface DlqOptions {
  readonly action: DlqAction;
  /** `show`: required; `redrive`: only this one (delivery_id, audit_id or message id). */
  readonly id?: string;
  readonly export?: string;
  /** @default 'local' */
  readonly stage?: string;
  readonly endpoint?: string;
  readonly region?: string;
}

/** Clients of {@link runDlq}; tests inject them. */
interface DlqDeps {
  readonly sqs?: SQSClient;
  /** Visibility timeout while reading the archive, in seconds. @default 60 */
  readonly visibilitySeconds?: number;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

const TABLE_HEADINGS = [
  'EXPORT',
  'AUDIT_ID',
  'ATTEMPTS',
  'LAST STATUS',
  'REASON',
  'ALERT',
  'DEAD-LETTERED AT',
] as const;

const tableRow = (entry: ArchivedDeadLetter): string[] => {
  const deadLetter = entry.deadLetter;
  return [
    entry.export,
    entry.auditId ?? '-',
    deadLetter === undefined ? '-' : String(deadLetter.attempts),
    deadLetter?.last_status === undefined
      ? (deadLetter?.error_class ?? '-')
      : String(deadLetter.last_status),
    entry.reason,
    entry.alert,
    entry.archivedAt ?? '-',
  ];
};

/** Rows padded into columns two spaces apart; the last column is not padded. */
const formatTable = (rows: readonly (readonly string[])[]): string[] => {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === row.length - 1 ? cell : cell.padEnd(widths?.[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
};

/**
 * What `show` prints for an entry: the dead letter with whether its `webhook.dlq` alert was
 * raised (an archive attribute, not part of the letter), or the raw message when malformed.
 */
const showable = (entry: ArchivedDeadLetter): unknown =>
  (entry.deadLetter && { ...entry.deadLetter, alert: entry.alert }) ?? {
    message_id: entry.messageId,
    reason: entry.reason,
    alert: entry.alert,
    attributes: entry.attributes,
    archived_at: entry.archivedAt,
    body: entry.body,
  };

const runList = async (
  target: SqsTarget,
  archiveUrl: string,
  options: DlqOptions,
  deps: DlqDeps,
  output: CliOutput,
): Promise<ExitCode> => {
  const { deadLetters, complete } = await listDeadLetters(target.sqs, archiveUrl, {
    ...(options.export === undefined ? {} : { export: options.export }),
    ...(deps.visibilitySeconds === undefined ? {} : { visibilitySeconds: deps.visibilitySeconds }),
  });
  const scope = options.export === undefined ? '' : ` for export ${options.export}`;
  if (deadLetters.length === 0) {
    output.out(`no dead letters${scope} in ${archiveUrl}`);
  } else {
    for (const line of formatTable([TABLE_HEADINGS, ...deadLetters.map(tableRow)])) {
      output.out(line);
    }
    output.out('');
    output.out(`${plural(deadLetters.length, 'dead letter')}${scope} in ${archiveUrl}`);
    output.out('details: npm run dlq -- show <audit_id>; replay: npm run dlq -- redrive');
  }
  if (!complete) {
    output.err('WARNING: the listing stopped early; more dead letters may exist (run it again)');
  }
  return EXIT_CODES.ok;
};

const runShow = async (
  target: SqsTarget,
  archiveUrl: string,
  id: string,
  deps: DlqDeps,
  output: CliOutput,
): Promise<ExitCode> => {
  const matches = await showDeadLetter(target.sqs, archiveUrl, id, {
    ...(deps.visibilitySeconds === undefined ? {} : { visibilitySeconds: deps.visibilitySeconds }),
  });
  if (matches.length === 0) {
    output.err(
      `no dead letter with delivery_id, audit_id or message id "${id}" in ${archiveUrl}; list them with npm run dlq -- list`,
    );
    return EXIT_CODES.failed;
  }
  if (matches.length === 1) {
    output.out(JSON.stringify(showable(matches[0] as ArchivedDeadLetter), null, 2));
  } else {
    output.err(`${matches.length} dead letters match "${id}" (one per export): printing them all`);
    output.out(JSON.stringify(matches.map(showable), null, 2));
  }
  return EXIT_CODES.ok;
};

const runRedrive = async (
  target: SqsTarget,
  archiveUrl: string,
  options: DlqOptions & { readonly stage: string },
  deps: DlqDeps,
  output: CliOutput,
): Promise<ExitCode> => {
  const names = queueNames(options.stage);
  const urls = new Map<string, Promise<string>>();
  const deliveryQueueUrlFor = (exportName: string): Promise<string> => {
    let url = urls.get(exportName);
    if (!url) {
      url = queueUrlByName(target, names.delivery(exportName));
      urls.set(exportName, url);
    }
    return url;
  };
  const outcome = await redriveDeadLetters(target.sqs, archiveUrl, deliveryQueueUrlFor, {
    ...(options.export === undefined ? {} : { export: options.export }),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(deps.visibilitySeconds === undefined ? {} : { visibilitySeconds: deps.visibilitySeconds }),
  });
  const perExport = new Map<string, number>();
  for (const entry of outcome.redriven) {
    perExport.set(entry.export, (perExport.get(entry.export) ?? 0) + 1);
  }
  const detail = [...perExport].map(([name, count]) => `${name}: ${count}`).join(', ');
  const total = outcome.redriven.length + outcome.skipped.length + outcome.failed.length;
  if (total === 0) {
    output.out(`nothing to redrive in ${archiveUrl}`);
  } else {
    output.out(
      `redriven ${plural(outcome.redriven.length, 'dead letter')} to their delivery queues${detail ? ` (${detail})` : ''}, attempts reset to 0`,
    );
  }
  for (const entry of outcome.skipped) {
    output.err(
      `skipped message ${entry.messageId} (export ${entry.export}): malformed, nothing to replay; see npm run dlq -- show ${entry.messageId}`,
    );
  }
  for (const { deadLetter, why } of outcome.failed) {
    output.err(
      `not redriven: ${deadLetter.export} ${deadLetter.auditId ?? deadLetter.messageId}: ${why} (it stays in the archive)`,
    );
  }
  for (const entry of outcome.notDeleted) {
    output.err(
      `WARNING: ${entry.export} ${entry.auditId ?? entry.messageId} was replayed but could not be deleted from the archive; do not redrive it again`,
    );
  }
  if (!outcome.complete) {
    output.err('WARNING: the archive was not read to its end; run redrive again for the rest');
  }
  return outcome.failed.length > 0 || outcome.notDeleted.length > 0
    ? EXIT_CODES.failed
    : EXIT_CODES.ok;
};

/**
 * Runs one `dlq` action. Exit codes: 0 done; 1 `show` found nothing, or `redrive` could not
 * replay everything; 2 usage (bad stage, archive queue not found or unreachable).
 *
 * @example
 * process.exitCode = await runDlq({ action: 'list', export: 'pagerduty-alerts' }, consoleOutput);
 */
const runDlq = async (
  options: DlqOptions,
  output: CliOutput,
  deps: DlqDeps = {},
): Promise<ExitCode> => {
  const stage = options.stage ?? LOCAL_STAGE;
  try {
    assertStageName(stage);
  } catch (error) {
    if (!(error instanceof StageNameError)) throw error;
    output.err(error.message);
    return EXIT_CODES.usage;
  }
  if (options.action === DLQ_ACTIONS.show && options.id === undefined) {
    output.err('dlq show needs an id: a delivery_id, an audit_id or a message id');
    return EXIT_CODES.usage;
  }
  const resolved = sqsTarget({ ...options, stage }, deps.sqs);
  if (!resolved.ok) {
    output.err(resolved.message);
    return EXIT_CODES.usage;
  }
  const { target } = resolved;
  try {
    let archiveUrl: string;
    try {
      archiveUrl = await queueUrlByName(target, queueNames(stage).deadLetters);
    } catch (error) {
      if (!(error instanceof QueueLookupError)) throw error;
      output.err(error.message);
      return EXIT_CODES.usage;
    }
    try {
      if (options.action === DLQ_ACTIONS.list) {
        return await runList(target, archiveUrl, options, deps, output);
      }
      if (options.action === DLQ_ACTIONS.show) {
        return await runShow(target, archiveUrl, options.id ?? '', deps, output);
      }
      return await runRedrive(target, archiveUrl, { ...options, stage }, deps, output);
    } catch (error) {
      // An SQS failure half-way: what was received reappears after its visibility timeout.
      output.err(describeSqsError(error, target));
      return EXIT_CODES.failed;
    }
  } finally {
    target.close();
  }
};

interface TargetFlags {
  export?: string;
  stage?: string;
  endpoint?: string;
  region?: string;
}

/** The options every `dlq` subcommand takes. */
const withTargetOptions = (command: Command): Command =>
  command
    .option('-e, --export <name>', 'only the dead letters of this export')
    .option(
      '-s, --stage <name>',
      'the stage; "local" (default) is the local stack, others are on AWS',
      LOCAL_STAGE,
    )
    .option('--endpoint <url>', 'SQS endpoint (default for the local stage: http://127.0.0.1:4566)')
    .option('--region <region>', 'AWS region of the stage (default: the standard AWS chain)');

/** The `dlq` command and its `list`, `show` and `redrive` subcommands. */
const dlqCommand = (): Command => {
  const command = new Command('dlq').description(
    "inspect and replay a stage's dead letters (the dead-letter archive, kept 14 days)",
  );
  command.addCommand(
    withTargetOptions(
      new Command('list').description(
        'print a table of dead letters (export, audit_id, attempts, last status, reason, time); consumes nothing',
      ),
    ).action(async (flags: TargetFlags) => {
      process.exitCode = await runDlq({ action: DLQ_ACTIONS.list, ...flags }, consoleOutput);
    }),
  );
  command.addCommand(
    withTargetOptions(
      new Command('show')
        .description('print one dead letter as JSON')
        .argument('<id>', 'a delivery_id, an audit_id or an SQS message id'),
    ).action(async (id: string, flags: TargetFlags) => {
      process.exitCode = await runDlq({ action: DLQ_ACTIONS.show, id, ...flags }, consoleOutput);
    }),
  );
  command.addCommand(
    withTargetOptions(
      new Command('redrive')
        .description(
          "replay dead letters onto their export's delivery queue (attempts reset, same delivery_id), then remove them from the archive",
        )
        .argument('[id]', 'only this dead letter (a delivery_id, an audit_id or a message id)'),
    ).action(async (id: string | undefined, flags: TargetFlags) => {
      process.exitCode = await runDlq(
        { action: DLQ_ACTIONS.redrive, ...(id === undefined ? {} : { id }), ...flags },
        consoleOutput,
      );
    }),
  );
  return command;
};

export type { DlqAction, DlqDeps, DlqOptions };
export { DLQ_ACTIONS, dlqCommand, formatTable, runDlq };
